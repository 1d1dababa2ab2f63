//! /api/files/*: the workspace by path, with conflict checks and limits.

mod common;

use common::{router, Client};
use serde_json::json;
use sqlx::PgPool;

async fn setup(pool: PgPool) -> (Client, String) {
    let app = router(pool);
    let mut c = Client::register(&app, "alice").await;
    let s = c.session().await;
    (c, s)
}

fn paths(tree: &serde_json::Value) -> Vec<String> {
    tree.as_array()
        .unwrap()
        .iter()
        .map(|i| {
            format!(
                "{}:{}",
                i["kind"].as_str().unwrap(),
                i["path"].as_str().unwrap()
            )
        })
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn create_read_save_and_conflict(pool: PgPool) {
    let (mut c, s) = setup(pool).await;
    c.ok(
        "/api/files/create",
        json!({"session": s, "path": "src/app/util.py", "kind": "file", "content": "x = 1\n"}),
    )
    .await;
    c.ok(
        "/api/files/create",
        json!({"session": s, "path": "docs", "kind": "folder"}),
    )
    .await;
    let tree = c.ok("/api/files/tree", json!({"session": s})).await;
    assert_eq!(
        paths(&tree),
        [
            "folder:docs",
            "file:main.py",
            "folder:src",
            "folder:src/app",
            "file:src/app/util.py"
        ]
    );

    let f = c
        .ok(
            "/api/files/read",
            json!({"session": s, "path": "src/app/util.py"}),
        )
        .await;
    assert_eq!(f["content"], "x = 1\n");
    let base = f["hash"].as_str().unwrap().to_string();
    let saved = c
        .ok("/api/files/save", json!({"session": s, "path": "src/app/util.py", "content": "x = 2\n", "base_hash": base}))
        .await;
    assert_eq!(saved["version"], 2);
    assert_ne!(saved["hash"], base.as_str());

    // A second writer still holding the old hash is refused and shown the current file.
    let e = c
        .fails("/api/files/save", json!({"session": s, "path": "src/app/util.py", "content": "x = 3\n", "base_hash": base}), 409)
        .await;
    assert_eq!(e["error"], "conflict");
    assert_eq!(e["current"]["content"], "x = 2\n");
    assert_eq!(e["current"]["hash"], saved["hash"]);
    let f = c
        .ok(
            "/api/files/read",
            json!({"session": s, "path": "src/app/util.py"}),
        )
        .await;
    assert_eq!(f["content"], "x = 2\n", "nothing overwritten");

    c.fails(
        "/api/files/save",
        json!({"session": s, "path": "nope.py", "content": "", "base_hash": base}),
        404,
    )
    .await;
    c.fails("/api/files/read", json!({"session": s, "path": "src"}), 422)
        .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn names_are_unique_and_paths_are_checked(pool: PgPool) {
    let (mut c, s) = setup(pool).await;
    let e = c
        .fails(
            "/api/files/create",
            json!({"session": s, "path": "main.py", "kind": "file"}),
            409,
        )
        .await;
    assert_eq!(e["message"], "main.py already exists");
    c.fails(
        "/api/files/create",
        json!({"session": s, "path": "main.py/inner", "kind": "file"}),
        409,
    )
    .await;
    for bad in [
        "../etc/passwd",
        "/abs",
        "a//b",
        "a/./b",
        "a\u{0}b",
        "",
        "x/..",
    ] {
        let e = c
            .fails(
                "/api/files/create",
                json!({"session": s, "path": bad, "kind": "file"}),
                422,
            )
            .await;
        assert_eq!(e["error"], "invalid", "{bad:?}");
    }
    c.fails(
        "/api/files/create",
        json!({"session": s, "path": "d", "kind": "folder", "content": "x"}),
        422,
    )
    .await;
    c.fails(
        "/api/files/create",
        json!({"session": s, "path": "d", "kind": "symlink"}),
        400,
    )
    .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn move_and_delete_whole_folders(pool: PgPool) {
    let (mut c, s) = setup(pool).await;
    for p in ["src/a.py", "src/lib/b.py", "srcx.py"] {
        c.ok(
            "/api/files/create",
            json!({"session": s, "path": p, "kind": "file"}),
        )
        .await;
    }
    c.ok(
        "/api/files/move",
        json!({"session": s, "from": "src", "to": "pkg/src"}),
    )
    .await;
    let tree = c.ok("/api/files/tree", json!({"session": s})).await;
    assert_eq!(
        paths(&tree),
        [
            "file:main.py",
            "folder:pkg",
            "folder:pkg/src",
            "file:pkg/src/a.py",
            "folder:pkg/src/lib",
            "file:pkg/src/lib/b.py",
            "file:srcx.py"
        ]
    );
    c.fails(
        "/api/files/move",
        json!({"session": s, "from": "pkg", "to": "pkg/src/inner"}),
        422,
    )
    .await;
    c.fails(
        "/api/files/move",
        json!({"session": s, "from": "main.py", "to": "srcx.py"}),
        409,
    )
    .await;
    c.fails(
        "/api/files/move",
        json!({"session": s, "from": "ghost", "to": "x"}),
        404,
    )
    .await;
    c.ok(
        "/api/files/move",
        json!({"session": s, "from": "main.py", "to": "app.py"}),
    )
    .await;

    c.ok("/api/files/delete", json!({"session": s, "path": "pkg"}))
        .await;
    let tree = c.ok("/api/files/tree", json!({"session": s})).await;
    assert_eq!(paths(&tree), ["file:app.py", "file:srcx.py"]);
    c.fails(
        "/api/files/delete",
        json!({"session": s, "path": "pkg"}),
        404,
    )
    .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn size_limits(pool: PgPool) {
    // The test router allows 64 KiB per file and 256 KiB per workspace.
    let (mut c, s) = setup(pool).await;
    let big = "x".repeat(64 * 1024 + 1);
    c.fails(
        "/api/files/create",
        json!({"session": s, "path": "big", "kind": "file", "content": big}),
        413,
    )
    .await;
    let chunk = "y".repeat(60 * 1024);
    for i in 0..4 {
        c.ok(
            "/api/files/create",
            json!({"session": s, "path": format!("f{i}"), "kind": "file", "content": chunk}),
        )
        .await;
    }
    let e = c
        .fails(
            "/api/files/create",
            json!({"session": s, "path": "f4", "kind": "file", "content": chunk}),
            413,
        )
        .await;
    assert_eq!(e["error"], "too_large");
    // Replacing a file counts its new size, not both.
    let f = c
        .ok("/api/files/read", json!({"session": s, "path": "f0"}))
        .await;
    c.ok(
        "/api/files/save",
        json!({"session": s, "path": "f0", "content": chunk.clone() + "z", "base_hash": f["hash"]}),
    )
    .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn oversized_requests_are_refused_before_parsing(pool: PgPool) {
    let (mut c, s) = setup(pool).await;
    // Over the body limit of the test router (6 x 64 KiB + 64 KiB).
    let huge = "z".repeat(6 * 64 * 1024 + 64 * 1024 + 1);
    let e = c
        .fails(
            "/api/files/create",
            json!({"session": s, "path": "huge", "kind": "file", "content": huge}),
            413,
        )
        .await;
    assert_eq!(e["error"], "too_large");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_session_page_arrives_with_its_tree(pool: PgPool) {
    let app = router(pool);
    let mut c = Client::register(&app, "html").await;
    let s = c.session().await;
    c.ok(
        "/api/files/create",
        json!({"session": s, "path": "src", "kind": "folder"}),
    )
    .await;
    let req = axum::http::Request::get(format!("/s/{s}"))
        .header("cookie", c.cookie.clone().unwrap())
        .body(axum::body::Body::empty())
        .unwrap();
    let page = common::send(&app, req).await;
    assert_eq!(page.status, axum::http::StatusCode::OK);
    let body_start = page.body.find("<body>").unwrap();
    let html = &page.body[body_start..];
    assert!(html.contains(r#"data-path="src""#), "{html}");
    assert!(html.contains(r#"data-path="main.py""#));
}

#[sqlx::test(migrations = "../migrations")]
async fn many_files_in_one_read_for_the_offline_copy(pool: PgPool) {
    let app = router(pool);
    let mut c = Client::register(&app, "keeper").await;
    let s = c.session().await;
    c.ok(
        "/api/files/create",
        json!({"session": s, "path": "src/a.py", "kind": "file", "content": "a = 1\n"}),
    )
    .await;
    let got = c
        .ok(
            "/api/files/contents",
            json!({"session": s, "paths": ["src/a.py", "main.py", "src", "gone.py"]}),
        )
        .await;
    let got = got.as_array().unwrap();
    let names: Vec<_> = got.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["main.py", "src/a.py"],
        "folders and missing paths are left out"
    );
    assert_eq!(got[1]["content"], "a = 1\n");
    assert_eq!(got[1]["hash"].as_str().unwrap().len(), 64);

    let too_many: Vec<String> = (0..1001).map(|i| format!("f{i}")).collect();
    c.fails(
        "/api/files/contents",
        json!({"session": s, "paths": too_many}),
        422,
    )
    .await;

    // Another user's session reads like a missing one.
    let mut other = Client::register(&app, "stranger").await;
    other
        .fails(
            "/api/files/contents",
            json!({"session": s, "paths": ["main.py"]}),
            404,
        )
        .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn files_made_at_once_in_a_new_folder_all_land(pool: PgPool) {
    let app = router(pool);
    let mut c = Client::register(&app, "alice").await;
    let s = c.session().await;
    let made = (0..8).map(|i| {
        let mut c = c.clone();
        let s = s.clone();
        async move {
            c.post(
                "/api/files/create",
                json!({"session": s, "path": format!("new/deeper/f{i}.txt"), "kind": "file"}),
            )
            .await
            .status
        }
    });
    let statuses = futures_util::future::join_all(made).await;
    assert!(statuses.iter().all(|s| s.as_u16() == 200), "{statuses:?}");
    let tree = c.ok("/api/files/tree", json!({"session": s})).await;
    assert_eq!(
        tree.as_array().unwrap().len(),
        11,
        "main.py, two folders, eight files"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn one_contents_answer_carries_at_most_16_mib(pool: PgPool) {
    let mut settings = common::settings();
    settings.max_file_bytes = 8 << 20;
    settings.max_workspace_bytes = 64 << 20;
    let app = common::router_configured(pool, settings);
    let mut c = Client::register(&app, "alice").await;
    let s = c.session().await;
    let six = "x".repeat(6 << 20);
    for name in ["a.txt", "b.txt", "c.txt"] {
        c.ok(
            "/api/files/create",
            json!({"session": s, "path": name, "kind": "file", "content": six}),
        )
        .await;
    }
    let e = c
        .fails(
            "/api/files/contents",
            json!({"session": s, "paths": ["a.txt", "b.txt", "c.txt"]}),
            413,
        )
        .await;
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("ask for fewer at once"),
        "{e}"
    );
    let two = c
        .ok(
            "/api/files/contents",
            json!({"session": s, "paths": ["a.txt", "b.txt"]}),
        )
        .await;
    assert_eq!(two.as_array().unwrap().len(), 2);
}
