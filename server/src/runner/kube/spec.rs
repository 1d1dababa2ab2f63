//! The exec pod and workspace volume of a session, as typed objects.

use super::names;
use crate::runner::SessionRef;
use k8s_openapi::api::core::v1::{
    Capabilities, Container, EmptyDirVolumeSource, PersistentVolumeClaim,
    PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource, Pod, PodSecurityContext, PodSpec,
    ResourceRequirements, SeccompProfile, SecurityContext, Volume, VolumeMount,
    VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeMap;
use std::time::Duration;

/// Where and how the kube runner makes sandboxes.
#[derive(Debug, Clone)]
pub struct KubeSettings {
    pub namespace: String,
    /// The image for sessions of a language without one of its own in `images`.
    pub image: String,
    /// Images by language id (`python`, `javascript`, …).
    pub images: BTreeMap<String, String>,
    pub storage_class: Option<String>,
    pub volume_size: String,
    pub cpu_request: String,
    pub cpu_limit: String,
    pub memory_request: String,
    pub memory_limit: String,
    /// How long a pod may take from creation to running.
    pub start_timeout: Duration,
}

/// The unprivileged user of the exec image.
const USER_ID: i64 = 1000;

/// The root filesystem is read-only: these are the writable places besides the
/// workspace, each with its size bounded (name, mount, size).
const SCRATCH: [(&str, &str, &str); 2] =
    [("tmp", "/tmp", "512Mi"), ("home", "/home/user", "256Mi")];
/// The pod's local disk in all: the scratch volumes and its logs.
const EPHEMERAL_STORAGE: (&str, &str) = ("64Mi", "1Gi");

fn meta(name: String, s: SessionRef, namespace: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: Some(namespace.to_string()),
        labels: Some(names::labels(s.uuid, s.user)),
        ..Default::default()
    }
}

fn quantities<const N: usize>(pairs: [(&str, &str); N]) -> BTreeMap<String, Quantity> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
        .collect()
}

pub fn pvc(k: &KubeSettings, s: SessionRef) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        metadata: meta(names::pvc(s.uuid), s, &k.namespace),
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            storage_class_name: k.storage_class.clone(),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_string(),
                    Quantity(k.volume_size.clone()),
                )])),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub fn pod(k: &KubeSettings, s: SessionRef) -> Pod {
    Pod {
        metadata: meta(names::pod(s.uuid), s, &k.namespace),
        spec: Some(PodSpec {
            // Users' code gets no credentials to the cluster.
            automount_service_account_token: Some(false),
            enable_service_links: Some(false),
            restart_policy: Some("Always".into()),
            termination_grace_period_seconds: Some(2),
            security_context: Some(PodSecurityContext {
                run_as_non_root: Some(true),
                run_as_user: Some(USER_ID),
                run_as_group: Some(USER_ID),
                fs_group: Some(USER_ID),
                seccomp_profile: Some(SeccompProfile {
                    type_: "RuntimeDefault".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            containers: vec![Container {
                name: "sandbox".into(),
                image: Some(k.images.get(s.language.id()).unwrap_or(&k.image).clone()),
                command: Some(vec!["sleep".into(), "infinity".into()]),
                working_dir: Some("/app".into()),
                resources: Some(ResourceRequirements {
                    requests: Some(quantities([
                        ("cpu", &k.cpu_request),
                        ("memory", &k.memory_request),
                        ("ephemeral-storage", EPHEMERAL_STORAGE.0),
                    ])),
                    limits: Some(quantities([
                        ("cpu", &k.cpu_limit),
                        ("memory", &k.memory_limit),
                        ("ephemeral-storage", EPHEMERAL_STORAGE.1),
                    ])),
                    ..Default::default()
                }),
                security_context: Some(SecurityContext {
                    allow_privilege_escalation: Some(false),
                    privileged: Some(false),
                    run_as_non_root: Some(true),
                    read_only_root_filesystem: Some(true),
                    capabilities: Some(Capabilities {
                        drop: Some(vec!["ALL".into()]),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                volume_mounts: Some(
                    std::iter::once(("workspace", "/app"))
                        .chain(SCRATCH.map(|(name, path, _)| (name, path)))
                        .map(|(name, path)| VolumeMount {
                            name: name.into(),
                            mount_path: path.into(),
                            ..Default::default()
                        })
                        .collect(),
                ),
                ..Default::default()
            }],
            volumes: Some(
                std::iter::once(Volume {
                    name: "workspace".into(),
                    persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                        claim_name: names::pvc(s.uuid),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .chain(SCRATCH.map(|(name, _, size)| Volume {
                    name: name.into(),
                    empty_dir: Some(EmptyDirVolumeSource {
                        size_limit: Some(Quantity(size.into())),
                        ..Default::default()
                    }),
                    ..Default::default()
                }))
                .collect(),
            ),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::wire::sessions::Language;

    #[test]
    fn the_image_follows_the_language() {
        let k = KubeSettings {
            namespace: "ns".into(),
            image: "exec-python".into(),
            images: [("javascript".to_string(), "exec-node".to_string())].into(),
            storage_class: None,
            volume_size: "1Gi".into(),
            cpu_request: "1".into(),
            cpu_limit: "1".into(),
            memory_request: "1Gi".into(),
            memory_limit: "1Gi".into(),
            start_timeout: Duration::from_secs(1),
        };
        let image = |language| {
            let s = SessionRef {
                uuid: uuid::Uuid::new_v4(),
                id: 1,
                user: 1,
                language,
            };
            pod(&k, s).spec.unwrap().containers[0]
                .image
                .clone()
                .unwrap()
        };
        assert_eq!(image(Language::Javascript), "exec-node");
        assert_eq!(image(Language::Go), "exec-python");
    }
}
