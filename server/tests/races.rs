//! Races around a sandbox's life. Several server processes on one database and
//! one data directory (the local runner's equivalent of replicas sharing a
//! cluster) share its liveness: one replica's idle cull and another's start never
//! end a sandbox that a terminal on another replica is using; the last one to let
//! go stops it. A session deleted while its sandbox opens leaves nothing behind.

mod common;

use common::*;
use serde_json::json;
use sqlx::PgPool;
use std::path::Path;
use std::time::Duration;

/// Waits until nothing of the session is left under `data`: no workspace, no
/// private folders, no control groups.
async fn nothing_left(data: &Path, session: &str) {
    let uuid: uuid::Uuid = session.parse().unwrap();
    let groups = server::runner::cgroup::Cgroups::detect(data, 0, 0);
    let left = || {
        let mut left: Vec<String> = ["workspaces", "sandboxes"]
            .iter()
            .map(|d| data.join(d).join(session))
            .filter(|p| p.exists())
            .map(|p| p.display().to_string())
            .collect();
        if groups.leftovers().contains(&uuid) {
            left.push("control groups".into());
        }
        left
    };
    for _ in 0..100 {
        if left().is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("left behind: {:?}", left());
}

async fn holders(pool: &PgPool, session: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM sandbox_holders h JOIN code_sessions s ON s.id = h.session_id
         WHERE s.uuid = $1::uuid",
    )
    .bind(session)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Waits until `n` replicas hold the session's sandbox.
async fn held_by(pool: &PgPool, session: &str, n: i64) {
    for _ in 0..1500 {
        if holders(pool, session).await == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("still {} holders, not {n}", holders(pool, session).await);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_replica_never_ends_a_sandbox_another_is_using(pool: PgPool) {
    let app = router(pool.clone());
    let mut c = Client::register(&app, "alice").await;
    let session = c.session().await;
    let data = open_data_dir();
    let dir = data.path().to_str().unwrap();
    let args = ["--data-dir", dir, "--idle-secs", "1", "--log", "warn"];
    let a = ServerProcess::start(&pool, &args).await;
    let b = ServerProcess::start(&pool, &args).await;

    let mut on_a = Term::ready(a.addr, &c, &session).await;
    let mut on_b = Term::ready(b.addr, &c, &session).await;
    on_a.run("echo from-a > shared.txt").await;
    held_by(&pool, &session, 2).await;
    assert_eq!(on_b.run("cat shared.txt").await.trim(), "from-a");

    // A's terminal goes; once idle, A lets go of the sandbox, and B's shell lives on.
    drop(on_a);
    held_by(&pool, &session, 1).await;
    assert_eq!(on_b.run("echo alive-$((6*7))").await.trim(), "alive-42");

    // A replica starting on the same data directory leaves B's sandbox alone.
    let _c = ServerProcess::start(&pool, &args).await;
    assert_eq!(on_b.run("echo still-$((6*7))").await.trim(), "still-42");

    // The last one to let go stops it: its control groups are gone, its files stay.
    drop(on_b);
    held_by(&pool, &session, 0).await;
    let uuid: uuid::Uuid = session.parse().unwrap();
    let groups = server::runner::cgroup::Cgroups::detect(data.path(), 0, 0);
    for _ in 0..50 {
        if !groups.leftovers().contains(&uuid) {
            assert!(data
                .path()
                .join("workspaces")
                .join(&session)
                .join("shared.txt")
                .exists());
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the stopped sandbox's control groups are still there");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_session_deleted_while_its_sandbox_opens_leaves_none(pool: PgPool) {
    let data = open_data_dir();
    let services = services_in(data.path(), pool.clone(), Duration::from_secs(60));
    let app = router_with(pool.clone(), services);
    let addr = serve(app.clone()).await;
    let mut c = Client::register(&app, "alice").await;
    let session = c.session().await;
    // Enough files that writing them into the sandbox takes a moment.
    let files: Vec<_> = (0..2000)
        .map(|i| json!({"path": format!("f/{i}.txt"), "content": "x"}))
        .collect();
    c.ok(
        "/api/files/upload",
        json!({"session": session, "files": files}),
    )
    .await;

    let mut opening = Term::connect(addr, &c, &session, "").await;
    // Once the sandbox is being started (held), the session is deleted.
    held_by(&pool, &session, 1).await;
    c.ok("/api/sessions/delete", json!({"session": session}))
        .await;
    // The socket ends one way or the other; nothing of the session stays.
    tokio::time::timeout(Duration::from_secs(20), opening.closed())
        .await
        .expect("the socket ends");
    nothing_left(data.path(), &session).await;
}
