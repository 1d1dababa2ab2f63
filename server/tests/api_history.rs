//! File history: versions from every source, reading and restoring them, the
//! compact storage, renames, deleted files and folders brought back, checkpoints
//! and the retention sweep.

mod common;

use app::server::{blobs, retention};
use common::{eventually, router, served, Client};
use serde_json::{json, Value};
use sqlx::PgPool;

async fn save(c: &mut Client, s: &str, path: &str, content: &str) -> Value {
    let now = c
        .ok("/api/files/read", json!({"session": s, "path": path}))
        .await;
    c.ok(
        "/api/files/save",
        json!({"session": s, "path": path, "content": content, "base_hash": now["hash"]}),
    )
    .await
}

async fn history(c: &mut Client, s: &str, path: &str) -> Vec<Value> {
    let list = c
        .ok("/api/history/list", json!({"session": s, "path": path}))
        .await;
    list.as_array().unwrap().clone()
}

async fn pack_all(pool: &PgPool) {
    let mut cache = blobs::Cache::default();
    while blobs::pack(pool, 64, &mut cache).await.unwrap() > 0 {}
}

#[sqlx::test(migrations = "../migrations")]
async fn every_change_keeps_a_version_with_its_source(pool: PgPool) {
    let w = served(router(pool.clone())).await;
    let (mut c, s) = (w.client.clone(), w.session.clone());
    save(&mut c, &s, "main.py", "print(1)\n").await;
    // A save from the IDE's own page.
    let now = c
        .ok("/api/files/read", json!({"session": s, "path": "main.py"}))
        .await;
    let req = axum::http::Request::post("/api/files/save")
        .header("content-type", "application/json")
        .header("cookie", c.cookie.clone().unwrap())
        .header("sec-fetch-site", "same-origin")
        .body(axum::body::Body::from(
            json!({"session": s, "path": "main.py", "content": "print(2)\n", "base_hash": now["hash"]})
                .to_string(),
        ))
        .unwrap();
    assert_eq!(common::send(&w.app, req).await.status, 200);
    // The terminal, synced back.
    let mut t = w.shell().await;
    t.run("echo 'print(3)' > main.py").await;
    eventually(
        &pool,
        "SELECT content FROM workspace_items WHERE session_uuid = $1 AND full_path = 'main.py'",
        &s,
        Some("print(3)\n"),
    )
    .await;
    // A restore of the first version.
    let now = c
        .ok("/api/files/read", json!({"session": s, "path": "main.py"}))
        .await;
    c.ok(
        "/api/history/restore",
        json!({"session": s, "path": "main.py", "version": 1, "base_hash": now["hash"]}),
    )
    .await;

    let versions = history(&mut c, &s, "main.py").await;
    let sources: Vec<&str> = versions
        .iter()
        .map(|v| v["source"].as_str().unwrap())
        .collect();
    assert_eq!(
        sources,
        ["restore", "terminal", "editor", "api", "template"],
        "newest first"
    );
    assert!(
        versions.iter().all(|v| v["author"] == "alice"),
        "{versions:?}"
    );
    let numbers: Vec<i64> = versions
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [5, 4, 3, 2, 1]);
    let first = c
        .ok(
            "/api/history/read",
            json!({"session": s, "path": "main.py", "version": 1}),
        )
        .await;
    let now = c
        .ok("/api/files/read", json!({"session": s, "path": "main.py"}))
        .await;
    assert_eq!(now["content"], first["content"]);
    assert_eq!(now["content"], "print(\"Hello, world!\")\n");
    // A restore based on an old hash is refused, nothing overwritten.
    let stale = c
        .fails(
            "/api/history/restore",
            json!({"session": s, "path": "main.py", "version": 2, "base_hash": versions[3]["hash"]}),
            409,
        )
        .await;
    assert_eq!(stale["current"]["hash"], now["hash"]);
    // And the restore reached the sandbox.
    assert!(t.run("cat main.py").await.contains("Hello, world!"));
}

#[sqlx::test(migrations = "../migrations")]
async fn versions_are_stored_once_and_as_small_deltas(pool: PgPool) {
    let app = router(pool.clone());
    let mut c = Client::register(&app, "alice").await;
    let s = c.session().await;
    // 60 KB of distinct lines (the tests' file limit is 64 KiB), then 60 saves
    // each changing one line.
    let lines: Vec<String> = (0..1200)
        .map(|i| format!("line {i:05} {}\n", "x".repeat(40)))
        .collect();
    let mut content = lines.concat();
    c.ok(
        "/api/files/create",
        json!({"session": s, "path": "big.txt", "kind": "file", "content": content}),
    )
    .await;
    let mut expected = vec![content.clone()];
    for i in 0..60 {
        content = content.replacen(
            &format!("line {:05}", i * 7),
            &format!("LINE {:05}", i * 7),
            1,
        );
        save(&mut c, &s, "big.txt", &content).await;
        expected.push(content.clone());
    }
    // Saving a content seen before stores nothing new.
    save(&mut c, &s, "big.txt", &expected[10]).await;
    pack_all(&pool).await;
    let (blobs_n, bytes): (i64, i64) = sqlx::query_as(
        "SELECT count(*), sum(octet_length(data))::int8 FROM blobs b
         JOIN code_sessions s ON s.id = b.session_id WHERE s.uuid = $1::uuid",
    )
    .bind(&s)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(blobs_n, 62, "61 contents of big.txt and main.py");
    // Naively 61 x 60 KB = 3.7 MB.
    assert!(bytes < 100_000, "{bytes} bytes stored");
    // Each chain is as long as its blob says, and never longer than the limit.
    let chains: Vec<(i32, i32)> = sqlx::query_as(
        "WITH RECURSIVE chain AS (
             SELECT session_id, hash, base, depth AS said, 0 AS actual FROM blobs
             UNION ALL
             SELECT c.session_id, c.hash, b.base, c.said, c.actual + 1 FROM chain c
             JOIN blobs b ON b.session_id = c.session_id AND b.hash = c.base)
         SELECT said, max(actual) FROM chain GROUP BY session_id, hash, said",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        chains
            .iter()
            .all(|(said, actual)| said == actual && *actual <= blobs::MAX_DEPTH),
        "{chains:?}"
    );
    assert!(
        chains.iter().any(|(said, _)| *said == blobs::MAX_DEPTH),
        "a chain reached the limit"
    );
    // Every version reads back exactly, through its chain of deltas.
    for (n, want) in expected.iter().enumerate() {
        let v = c
            .ok(
                "/api/history/read",
                json!({"session": s, "path": "big.txt", "version": n + 1}),
            )
            .await;
        assert_eq!(v["content"].as_str().unwrap(), want, "version {}", n + 1);
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn renames_keep_history_and_deleted_folders_come_back(pool: PgPool) {
    let app = router(pool.clone());
    let mut c = Client::register(&app, "alice").await;
    let s = c.session().await;
    for (path, content) in [("pkg/a.py", "a = 1\n"), ("pkg/sub/b.py", "b = 1\n")] {
        c.ok(
            "/api/files/create",
            json!({"session": s, "path": path, "kind": "file", "content": content}),
        )
        .await;
    }
    save(&mut c, &s, "pkg/a.py", "a = 2\n").await;
    c.ok(
        "/api/files/move",
        json!({"session": s, "from": "pkg", "to": "lib"}),
    )
    .await;
    let versions = history(&mut c, &s, "lib/a.py").await;
    let paths: Vec<&str> = versions
        .iter()
        .map(|v| v["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["pkg/a.py", "pkg/a.py"],
        "history follows the rename"
    );
    save(&mut c, &s, "lib/a.py", "a = 3\n").await;

    c.ok("/api/files/delete", json!({"session": s, "path": "lib"}))
        .await;
    let deleted = c.ok("/api/history/deleted", json!({"session": s})).await;
    let listed: Vec<&str> = deleted
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["lib", "lib/a.py", "lib/sub", "lib/sub/b.py"]);
    assert!(deleted
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["root"] == "lib"));

    // A single file from inside the folder, elsewhere, with its history.
    c.ok(
        "/api/history/undelete",
        json!({"session": s, "path": "lib/sub/b.py", "to": "b.py"}),
    )
    .await;
    assert_eq!(
        c.ok("/api/files/read", json!({"session": s, "path": "b.py"}))
            .await["content"],
        "b = 1\n"
    );
    // The folder with the rest, where it was; a taken path is refused.
    c.ok(
        "/api/files/create",
        json!({"session": s, "path": "lib", "kind": "folder"}),
    )
    .await;
    c.fails(
        "/api/history/undelete",
        json!({"session": s, "path": "lib"}),
        409,
    )
    .await;
    c.ok("/api/files/delete", json!({"session": s, "path": "lib"}))
        .await;
    let back = c
        .ok(
            "/api/history/undelete",
            json!({"session": s, "path": "lib"}),
        )
        .await;
    assert_eq!(
        back.as_array().unwrap().len(),
        1,
        "only the empty folder was deleted last"
    );
    c.ok("/api/files/delete", json!({"session": s, "path": "lib"}))
        .await;
    let tree = c.ok("/api/files/tree", json!({"session": s})).await;
    assert!(!tree.to_string().contains("lib"));
    // The older deletion of lib (with a.py) is still there to bring back.
    let deleted = c.ok("/api/history/deleted", json!({"session": s})).await;
    assert!(deleted.to_string().contains("lib/a.py"));
    c.fails(
        "/api/history/undelete",
        json!({"session": s, "path": "nothing"}),
        404,
    )
    .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_file_deleted_in_the_terminal_can_be_brought_back(pool: PgPool) {
    let w = served(router(pool.clone())).await;
    let (mut c, s) = (w.client.clone(), w.session.clone());
    save(&mut c, &s, "main.py", "kept = True\n").await;
    let mut t = w.shell().await;
    t.run("rm main.py").await;
    eventually(
        &pool,
        "SELECT path FROM deleted_items d JOIN code_sessions s ON s.id = d.session_id WHERE s.uuid = $1",
        &s,
        Some("main.py"),
    )
    .await;
    let deleted = c.ok("/api/history/deleted", json!({"session": s})).await;
    assert_eq!(deleted[0]["source"], "terminal");
    c.ok(
        "/api/history/undelete",
        json!({"session": s, "path": "main.py"}),
    )
    .await;
    assert!(t.run("cat main.py").await.contains("kept = True"));
    let versions = history(&mut c, &s, "main.py").await;
    assert_eq!(versions[0]["source"], "restore");
    assert_eq!(
        versions.len(),
        3,
        "template, the save, the restore: {versions:?}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn checkpoints_diff_restore_and_undo(pool: PgPool) {
    let app = router(pool.clone());
    let mut c = Client::register(&app, "alice").await;
    let s = c.session().await;
    c.ok(
        "/api/files/create",
        json!({"session": s, "path": "src/util.py", "kind": "file", "content": "u = 1\n"}),
    )
    .await;
    let cp = c
        .ok(
            "/api/checkpoints/create",
            json!({"session": s, "label": "working"}),
        )
        .await;
    assert_eq!(
        (cp["label"].as_str(), cp["files"].as_i64()),
        (Some("working"), Some(2))
    );
    save(&mut c, &s, "main.py", "changed\n").await;
    c.ok("/api/files/delete", json!({"session": s, "path": "src"}))
        .await;
    c.ok(
        "/api/files/create",
        json!({"session": s, "path": "new.py", "kind": "file", "content": "n\n"}),
    )
    .await;
    let diff = c
        .ok(
            "/api/checkpoints/diff",
            json!({"session": s, "checkpoint": cp["id"]}),
        )
        .await;
    assert_eq!(
        diff,
        json!({"added": ["new.py"], "removed": ["src/util.py"], "changed": ["main.py"]})
    );
    let restored = c
        .ok(
            "/api/checkpoints/restore",
            json!({"session": s, "checkpoint": cp["id"]}),
        )
        .await;
    assert_eq!(restored["diff"], diff);
    let tree = c.ok("/api/files/tree", json!({"session": s})).await;
    let paths: Vec<&str> = tree
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["main.py", "src", "src/util.py"]);
    // util.py came back with its history.
    assert_eq!(history(&mut c, &s, "src/util.py").await.len(), 2);
    // The restore is undone by the checkpoint it made first.
    let list = c.ok("/api/checkpoints/list", json!({"session": s})).await;
    assert_eq!(list[0]["id"], restored["undo"]);
    assert_eq!(list[0]["auto"], true);
    c.ok(
        "/api/checkpoints/restore",
        json!({"session": s, "checkpoint": restored["undo"]}),
    )
    .await;
    let tree = c.ok("/api/files/tree", json!({"session": s})).await;
    let paths: Vec<&str> = tree
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["main.py", "new.py"]);
    assert_eq!(
        c.ok("/api/files/read", json!({"session": s, "path": "main.py"}))
            .await["content"],
        "changed\n"
    );
    c.fails(
        "/api/checkpoints/diff",
        json!({"session": s, "checkpoint": uuid::Uuid::new_v4()}),
        404,
    )
    .await;
    c.fails(
        "/api/checkpoints/create",
        json!({"session": s, "label": " "}),
        422,
    )
    .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn retention_thins_old_versions_and_keeps_what_it_promised(pool: PgPool) {
    let app = router(pool.clone());
    let mut c = Client::register(&app, "alice").await;
    let s = c.session().await;
    for i in 0..6 {
        save(&mut c, &s, "main.py", &format!("v{i}\n")).await;
    }
    let cp = c
        .ok(
            "/api/checkpoints/create",
            json!({"session": s, "label": "keep"}),
        )
        .await;
    c.ok(
        "/api/files/create",
        json!({"session": s, "path": "gone.py", "kind": "file", "content": "bye\n"}),
    )
    .await;
    c.ok(
        "/api/files/delete",
        json!({"session": s, "path": "gone.py"}),
    )
    .await;
    // Everything happened 40 days ago, on two days: three versions of main.py a day.
    sqlx::query(
        "UPDATE file_versions SET created_at = now() - interval '40 days'
                                              - (CASE WHEN version <= 4 THEN interval '1 day' ELSE interval '0' END)
                                              + make_interval(secs => version)",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("UPDATE deleted_items SET deleted_at = now() - interval '40 days'")
        .execute(&pool)
        .await
        .unwrap();
    pack_all(&pool).await;
    let r = retention::Retention {
        full_days: 30,
        max_session_bytes: 1 << 30,
    };
    let swept = retention::sweep(&pool, r).await.unwrap();
    assert_eq!(swept.deleted_items, 1);
    // Day one: versions 1-4 keep 4; day two: 5-7 keep 7 (the newest, and current).
    let versions = history(&mut c, &s, "main.py").await;
    let numbers: Vec<i64> = versions
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [7, 4]);
    let pruned = c
        .ok(
            "/api/history/pruned",
            json!({"session": s, "path": "main.py"}),
        )
        .await;
    assert_eq!(pruned[0]["versions"], 5);
    assert_eq!(pruned[0]["reason"], "thinned");
    // The checkpoint's contents survive the thinning.
    let cp_restore = c
        .ok(
            "/api/checkpoints/restore",
            json!({"session": s, "checkpoint": cp["id"]}),
        )
        .await;
    assert_eq!(cp_restore["diff"]["removed"], json!([]));
    assert_eq!(
        c.ok("/api/files/read", json!({"session": s, "path": "main.py"}))
            .await["content"],
        "v5\n"
    );
    // The expired deletion is gone for good.
    assert_eq!(
        c.ok("/api/history/deleted", json!({"session": s})).await,
        json!([])
    );

    // Over its size limit, a session loses its oldest versions, never a file's newest.
    let r = retention::Retention {
        full_days: 30,
        max_session_bytes: 1,
    };
    retention::sweep(&pool, r).await.unwrap();
    let left = history(&mut c, &s, "main.py").await;
    assert_eq!(left.len(), 1);
    let pruned = c
        .ok(
            "/api/history/pruned",
            json!({"session": s, "path": "main.py"}),
        )
        .await;
    assert!(pruned.to_string().contains("quota"), "{pruned}");
    // Every remaining version still reads back.
    let v = left[0]["version"].as_i64().unwrap();
    c.ok(
        "/api/history/read",
        json!({"session": s, "path": "main.py", "version": v}),
    )
    .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_viewer_reads_history_and_nobody_else_does(pool: PgPool) {
    let app = router(pool.clone());
    let mut alice = Client::register(&app, "alice").await;
    let s = alice.session().await;
    save(&mut alice, &s, "main.py", "x = 1\n").await;
    let mut vera = Client::register(&app, "vera").await;
    let mut mallory = Client::register(&app, "mallory").await;
    alice.share(&s, "vera", "viewer").await;
    assert_eq!(history(&mut vera, &s, "main.py").await.len(), 2);
    vera.ok(
        "/api/history/read",
        json!({"session": s, "path": "main.py", "version": 1}),
    )
    .await;
    vera.ok("/api/history/deleted", json!({"session": s})).await;
    vera.ok("/api/checkpoints/list", json!({"session": s}))
        .await;
    vera.fails(
        "/api/history/restore",
        json!({"session": s, "path": "main.py", "version": 1, "base_hash": ""}),
        403,
    )
    .await;
    vera.fails(
        "/api/checkpoints/create",
        json!({"session": s, "label": "mine"}),
        403,
    )
    .await;
    mallory
        .fails(
            "/api/history/list",
            json!({"session": s, "path": "main.py"}),
            404,
        )
        .await;
}
