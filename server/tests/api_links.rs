//! Public links, forks and templates: what a link's holder reads (and nothing
//! more), who may fork, and sessions made from starters and from one's own
//! templates.

mod common;

use axum::http::StatusCode;
use common::{get, services_in, Client};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::time::Duration;

/// The app over sandboxes in a folder of this test's own, so it can tell
/// whether one was made.
fn app(pool: &PgPool, dir: &std::path::Path) -> axum::Router {
    let services = services_in(dir, pool.clone(), Duration::from_secs(600));
    common::router_with(pool.clone(), services)
}

mod tempdir {
    /// A folder under /tmp that session users can pass through, removed after.
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new(name: &str) -> Self {
            let d =
                std::env::temp_dir().join(format!("webide-links-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(&d).unwrap();
            Self(d)
        }
        /// Whether anything under it is named after `uuid`.
        pub fn holds(&self, uuid: &str) -> bool {
            fn walk(p: &std::path::Path, uuid: &str) -> bool {
                std::fs::read_dir(p)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .any(|e| {
                        e.file_name().to_string_lossy().contains(uuid)
                            || (e.file_type().is_ok_and(|t| t.is_dir()) && walk(&e.path(), uuid))
                    })
            }
            walk(&self.0, uuid)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

async fn link(c: &mut Client, session: &str, expiry: Option<i64>) -> Value {
    c.ok(
        "/api/links/create",
        json!({"session": session, "expires_in_secs": expiry}),
    )
    .await
}

#[sqlx::test(migrations = "../migrations")]
async fn a_link_reads_the_current_files_and_nothing_else(pool: PgPool) {
    let dir = tempdir::Dir::new("read");
    let app = app(&pool, &dir.0);
    let mut alice = Client::register(&app, "alice").await;
    let s = alice.session().await;
    alice
        .ok(
            "/api/files/create",
            json!({"session": s, "path": "src/lib.py", "kind": "file", "content": "X = 1\n"}),
        )
        .await;
    let made = link(&mut alice, &s, None).await;
    let token = made["token"].as_str().unwrap().to_string();
    assert_eq!(token.len(), 43);
    assert!(made["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/p/{token}")));

    // Only the token's hash is kept.
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("SELECT token_hash FROM public_links")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].len(), 32);
    let dump: String = sqlx::query_scalar("SELECT row_to_json(l)::text FROM public_links l")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(!dump.contains(&token), "{dump}");

    // Anyone with it, signed in or not, reads the tree and the files.
    let mut anyone = Client::new(&app);
    let tree = anyone.ok("/api/public/tree", json!({"token": token})).await;
    assert_eq!(tree["owner"], "alice");
    let paths: Vec<&str> = tree["tree"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["main.py", "src", "src/lib.py"]);
    let file = anyone
        .ok(
            "/api/public/read",
            json!({"token": token, "path": "src/lib.py"}),
        )
        .await;
    assert_eq!(file["content"], "X = 1\n");
    // Current files: a change shows at once.
    let base = file["hash"].clone();
    alice
        .ok(
            "/api/files/save",
            json!({"session": s, "path": "src/lib.py", "content": "X = 2\n", "base_hash": base}),
        )
        .await;
    let file = anyone
        .ok(
            "/api/public/read",
            json!({"token": token, "path": "src/lib.py"}),
        )
        .await;
    assert_eq!(file["content"], "X = 2\n");

    // Paths that climb out, or name nothing, read nothing.
    for path in ["../etc/passwd", "/etc/passwd", "nope.py"] {
        let r = anyone
            .post("/api/public/read", json!({"token": token, "path": path}))
            .await;
        assert!(
            [StatusCode::NOT_FOUND, StatusCode::UNPROCESSABLE_ENTITY].contains(&r.status),
            "{path}: {} {}",
            r.status,
            r.body
        );
    }
    // The page renders the files without signing in.
    let page = get(&app, &format!("/p/{token}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("main.py") && page.body.contains("alice"));
    // Nothing else: the session's own API answers 401 without a login.
    for f in ["/api/files/tree", "/api/history/list", "/api/runs/list"] {
        let r = anyone
            .post(f, json!({"session": s, "token": token, "path": "main.py"}))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{f}: {}", r.body);
    }
    // Views were counted (the tree call and the page), and no sandbox was made.
    let links = alice.ok("/api/links/list", json!({"session": s})).await;
    assert_eq!(links[0]["views"], 2);
    assert!(links[0]["last_viewed_at"].is_string());
    assert!(links[0].get("token").is_none());
    assert!(!dir.holds(&s), "a sandbox was made for a link's reader");
}

#[sqlx::test(migrations = "../migrations")]
async fn revoked_expired_and_foreign_links_answer_404(pool: PgPool) {
    let dir = tempdir::Dir::new("revoke");
    let app = app(&pool, &dir.0);
    let mut alice = Client::register(&app, "alice").await;
    let s = alice.session().await;
    let a = link(&mut alice, &s, None).await;
    let b = link(&mut alice, &s, Some(3600)).await;
    let (ta, tb) = (a["token"].clone(), b["token"].clone());
    let mut anyone = Client::new(&app);
    anyone.ok("/api/public/tree", json!({"token": ta})).await;

    alice
        .ok("/api/links/revoke", json!({"session": s, "id": a["id"]}))
        .await;
    let r = anyone
        .fails("/api/public/tree", json!({"token": ta}), 404)
        .await;
    assert_eq!(r["message"], "no such link");
    anyone
        .fails(
            "/api/public/read",
            json!({"token": ta, "path": "main.py"}),
            404,
        )
        .await;
    assert_eq!(
        get(&app, &format!("/p/{}", ta.as_str().unwrap()))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // The other link still works; revoked ones leave the list.
    anyone.ok("/api/public/tree", json!({"token": tb})).await;
    let list = alice.ok("/api/links/list", json!({"session": s})).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], b["id"]);
    // Revoking twice, or another session's link: 404.
    alice
        .fails(
            "/api/links/revoke",
            json!({"session": s, "id": a["id"]}),
            404,
        )
        .await;
    let other = alice.session().await;
    alice
        .fails(
            "/api/links/revoke",
            json!({"session": other, "id": b["id"]}),
            404,
        )
        .await;

    // Expired: 404 at once.
    sqlx::query("UPDATE public_links SET expires_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .unwrap();
    anyone
        .fails("/api/public/tree", json!({"token": tb}), 404)
        .await;
    let list = alice.ok("/api/links/list", json!({"session": s})).await;
    assert_eq!(list[0]["expired"], true);

    // Made-up tokens: 404 too, long or short.
    for t in ["", "x", &"a".repeat(43), &"a".repeat(5000)] {
        anyone
            .fails("/api/public/tree", json!({"token": t}), 404)
            .await;
    }
    // An expiry past the maximum, or not positive: 422.
    for secs in [0, -5, 366 * 86_400] {
        alice
            .fails(
                "/api/links/create",
                json!({"session": s, "expires_in_secs": secs}),
                422,
            )
            .await;
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn only_managers_make_and_see_links(pool: PgPool) {
    let dir = tempdir::Dir::new("roles");
    let app = app(&pool, &dir.0);
    let mut alice = Client::register(&app, "alice").await;
    let s = alice.session().await;
    let mut bob = Client::register(&app, "bob").await;
    let mut carol = Client::register(&app, "carol").await;
    alice.share(&s, "bob", "editor").await;
    alice.share(&s, "carol", "admin").await;
    bob.fails("/api/links/create", json!({"session": s}), 403)
        .await;
    bob.fails("/api/links/list", json!({"session": s}), 403)
        .await;
    let made = link(&mut carol, &s, None).await;
    let list = alice.ok("/api/links/list", json!({"session": s})).await;
    assert_eq!(list[0]["created_by"], "carol");
    bob.fails(
        "/api/links/revoke",
        json!({"session": s, "id": made["id"]}),
        403,
    )
    .await;
    let mut mallory = Client::register(&app, "mallory").await;
    mallory
        .fails("/api/links/list", json!({"session": s}), 404)
        .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn readers_fork_and_strangers_cannot(pool: PgPool) {
    let dir = tempdir::Dir::new("fork");
    let app = app(&pool, &dir.0);
    let mut alice = Client::register(&app, "alice").await;
    let s = alice.session().await;
    let files = [("a/b/deep.txt", "deep\n"), ("a/top.txt", "top\n")];
    alice.write_files(&s, &files).await;
    alice.folder(&s, "empty").await;
    let mut vera = Client::register(&app, "vera").await;
    alice.share(&s, "vera", "viewer").await;

    // A viewer forks: a session of her own, the same tree and contents.
    let fork = vera.ok("/api/sessions/fork", json!({"session": s})).await;
    assert_eq!(fork["name"], "Copy of work");
    assert_eq!(fork["role"], "owner");
    assert_eq!(fork["owner"], "vera");
    let f = fork["uuid"].as_str().unwrap();
    let tree = |c: Value| -> Vec<(String, String, Value)> {
        c.as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["path"].as_str().unwrap().to_string(),
                    i["kind"].as_str().unwrap().to_string(),
                    i["hash"].clone(),
                )
            })
            .collect()
    };
    let original = tree(alice.ok("/api/files/tree", json!({"session": s})).await);
    let copied = tree(vera.ok("/api/files/tree", json!({"session": f})).await);
    assert_eq!(original, copied);
    let deep = vera
        .ok(
            "/api/files/read",
            json!({"session": f, "path": "a/b/deep.txt"}),
        )
        .await;
    assert_eq!(deep["content"], "deep\n");
    // Its history starts at the fork; the original is untouched by its edits.
    let versions = vera
        .ok(
            "/api/history/list",
            json!({"session": f, "path": "a/top.txt"}),
        )
        .await;
    assert_eq!(versions[0]["source"], "fork", "{versions}");
    vera.ok(
        "/api/files/save",
        json!({"session": f, "path": "a/top.txt", "content": "mine\n", "base_hash": copied[3].2}),
    )
    .await;
    let top = alice
        .ok(
            "/api/files/read",
            json!({"session": s, "path": "a/top.txt"}),
        )
        .await;
    assert_eq!(top["content"], "top\n");
    // A fork of one's own, named.
    let named = alice
        .ok(
            "/api/sessions/fork",
            json!({"session": s, "name": "Experiment"}),
        )
        .await;
    assert_eq!(named["name"], "Experiment");
    // The original counts its forks.
    let opened = alice.ok("/api/sessions/open", json!({"session": s})).await;
    assert_eq!(opened["forks"], 2);
    let forked_from: Option<i64> =
        sqlx::query_scalar("SELECT forked_from FROM code_sessions WHERE uuid = $1::uuid")
            .bind(f)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(forked_from.is_some());

    // An unrelated user: 404, as if it did not exist; signed out: 401.
    let mut mallory = Client::register(&app, "mallory").await;
    let r = mallory
        .fails("/api/sessions/fork", json!({"session": s}), 404)
        .await;
    assert_eq!(r["message"], "no such session");
    Client::new(&app)
        .fails("/api/sessions/fork", json!({"session": s}), 401)
        .await;
    mallory.fails("/api/sessions/fork", json!({}), 422).await;

    // With a link, mallory may: the link is her way to read it.
    let made = link(&mut alice, &s, None).await;
    let token = made["token"].clone();
    Client::new(&app)
        .fails("/api/sessions/fork", json!({"token": token}), 401)
        .await;
    let hers = mallory
        .ok("/api/sessions/fork", json!({"token": token}))
        .await;
    assert_eq!(hers["owner"], "mallory");
    // A link to one session does not fork another.
    let other = alice.session().await;
    mallory
        .fails(
            "/api/sessions/fork",
            json!({"token": token, "session": other}),
            404,
        )
        .await;
    alice
        .ok("/api/links/revoke", json!({"session": s, "id": made["id"]}))
        .await;
    mallory
        .fails("/api/sessions/fork", json!({"token": token}), 404)
        .await;
    let tree = get(&app, "/").await;
    assert_eq!(tree.status, StatusCode::OK);
}

#[sqlx::test(migrations = "../migrations")]
async fn sessions_start_from_starters_and_own_templates(pool: PgPool) {
    app::server::templates::seed(&pool).await.unwrap();
    // Seeding again (a restart) changes nothing.
    app::server::templates::seed(&pool).await.unwrap();
    let dir = tempdir::Dir::new("templates");
    let app = app(&pool, &dir.0);
    let mut alice = Client::register(&app, "alice").await;
    let list = alice.ok("/api/templates/list", json!({})).await;
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    for want in ["python", "javascript", "c", "bash"] {
        assert!(ids.contains(&want), "{ids:?}");
    }

    // The C starter: its files, its language.
    let c = alice
        .ok(
            "/api/sessions/create",
            json!({"name": "fib", "template": "c"}),
        )
        .await;
    assert_eq!(c["language"], "c");
    let cs = c["uuid"].as_str().unwrap();
    let files: Vec<String> = alice
        .ok("/api/files/tree", json!({"session": cs}))
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(files, ["Makefile", "README.md", "main.c"]);
    // It runs in the sandbox.
    let run = alice
        .ok(
            "/api/runs/execute",
            json!({"session": cs, "path": "main.c"}),
        )
        .await;
    assert_eq!(run["status"], "finished", "{run}");
    assert!(
        run["stdout"].as_str().unwrap().contains("0 1 1 2 3 5 8"),
        "{run}"
    );

    // A session of one's own marked as a template is offered, to its owner only.
    alice
        .ok(
            "/api/sessions/set_template",
            json!({"session": cs, "is_template": true}),
        )
        .await;
    let list = alice.ok("/api/templates/list", json!({})).await;
    let mine: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["mine"] == true)
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["id"], cs);
    let from_mine = alice
        .ok(
            "/api/sessions/create",
            json!({"name": "again", "template": cs}),
        )
        .await;
    assert_eq!(from_mine["language"], "c");
    let mut bob = Client::register(&app, "bob").await;
    let theirs = bob.ok("/api/templates/list", json!({})).await;
    assert!(theirs
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["mine"] == false));
    bob.fails(
        "/api/sessions/create",
        json!({"name": "x", "template": cs}),
        404,
    )
    .await;
    bob.fails(
        "/api/sessions/set_template",
        json!({"session": cs, "is_template": false}),
        404,
    )
    .await;
    // Not a template: fork it instead.
    let plain = alice.session().await;
    alice
        .fails(
            "/api/sessions/create",
            json!({"name": "x", "template": plain}),
            422,
        )
        .await;
    alice
        .fails(
            "/api/sessions/create",
            json!({"name": "x", "template": "cobol"}),
            404,
        )
        .await;
}

#[test]
fn link_tokens_stay_out_of_the_logs() {
    assert_eq!(server::routes::logged_path("/p/abcdef"), "/p/…");
    assert_eq!(server::routes::logged_path("/s/abc"), "/s/abc");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_session_list_is_searched_filtered_and_sorted(pool: PgPool) {
    let dir = tempdir::Dir::new("list");
    let app = app(&pool, &dir.0);
    let mut alice = Client::register(&app, "alice").await;
    let mut bob = Client::register(&app, "bob").await;
    let make = |c: &mut Client, name: &'static str, language: &'static str| {
        let mut c = c.clone();
        async move {
            c.ok(
                "/api/sessions/create",
                json!({"name": name, "language": language}),
            )
            .await["uuid"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let parser = make(&mut alice, "Parser", "rust").await;
    let _web = make(&mut alice, "website", "javascript").await;
    let notes = make(&mut bob, "Notes 100%", "python").await;
    bob.share(&notes, "alice", "viewer").await;
    let d = alice
        .ok(
            "/api/sessions/describe",
            json!({"session": parser, "description": "A parser for TOML", "tags": ["Rust", "#cli", "rust"]}),
        )
        .await;
    assert_eq!(d["tags"], json!(["rust", "cli"]));
    assert_eq!(d["description"], "A parser for TOML");
    alice
        .fails(
            "/api/sessions/describe",
            json!({"session": notes, "description": "", "tags": []}),
            403,
        )
        .await;
    alice
        .fails(
            "/api/sessions/describe",
            json!({"session": parser, "description": "", "tags": ["no spaces"]}),
            422,
        )
        .await;

    let names = |v: Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect()
    };
    let list = |filter: Value| {
        let mut c = alice.clone();
        async move { names(c.ok("/api/sessions/list", filter).await) }
    };
    assert_eq!(list(json!({"query": "toml"})).await, ["Parser"]);
    assert_eq!(list(json!({"query": "CLI"})).await, ["Parser"]);
    // Wildcards are plain characters.
    assert_eq!(list(json!({"query": "100%"})).await, ["Notes 100%"]);
    assert!(list(json!({"query": "_"})).await.is_empty());
    assert_eq!(list(json!({"language": "javascript"})).await, ["website"]);
    assert_eq!(list(json!({"tag": "#Rust"})).await, ["Parser"]);
    assert_eq!(list(json!({"scope": "shared"})).await, ["Notes 100%"]);
    assert_eq!(
        list(json!({"scope": "owned", "sort": "name"})).await,
        ["Parser", "website"]
    );
    assert_eq!(
        list(json!({"sort": "created"})).await,
        ["Notes 100%", "website", "Parser"]
    );
    // No filter: everything, most recently used first.
    assert_eq!(
        names(alice.ok("/api/sessions/list", json!({})).await).len(),
        3
    );
}
