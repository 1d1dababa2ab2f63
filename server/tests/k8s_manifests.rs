//! Every manifest in `k8s/` parses into typed Kubernetes objects, and the RBAC
//! role and the network policy say what the deployment promises.

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use serde::Deserialize;
use std::path::Path;

#[derive(Default)]
struct Objects {
    namespaces: Vec<Namespace>,
    accounts: Vec<ServiceAccount>,
    roles: Vec<Role>,
    bindings: Vec<RoleBinding>,
    config_maps: Vec<ConfigMap>,
    secrets: Vec<Secret>,
    deployments: Vec<Deployment>,
    stateful_sets: Vec<StatefulSet>,
    services: Vec<Service>,
    autoscalers: Vec<HorizontalPodAutoscaler>,
    policies: Vec<NetworkPolicy>,
}

fn typed<T: serde::de::DeserializeOwned>(doc: serde_yaml::Value, file: &str) -> T {
    serde_yaml::from_value(doc).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Every object of every file that kustomization.yaml lists.
fn load() -> Objects {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../k8s");
    let kustomization: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap())
            .unwrap();
    let mut all = Objects::default();
    let resources = kustomization["resources"].as_sequence().expect("resources");
    for file in resources.iter().map(|r| r.as_str().unwrap()) {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let doc = serde_yaml::Value::deserialize(doc).unwrap();
            let kind = doc["kind"].as_str().unwrap_or_default().to_string();
            assert_eq!(
                doc["metadata"]["namespace"]
                    .as_str()
                    .or(doc["metadata"]["name"].as_str()),
                Some("coding-platform"),
                "{file}: {kind} outside the namespace"
            );
            match kind.as_str() {
                "Namespace" => all.namespaces.push(typed(doc, file)),
                "ServiceAccount" => all.accounts.push(typed(doc, file)),
                "Role" => all.roles.push(typed(doc, file)),
                "RoleBinding" => all.bindings.push(typed(doc, file)),
                "ConfigMap" => all.config_maps.push(typed(doc, file)),
                "Secret" => all.secrets.push(typed(doc, file)),
                "Deployment" => all.deployments.push(typed(doc, file)),
                "StatefulSet" => all.stateful_sets.push(typed(doc, file)),
                "Service" => all.services.push(typed(doc, file)),
                "HorizontalPodAutoscaler" => all.autoscalers.push(typed(doc, file)),
                "NetworkPolicy" => all.policies.push(typed(doc, file)),
                other => panic!("{file}: unexpected kind {other:?}"),
            }
        }
    }
    all
}

#[test]
fn the_backend_may_manage_exec_pods_and_volumes_only() {
    let all = load();
    assert_eq!(all.roles.len(), 1);
    let rules = all.roles[0].rules.clone().unwrap();
    let mut resources: Vec<String> = rules
        .iter()
        .flat_map(|r| {
            assert_eq!(
                r.api_groups.as_deref(),
                Some(&[String::new()][..]),
                "core group only"
            );
            r.resources.clone().unwrap()
        })
        .collect();
    resources.sort();
    assert_eq!(
        resources,
        ["persistentvolumeclaims", "pods", "pods/exec", "pods/log"]
    );
    for r in &rules {
        let verbs = r.verbs.clone();
        assert!(
            !verbs
                .iter()
                .any(|v| v == "*" || v == "update" || v == "patch"),
            "{verbs:?}"
        );
    }
    let binding = &all.bindings[0];
    assert_eq!(binding.role_ref.kind, "Role");
    let subject = &binding.subjects.as_ref().unwrap()[0];
    assert_eq!(subject.kind, "ServiceAccount");
    assert_eq!(subject.name, all.accounts[0].metadata.name.clone().unwrap());
    let pod = all.deployments[0]
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap();
    assert_eq!(pod.service_account_name, all.accounts[0].metadata.name);
}

#[test]
fn exec_pods_get_no_egress_and_ingress_from_the_backend_only() {
    let all = load();
    assert_eq!(all.policies.len(), 1);
    let spec = all.policies[0].spec.clone().unwrap();
    let selected = spec.pod_selector.unwrap().match_labels.unwrap();
    assert_eq!(selected["app"], "webide-exec");
    assert_eq!(spec.policy_types.unwrap(), ["Ingress", "Egress"]);
    assert_eq!(spec.egress.unwrap_or_default().len(), 0, "no egress at all");
    let ingress = spec.ingress.unwrap();
    assert_eq!(ingress.len(), 1);
    let from = ingress[0].from.clone().unwrap();
    assert_eq!(from.len(), 1);
    let backend = from[0].pod_selector.clone().unwrap().match_labels.unwrap();
    assert_eq!(backend["app"], "webide-backend");
    // The backend's pods carry that label.
    let labels = all.deployments[0]
        .spec
        .as_ref()
        .unwrap()
        .template
        .metadata
        .clone()
        .unwrap()
        .labels
        .unwrap();
    assert_eq!(labels["app"], "webide-backend");
}

#[test]
fn the_backend_scales_and_is_probed() {
    let all = load();
    let d = all.deployments[0].spec.clone().unwrap();
    assert_eq!(d.replicas, Some(2));
    let c = &d.template.spec.unwrap().containers[0];
    let path = |p: &Option<k8s_openapi::api::core::v1::Probe>| {
        p.as_ref()
            .unwrap()
            .http_get
            .as_ref()
            .unwrap()
            .path
            .clone()
            .unwrap()
    };
    assert_eq!(path(&c.readiness_probe), "/readyz");
    assert_eq!(path(&c.liveness_probe), "/healthz");
    assert!(c.resources.as_ref().unwrap().limits.is_some());
    let hpa = all.autoscalers[0].spec.clone().unwrap();
    assert_eq!((hpa.min_replicas, hpa.max_replicas), (Some(2), 10));
    assert_eq!(
        hpa.metrics.unwrap()[0].resource.as_ref().unwrap().name,
        "cpu"
    );
    assert!(all
        .services
        .iter()
        .any(|s| s.spec.as_ref().unwrap().type_.as_deref() == Some("LoadBalancer")));
    let pg = all.stateful_sets[0].spec.clone().unwrap();
    assert_eq!(pg.volume_claim_templates.unwrap().len(), 1);
    assert_eq!(all.namespaces.len(), 1);
    assert!(!all.config_maps.is_empty() && !all.secrets.is_empty());
}
