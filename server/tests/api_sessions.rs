//! /api/sessions/*: a user's own sessions, and nobody else's.

mod common;

use common::{router, Client};
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrations = "../migrations")]
async fn create_list_open_rename_delete(pool: PgPool) {
    let app = router(pool.clone());
    let mut c = Client::register(&app, "alice").await;
    let a = c
        .ok(
            "/api/sessions/create",
            json!({"name": " first ", "language": "rust"}),
        )
        .await;
    assert_eq!(
        (a["name"].as_str(), a["language"].as_str()),
        (Some("first"), Some("rust"))
    );
    let b = c
        .ok("/api/sessions/create", json!({"name": "second"}))
        .await;
    assert_eq!(b["language"], "python");
    let tree = c.ok("/api/files/tree", json!({"session": a["uuid"]})).await;
    assert_eq!(tree[0]["path"], "main.rs");

    let list = c.ok("/api/sessions/list", json!({})).await;
    assert_eq!(list[0]["uuid"], b["uuid"]);
    c.ok("/api/sessions/open", json!({"session": a["uuid"]}))
        .await;
    let list = c.ok("/api/sessions/list", json!({})).await;
    assert_eq!(list[0]["uuid"], a["uuid"], "most recently used first");

    let renamed = c
        .ok(
            "/api/sessions/rename",
            json!({"session": a["uuid"], "name": "renamed"}),
        )
        .await;
    assert_eq!(renamed["name"], "renamed");
    c.fails(
        "/api/sessions/rename",
        json!({"session": a["uuid"], "name": "  "}),
        422,
    )
    .await;

    c.ok("/api/sessions/delete", json!({"session": a["uuid"]}))
        .await;
    let left: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM workspace_items WHERE session_uuid = $1::text::uuid",
    )
    .bind(a["uuid"].as_str().unwrap())
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(left, 0, "files go with their session");
    assert_eq!(
        c.ok("/api/sessions/list", json!({}))
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_input(pool: PgPool) {
    let app = router(pool);
    let mut c = Client::register(&app, "bob").await;
    c.fails(
        "/api/sessions/create",
        json!({"name": "x", "language": "cobol"}),
        400,
    )
    .await;
    c.fails(
        "/api/sessions/create",
        json!({"name": "x".repeat(101)}),
        422,
    )
    .await;
    c.fails("/api/sessions/open", json!({"session": "not-a-uuid"}), 400)
        .await;
    Client::new(&app)
        .fails("/api/sessions/list", json!({}), 401)
        .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn another_users_session_is_indistinguishable_from_a_missing_one(pool: PgPool) {
    let app = router(pool);
    let mut owner = Client::register(&app, "carol").await;
    let uuid = owner.session().await;
    let mut other = Client::register(&app, "mallory").await;
    let missing = uuid::Uuid::new_v4().to_string();
    for id in [&uuid, &missing] {
        for (uri, body) in [
            ("/api/sessions/open", json!({"session": id})),
            (
                "/api/sessions/rename",
                json!({"session": id, "name": "mine"}),
            ),
            ("/api/sessions/delete", json!({"session": id})),
            ("/api/files/tree", json!({"session": id})),
            ("/api/files/read", json!({"session": id, "path": "main.py"})),
            (
                "/api/files/save",
                json!({"session": id, "path": "main.py", "content": "", "base_hash": ""}),
            ),
            (
                "/api/files/create",
                json!({"session": id, "path": "x", "kind": "file"}),
            ),
            (
                "/api/files/move",
                json!({"session": id, "from": "main.py", "to": "x.py"}),
            ),
            (
                "/api/files/delete",
                json!({"session": id, "path": "main.py"}),
            ),
        ] {
            let e = other.fails(uri, body, 404).await;
            assert_eq!(e["message"], "no such session", "{uri}");
        }
    }
    assert_eq!(
        owner.ok("/api/sessions/list", json!({})).await[0]["name"],
        "work"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn an_account_owns_at_most_its_cap_of_sessions(pool: PgPool) {
    let mut settings = common::settings();
    settings.max_sessions_per_user = 2;
    let app = common::router_configured(pool, settings);
    let mut c = Client::register(&app, "alice").await;
    let first = c.session().await;
    c.session().await;
    let e = c
        .fails("/api/sessions/create", json!({"name": "third"}), 429)
        .await;
    assert_eq!(
        e["message"],
        "you own 2 sessions, the most one account may have: delete one first"
    );
    assert!(e.get("retry_after").is_none(), "{e}");
    c.fails("/api/sessions/fork", json!({"session": first}), 429)
        .await;
    c.ok("/api/sessions/delete", json!({"session": first}))
        .await;
    c.ok("/api/sessions/create", json!({"name": "third"})).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn reopening_the_newest_session_writes_nothing(pool: PgPool) {
    let app = router(pool.clone());
    let mut c = Client::register(&app, "alice").await;
    let s = c.session().await;
    let version = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT xmin::text FROM code_sessions WHERE uuid = $1::uuid",
        )
        .bind(&s)
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    let before = version().await;
    for _ in 0..3 {
        c.ok("/api/sessions/open", json!({"session": s})).await;
    }
    assert_eq!(version().await, before, "the row was rewritten");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_sessions_command_history_keeps_its_newest(pool: PgPool) {
    let app = router(pool.clone());
    let mut c = Client::register(&app, "alice").await;
    let s = c.session().await;
    let sid: i64 = sqlx::query_scalar("SELECT id FROM code_sessions WHERE uuid = $1::uuid")
        .bind(&s)
        .fetch_one(&pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO terminal_commands (session_id, command, output, started_at, finished_at)
         SELECT $1, 'echo ' || i, '', now() + make_interval(secs => i), now() + make_interval(secs => i)
         FROM generate_series(1, 30) i",
    )
    .bind(sid)
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(
        app::server::commands::trim(&pool, sid, 10).await.unwrap(),
        20
    );
    let history = c
        .ok("/api/terminal/history", json!({"session": s, "limit": 100}))
        .await;
    let commands: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["command"].as_str().unwrap())
        .collect();
    assert_eq!(commands.len(), 10);
    assert_eq!((commands[0], commands[9]), ("echo 30", "echo 21"));
}
