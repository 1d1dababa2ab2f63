//! A mock Kubernetes API server for the kube runner's tests: it checks each
//! request (method, path, query, body) and answers as Kubernetes does, after the
//! tower-test verifier pattern.

use http::{Request, Response};
use http_body_util::BodyExt;
use kube::client::Body;
use serde_json::{json, Value};
use server::runner::kube::spec::KubeSettings;
use server::runner::SessionRef;
use std::time::Duration;
use tower_test::mock::{Handle, SendResponse};

pub const NS: &str = "coding-platform";

pub fn settings() -> KubeSettings {
    KubeSettings {
        namespace: NS.into(),
        image: "webide/exec-python:1".into(),
        images: [("javascript".to_string(), "webide/exec-node:1".to_string())].into(),
        storage_class: Some("fast".into()),
        volume_size: "1Gi".into(),
        cpu_request: "250m".into(),
        cpu_limit: "1".into(),
        memory_request: "256Mi".into(),
        memory_limit: "1Gi".into(),
        start_timeout: Duration::from_secs(20),
    }
}

/// The API server's side of the mock: each call takes the next request, checks
/// it, and answers.
pub struct ApiServer(pub Handle<Request<Body>, Response<Body>>);

pub type Reply = SendResponse<Response<Body>>;

impl ApiServer {
    pub async fn next(&mut self, method: &str, path: &str) -> (Request<Body>, Reply) {
        let (req, send) = tokio::time::timeout(Duration::from_secs(10), self.0.next_request())
            .await
            .expect("the runner made no request")
            .expect("a request");
        assert_eq!(req.method().as_str(), method, "{}", req.uri());
        assert_eq!(req.uri().path(), path, "{}", req.uri());
        (req, send)
    }

    pub async fn json(req: Request<Body>) -> Value {
        let bytes = req.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    pub fn answer(send: Reply, status: u16, body: &Value) {
        send.send_response(
            Response::builder()
                .status(status)
                .body(Body::from(serde_json::to_vec(body).unwrap()))
                .unwrap(),
        );
    }

    /// A watch answered with these events, one JSON object per line.
    pub fn stream(send: Reply, events: &[Value]) {
        let lines: String = events.iter().map(|e| format!("{e}\n")).collect();
        send.send_response(
            Response::builder()
                .body(Body::from(lines.into_bytes()))
                .unwrap(),
        );
    }
}

pub fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
           "code": code, "reason": reason, "message": message})
}

pub fn pod(s: SessionRef, status: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": format!("exec-{}", s.uuid), "namespace": NS},
           "status": status})
}

pub fn waiting(reason: &str, message: &str) -> Value {
    json!({"phase": "Pending",
           "conditions": [{"type": "PodScheduled", "status": "True"}],
           "containerStatuses": [{"name": "sandbox", "image": "x", "imageID": "", "ready": false,
                                  "restartCount": 0,
                                  "state": {"waiting": {"reason": reason, "message": message}}}]})
}

pub fn pods_path() -> String {
    format!("/api/v1/namespaces/{NS}/pods")
}

pub fn pvcs_path() -> String {
    format!("/api/v1/namespaces/{NS}/persistentvolumeclaims")
}

/// The volume exists already and the pod does not: the usual start.
pub async fn volume_there_pod_missing(api: &mut ApiServer, s: SessionRef) {
    let (_, send) = api.next("POST", &pvcs_path()).await;
    ApiServer::answer(send, 409, &status(409, "AlreadyExists", "already exists"));
    let (_, send) = api
        .next("GET", &format!("{}/exec-{}", pods_path(), s.uuid))
        .await;
    ApiServer::answer(send, 404, &status(404, "NotFound", "not found"));
}

/// The usual start up to the pod's creation; answers its watch with `status`.
pub async fn created_then(api: &mut ApiServer, s: SessionRef, status: Value) {
    volume_there_pod_missing(api, s).await;
    let (req, send) = api.next("POST", &pods_path()).await;
    ApiServer::answer(send, 201, &ApiServer::json(req).await);
    let (_, send) = api.next("GET", &pods_path()).await;
    ApiServer::stream(
        send,
        &[json!({"type": "MODIFIED", "object": pod(s, status)})],
    );
}
