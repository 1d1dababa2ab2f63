//! A terminal on the kube runner, through the real socket: what the pod's start
//! waits for, and why it cannot start, reach the user's terminal. The API server
//! is the checking mock of `common::kube_api`.

mod common;

use common::kube_api::{created_then, pod, pods_path, waiting, ApiServer, NS};
use common::{router_with, served, services_with, Served, Term};
use http::{Request, Response};
use kube::client::Body;
use serde_json::json;
use server::runner::kube::runner::KubeRunner;
use server::runner::SessionRef;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;

/// A served app whose sandboxes are pods made through the mock API server, with
/// alice's session and the sandbox it names (her id as its user).
async fn kube_served(pool: &PgPool) -> (Served, ApiServer, SessionRef) {
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let runner = KubeRunner::new(kube::Client::new(service, NS), common::kube_api::settings());
    let services = services_with(Arc::new(runner), pool.clone(), Duration::from_secs(600));
    let w = served(router_with(pool.clone(), services)).await;
    let (id, user): (i64, i64) =
        sqlx::query_as("SELECT id, user_id FROM code_sessions WHERE uuid = $1")
            .bind(w.session.parse::<uuid::Uuid>().unwrap())
            .fetch_one(pool)
            .await
            .unwrap();
    let s = SessionRef {
        uuid: w.session.parse().unwrap(),
        id,
        user,
        language: app::wire::sessions::Language::Python,
    };
    (w, ApiServer(handle), s)
}

#[sqlx::test(migrations = "../migrations")]
async fn start_progress_and_failures_reach_the_terminal(pool: PgPool) {
    let (w, mut api, s) = kube_served(&pool).await;
    let mut t = Term::connect(w.addr, &w.client, &w.session, "").await;

    // The pod is made, then its image cannot be pulled.
    let pulling = waiting(
        "ImagePullBackOff",
        "Back-off pulling image \"webide/exec-python:1\"",
    );
    created_then(&mut api, s, pulling).await;
    t.expect("[sandbox] creating the sandbox").await;
    let error = t.control("error").await;
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("ImagePullBackOff") && message.contains("Back-off pulling"),
        "{message}"
    );

    // A running pod found on the next try is used at once.
    let mut t = Term::connect(w.addr, &w.client, &w.session, "").await;
    let (_, send) = api
        .next(
            "POST",
            &format!("/api/v1/namespaces/{NS}/persistentvolumeclaims"),
        )
        .await;
    ApiServer::answer(
        send,
        409,
        &common::kube_api::status(409, "AlreadyExists", "exists"),
    );
    let (_, send) = api
        .next("GET", &format!("{}/exec-{}", pods_path(), s.uuid))
        .await;
    ApiServer::answer(send, 200, &pod(s, json!({"phase": "Running"})));
    // Then the sync lists the workspace through pods/exec, which the mock cannot
    // upgrade: the user is told, and nothing is left half-made.
    let (_, send) = api
        .next("GET", &format!("{}/exec-{}/exec", pods_path(), s.uuid))
        .await;
    ApiServer::answer(
        send,
        400,
        &common::kube_api::status(400, "BadRequest", "upgrade required"),
    );
    let error = t.control("error").await;
    let message = error["message"].as_str().unwrap();
    let told = message.contains("pods/exec was refused") && message.contains("400");
    assert!(told, "{message}");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_pod_is_the_owners_whoever_opens_it(pool: PgPool) {
    let (mut w, mut api, s) = kube_served(&pool).await;
    let bob = common::Client::register(&w.app, "bob").await;
    w.client.share(&w.session, "bob", "editor").await;
    let _t = Term::connect(w.addr, &bob, &w.session, "").await;
    common::kube_api::volume_there_pod_missing(&mut api, s).await;
    let (req, _send) = api.next("POST", &pods_path()).await;
    let made = ApiServer::json(req).await;
    assert_eq!(
        made["metadata"]["labels"],
        json!(server::runner::kube::names::labels(s.uuid, s.user)),
        "labelled with the owner, not the editor who opened it"
    );
}
