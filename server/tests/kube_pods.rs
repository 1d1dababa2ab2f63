//! The Kubernetes runner's pod and volume management against a mock API server
//! that checks every request and answers as Kubernetes does (the tower-test
//! verifier pattern): no cluster can run on these machines.

mod common;

use common::kube_api::{
    created_then, pod, pods_path, pvcs_path, settings, status, volume_there_pod_missing, waiting,
    ApiServer, NS,
};
use http::{Request, Response};
use kube::client::Body;
use serde_json::json;
use server::runner::kube::pods::Pods;
use server::runner::SessionRef;
use std::sync::{Arc, Mutex};
use tower_test::mock;
use uuid::Uuid;

fn session() -> SessionRef {
    SessionRef {
        uuid: Uuid::new_v4(),
        id: 3,
        user: 42,
        language: app::wire::sessions::Language::Python,
    }
}

fn start() -> (Pods, ApiServer, Arc<Mutex<Vec<String>>>) {
    let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
    let client = kube::Client::new(service, NS);
    (
        Pods::new(client, settings()),
        ApiServer(handle),
        Arc::new(Mutex::new(Vec::new())),
    )
}

/// The runner's side: `ensure` with its progress recorded.
fn ensure(
    pods: Pods,
    s: SessionRef,
    said: Arc<Mutex<Vec<String>>>,
) -> tokio::task::JoinHandle<Result<(), String>> {
    tokio::spawn(async move {
        let progress = move |m: &str| said.lock().unwrap().push(m.to_string());
        pods.ensure(s, &progress).await.map_err(|e| e.to_string())
    })
}

#[tokio::test]
async fn makes_the_volume_and_pod_and_waits_for_running() {
    let (pods, mut api, said) = start();
    let s = session();
    let task = ensure(pods, s, said.clone());

    let (req, send) = api.next("POST", &pvcs_path()).await;
    let pvc = ApiServer::json(req).await;
    assert_eq!(pvc["metadata"]["name"], format!("workspace-{}", s.uuid));
    assert_eq!(
        pvc["metadata"]["labels"]["webide.dev/session"],
        s.uuid.to_string()
    );
    assert_eq!(pvc["metadata"]["labels"]["webide.dev/user"], "42");
    assert_eq!(pvc["spec"]["resources"]["requests"]["storage"], "1Gi");
    assert_eq!(pvc["spec"]["storageClassName"], "fast");
    assert_eq!(pvc["spec"]["accessModes"], json!(["ReadWriteOnce"]));
    ApiServer::answer(send, 201, &pvc);

    let (_, send) = api
        .next("GET", &format!("{}/exec-{}", pods_path(), s.uuid))
        .await;
    ApiServer::answer(send, 404, &status(404, "NotFound", "not found"));

    let (req, send) = api.next("POST", &pods_path()).await;
    let p = ApiServer::json(req).await;
    let spec = &p["spec"];
    let c = &spec["containers"][0];
    assert_eq!(p["metadata"]["name"], format!("exec-{}", s.uuid));
    assert_eq!(p["metadata"]["labels"]["app"], "webide-exec");
    assert_eq!(spec["automountServiceAccountToken"], false);
    assert_eq!(spec["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        spec["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    assert_eq!(c["image"], "webide/exec-python:1");
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(c["securityContext"]["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(
        c["resources"]["limits"],
        json!({"cpu": "1", "memory": "1Gi", "ephemeral-storage": "1Gi"})
    );
    assert_eq!(
        c["resources"]["requests"],
        json!({"cpu": "250m", "memory": "256Mi", "ephemeral-storage": "64Mi"})
    );
    // A read-only root: the workspace, /tmp and home are the writable places,
    // the last two of bounded size.
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(
        c["volumeMounts"],
        json!([
            {"name": "workspace", "mountPath": "/app"},
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "home", "mountPath": "/home/user"},
        ])
    );
    assert_eq!(
        spec["volumes"][0]["persistentVolumeClaim"]["claimName"],
        format!("workspace-{}", s.uuid)
    );
    assert_eq!(spec["volumes"][1]["emptyDir"]["sizeLimit"], "512Mi");
    assert_eq!(spec["volumes"][2]["emptyDir"]["sizeLimit"], "256Mi");
    ApiServer::answer(send, 201, &p);

    let (req, send) = api.next("GET", &pods_path()).await;
    let query = req.uri().query().unwrap().to_string();
    assert!(query.contains("watch=true"), "{query}");
    assert!(
        query.contains(&format!("fieldSelector=metadata.name%3Dexec-{}", s.uuid)),
        "{query}"
    );
    ApiServer::stream(
        send,
        &[
            json!({"type": "ADDED", "object": pod(s, json!({"phase": "Pending"}))}),
            json!({"type": "MODIFIED", "object": pod(s, waiting("ContainerCreating", ""))}),
            json!({"type": "MODIFIED", "object": pod(s, json!({"phase": "Running"}))}),
        ],
    );
    task.await.unwrap().expect("the sandbox runs");
    assert_eq!(
        *said.lock().unwrap(),
        [
            "workspace volume created",
            "creating the sandbox",
            "waiting to be scheduled",
            "pulling the image and starting",
            "sandbox running"
        ]
    );
}

#[tokio::test]
async fn a_running_pod_is_reused() {
    let (pods, mut api, said) = start();
    let s = session();
    let task = ensure(pods, s, said.clone());
    let (_, send) = api.next("POST", &pvcs_path()).await;
    ApiServer::answer(send, 409, &status(409, "AlreadyExists", "already exists"));
    let (_, send) = api
        .next("GET", &format!("{}/exec-{}", pods_path(), s.uuid))
        .await;
    ApiServer::answer(send, 200, &pod(s, json!({"phase": "Running"})));
    task.await.unwrap().expect("reused");
    assert!(said.lock().unwrap().is_empty());
}

#[tokio::test]
async fn image_pull_errors_fail_fast() {
    let (pods, mut api, said) = start();
    let s = session();
    let task = ensure(pods, s, said);
    let pulling = waiting(
        "ErrImagePull",
        "manifest for webide/exec-python:1 not found",
    );
    created_then(&mut api, s, pulling).await;
    let err = task.await.unwrap().unwrap_err();
    assert!(
        err.contains("ErrImagePull") && err.contains("manifest"),
        "{err}"
    );
}

#[tokio::test]
async fn unschedulable_pods_fail_fast() {
    let (pods, mut api, said) = start();
    let s = session();
    let task = ensure(pods, s, said);
    let stuck = json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
        "reason": "Unschedulable", "message": "0/3 nodes are available: 3 Insufficient memory."}]});
    created_then(&mut api, s, stuck).await;
    let err = task.await.unwrap().unwrap_err();
    let expected =
        err.contains("no node can take the sandbox") && err.contains("Insufficient memory");
    assert!(expected, "{err}");
}

#[tokio::test]
async fn quota_refusals_say_so() {
    let (pods, mut api, said) = start();
    let s = session();
    let task = ensure(pods, s, said);
    volume_there_pod_missing(&mut api, s).await;
    let (_, send) = api.next("POST", &pods_path()).await;
    let refusal = status(
        403,
        "Forbidden",
        "pods \"exec-x\" is forbidden: exceeded quota: compute, requested: limits.memory=1Gi",
    );
    ApiServer::answer(send, 403, &refusal);
    let err = task.await.unwrap().unwrap_err();
    assert!(
        err.contains("resource quota") && err.contains("limits.memory"),
        "{err}"
    );
}

#[tokio::test]
async fn an_evicted_pod_is_replaced() {
    let (pods, mut api, said) = start();
    let s = session();
    let task = ensure(pods, s, said.clone());
    let (_, send) = api.next("POST", &pvcs_path()).await;
    ApiServer::answer(send, 409, &status(409, "AlreadyExists", "already exists"));
    let name = format!("{}/exec-{}", pods_path(), s.uuid);
    let (_, send) = api.next("GET", &name).await;
    let evicted = json!({"phase": "Failed", "reason": "Evicted", "message": "low on memory"});
    ApiServer::answer(send, 200, &pod(s, evicted));
    let (_, send) = api.next("DELETE", &name).await;
    ApiServer::answer(send, 200, &pod(s, json!({"phase": "Failed"})));
    let (_, send) = api.next("GET", &name).await;
    ApiServer::answer(send, 404, &status(404, "NotFound", "not found"));
    let (req, send) = api.next("POST", &pods_path()).await;
    ApiServer::answer(send, 201, &ApiServer::json(req).await);
    let (_, send) = api.next("GET", &pods_path()).await;
    ApiServer::stream(
        send,
        &[json!({"type": "MODIFIED", "object": pod(s, json!({"phase": "Running"}))})],
    );
    task.await.unwrap().expect("replaced");
    assert!(said.lock().unwrap()[0].contains("previous sandbox stopped"));
}

#[tokio::test]
async fn an_unreachable_api_server_says_so() {
    let (pods, mut api, said) = start();
    let task = ensure(pods, session(), said);
    let (_, send) = api.next("POST", &pvcs_path()).await;
    send.send_error(std::io::Error::new(
        std::io::ErrorKind::ConnectionRefused,
        "connection refused",
    ));
    let err = task.await.unwrap().unwrap_err();
    assert!(err.contains("cannot be reached"), "{err}");
}

#[tokio::test]
async fn finds_and_deletes_what_sessions_left() {
    let (pods, mut api, _) = start();
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let pods = Arc::new(pods);
    let p = pods.clone();
    let task = tokio::spawn(async move { p.sessions().await.map_err(|e| e.to_string()) });
    let (req, send) = api.next("GET", &pods_path()).await;
    assert!(req
        .uri()
        .query()
        .unwrap()
        .contains("labelSelector=app%3Dwebide-exec"));
    ApiServer::answer(
        send,
        200,
        &json!({"apiVersion": "v1", "kind": "PodList", "metadata": {},
        "items": [{"metadata": {"name": format!("exec-{a}")}}]}),
    );
    let (_, send) = api.next("GET", &pvcs_path()).await;
    ApiServer::answer(
        send,
        200,
        &json!({"apiVersion": "v1", "kind": "PersistentVolumeClaimList",
        "metadata": {}, "items": [{"metadata": {"name": format!("workspace-{a}")}},
                                  {"metadata": {"name": format!("workspace-{b}")}}]}),
    );
    let mut found = task.await.unwrap().unwrap();
    found.sort();
    let mut want = vec![a, b];
    want.sort();
    assert_eq!(found, want);

    let p = pods.clone();
    let task = tokio::spawn(async move { p.delete_all(b).await.map_err(|e| e.to_string()) });
    let (_, send) = api
        .next("DELETE", &format!("{}/exec-{b}", pods_path()))
        .await;
    ApiServer::answer(send, 404, &status(404, "NotFound", "not found"));
    let (_, send) = api
        .next("DELETE", &format!("{}/workspace-{b}", pvcs_path()))
        .await;
    ApiServer::answer(
        send,
        200,
        &json!({"kind": "Status", "apiVersion": "v1", "status": "Success"}),
    );
    task.await.unwrap().unwrap();
}
