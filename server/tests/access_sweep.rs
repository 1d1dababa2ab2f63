//! The access sweep. Every server function Leptos has registered, every route of
//! the router that takes a session's id and every page is called as an anonymous
//! visitor, as an unrelated user and as a viewer, with the ids of a real session
//! of another user. Each answer must have the right status, hold none of that
//! user's data unless the caller may read it, and leave their session as it was.
//! A new endpoint without an access decision fails here; so does one whose
//! arguments are missing from `ARGS` below (400), until they are added.
//!
//! Then everything is called once more as the holder of a public link to the
//! session, without signing in: the link reads the current files and grants
//! nothing else.

#![recursion_limit = "256"]

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{router, serve, Client, Reply};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::collections::BTreeSet;

/// Functions anyone may call without signing in.
const PUBLIC: [&str; 9] = [
    "/api/auth/providers",
    "/api/auth/oauth/start",
    "/api/auth/oauth/callback",
    "/api/auth/register",
    "/api/auth/login",
    "/api/auth/logout",
    "/api/auth/me",
    "/api/auth/guest",
    "/api/health/info",
];
/// Functions about the caller's own account or sessions: they take no session
/// of anyone else's. Every other function takes one and is held to 401/404/403.
const OWN: [&str; 19] = [
    "/api/ai/keys/set",
    "/api/ai/keys/list",
    "/api/ai/keys/delete",
    "/api/ai/options",
    "/api/ai/usage",
    "/api/account/sign_in_methods",
    "/api/account/unlink",
    "/api/account/change_username",
    "/api/auth/logout_everywhere",
    "/api/sessions/list",
    "/api/sessions/create",
    "/api/templates/list",
    "/api/reviews/list",
    "/api/users/set_reviewer_level",
    "/api/settings/get",
    "/api/settings/set",
    "/api/account/change_password",
    "/api/account/change_email",
    "/api/account/delete",
];
/// Functions on the caller's own assistant conversations: to anyone else,
/// whatever their role, these do not exist.
const AUTHORED: [&str; 2] = ["/api/ai/messages", "/api/ai/stop"];
/// Functions that take a public link's token instead of a login.
const LINKED: [&str; 2] = ["/api/public/tree", "/api/public/read"];

const SECRET_NAME: &str = "Quarterly plans 7f3a";
const SECRET_FILE: &str = "payroll-9b2c.py";
const SECRET_TEXT: &str = "SALARY_TABLE_4d1e";

/// The victim's session, as it must stay.
async fn snapshot(pool: &PgPool, session: &str) -> Value {
    sqlx::query_scalar(
        "SELECT json_build_object(
            'session', (SELECT json_build_array(name, language, user_id, description, tags)
                        FROM code_sessions WHERE uuid = $1::uuid),
            'files', (SELECT json_agg(json_build_array(full_path, kind, content_hash, version) ORDER BY full_path)
                      FROM workspace_items WHERE session_uuid = $1::uuid),
            'sharing', (SELECT json_agg(json_build_array(c.user_id, c.role) ORDER BY c.user_id)
                        FROM session_collaborators c JOIN code_sessions s ON s.id = c.session_id
                        WHERE s.uuid = $1::uuid),
            'owner', (SELECT json_build_array(u.username, u.email, u.password_hash, u.reviewer_level)
                      FROM users u JOIN code_sessions s ON s.user_id = u.id WHERE s.uuid = $1::uuid),
            'history', (SELECT json_build_array(
                            (SELECT count(*) FROM file_versions v WHERE v.session_id = s.id),
                            (SELECT count(*) FROM deleted_items d WHERE d.session_id = s.id),
                            (SELECT count(*) FROM checkpoints c WHERE c.session_id = s.id))
                        FROM code_sessions s WHERE s.uuid = $1::uuid),
            'reviews', (SELECT json_agg(json_build_array(q.status, q.assigned_to, q.title, q.updated_at,
                            (SELECT json_agg(json_build_array(c.body, c.is_resolved, c.applied_at) ORDER BY c.id)
                             FROM review_comments c WHERE c.review_id = q.id),
                            (SELECT count(*) FROM review_history h WHERE h.review_id = q.id),
                            (SELECT count(*) FROM review_revisions r WHERE r.review_id = q.id)) ORDER BY q.id)
                        FROM review_requests q JOIN code_sessions s ON s.id = q.session_id
                        WHERE s.uuid = $1::uuid),
            'runs', (SELECT json_build_array(count(*), max(r.finished_at),
                            (SELECT count(*) FROM run_configs c WHERE c.session_id = s.id))
                     FROM code_sessions s LEFT JOIN runs r ON r.session_id = s.id
                     WHERE s.uuid = $1::uuid GROUP BY s.id),
            'links', (SELECT json_agg(json_build_array(l.uuid, l.expires_at, l.revoked_at) ORDER BY l.id)
                      FROM public_links l JOIN code_sessions s ON s.id = l.session_id
                      WHERE s.uuid = $1::uuid),
            'template', (SELECT is_template FROM code_sessions WHERE uuid = $1::uuid),
            'assistant', (SELECT json_build_array(
                            (SELECT json_agg(json_build_array(k.uuid, k.sealed, k.label) ORDER BY k.id)
                             FROM ai_keys k WHERE k.user_id = s.user_id),
                            (SELECT json_agg(json_build_array(c.uuid, c.updated_at, m.uuid, m.status, m.content) ORDER BY m.id)
                             FROM ai_conversations c JOIN ai_messages m ON m.conversation_id = c.id
                             WHERE c.session_id = s.id),
                            (SELECT count(*) FROM ai_requests r WHERE r.user_id = s.user_id))
                          FROM code_sessions s WHERE s.uuid = $1::uuid))",
    )
    .bind(session)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn unchanged(pool: &PgPool, session: &str, before: &Value, what: &str) {
    assert_eq!(
        &snapshot(pool, session).await,
        before,
        "{what} changed the session"
    );
}

fn leaks(body: &str) -> Option<&'static str> {
    [SECRET_NAME, SECRET_FILE, SECRET_TEXT]
        .into_iter()
        .find(|s| body.contains(s))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Anonymous,
    Stranger,
    Viewer,
}

impl Who {
    const ALL: [Who; 3] = [Who::Anonymous, Who::Stranger, Who::Viewer];

    /// A fresh login each time: a call may sign the caller out or switch users.
    async fn client(self, app: &axum::Router) -> Client {
        let mut c = Client::new(app);
        let name = match self {
            Who::Anonymous => return c,
            Who::Stranger => "mallory",
            Who::Viewer => "vera",
        };
        // By email: a call may have changed their username.
        c.ok(
            "/api/auth/login",
            json!({"login": format!("{name}@example.com"), "password": "correct horse"}),
        )
        .await;
        c
    }
}

async fn call(c: &mut Client, path: &str, method: &Method, args: &Value) -> Reply {
    if method == Method::POST {
        return c.post(path, args.clone()).await;
    }
    // A GET function takes its arguments in the query.
    let query: Vec<String> = args
        .as_object()
        .unwrap()
        .iter()
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some(format!("{k}={}", urlencode(s))),
            Value::Bool(_) | Value::Number(_) => Some(format!("{k}={v}")),
            _ => None,
        })
        .collect();
    let uri = format!("{path}?{}", query.join("&"));
    let mut req = Request::builder()
        .method(method.clone())
        .uri(uri)
        .header("host", "ide.test");
    if let Some(cookie) = &c.cookie {
        req = req.header("cookie", cookie);
    }
    common::send(&c.app, req.body(Body::empty()).unwrap()).await
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn every_endpoint_takes_its_access_decision(pool: PgPool) {
    let app = router(pool.clone());
    let mut alice = Client::register(&app, "alice").await;
    let created = alice
        .ok("/api/sessions/create", json!({"name": SECRET_NAME}))
        .await;
    let s = created["uuid"].as_str().unwrap().to_string();
    alice
        .ok(
            "/api/files/create",
            json!({"session": s, "path": SECRET_FILE, "kind": "file", "content": SECRET_TEXT}),
        )
        .await;
    let main = alice
        .ok("/api/files/read", json!({"session": s, "path": "main.py"}))
        .await;
    let checkpoint = alice
        .ok(
            "/api/checkpoints/create",
            json!({"session": s, "label": "before"}),
        )
        .await;
    let review = alice
        .ok(
            "/api/reviews/submit",
            json!({"session": s, "title": "Weekly look", "description": SECRET_TEXT, "priority": "low"}),
        )
        .await;
    let review = review["id"].as_str().unwrap().to_string();
    let comment = alice
        .ok(
            "/api/reviews/comment",
            json!({"id": review, "path": SECRET_FILE, "line": 1, "kind": "question", "body": SECRET_TEXT}),
        )
        .await;
    let run = alice
        .ok(
            "/api/runs/execute",
            json!({"session": s, "command": format!("echo {SECRET_TEXT}")}),
        )
        .await;
    assert_eq!(run["stdout"], format!("{SECRET_TEXT}\n"));
    let run = run["id"].as_str().unwrap().to_string();
    let valid = alice.ok("/api/links/create", json!({"session": s})).await["token"].clone();
    let revoked = alice.ok("/api/links/create", json!({"session": s})).await;
    alice
        .ok(
            "/api/links/revoke",
            json!({"session": s, "id": revoked["id"]}),
        )
        .await;
    let revoked = revoked["token"].as_str().unwrap().to_string();
    // An assistant conversation, on a key whose provider is not there: the
    // answer fails at once, and is over before the sweep begins.
    let key = alice
        .ok(
            "/api/ai/keys/set",
            json!({"provider": "openai", "base_url": "http://127.0.0.1:9/v1", "label": "k", "key": "sk-sweep-0001"}),
        )
        .await;
    let asked = alice
        .ok(
            "/api/ai/chat",
            json!({"session": s, "message": SECRET_TEXT, "context": {"files": [SECRET_FILE]}}),
        )
        .await;
    let answer = asked["message"].as_str().unwrap().to_string();
    let stream = alice
        .send_raw(Request::get(format!("/ai/stream/{answer}")))
        .await;
    http_body_util::BodyExt::collect(stream.into_body())
        .await
        .unwrap();
    Client::register(&app, "mallory").await;
    Client::register(&app, "vera").await;
    alice.share(&s, "vera", "viewer").await;
    let before = snapshot(&pool, &s).await;

    // Every argument any function takes, valid for the victim's session: a
    // function that forgot its access decision would do its work and be caught.
    let args = json!({
        "session": s, "path": "main.py", "paths": ["main.py", SECRET_FILE],
        "content": "overwritten", "base_hash": main["hash"], "kind": "file",
        "from": "main.py", "to": "moved.py", "name": "renamed", "language": "python",
        "limit": 10, "user": "mallory", "role": "admin",
        // A username no call can take from its owner: each renames only the caller.
        "username": "mallory", "email": "sweeper@example.com", "password": "not the password",
        "login": "alice", "reviewer_level": 1,
        "version": 1, "to": "restored.py", "label": "mine", "checkpoint": checkpoint["id"],
        "query": "SALARY", "regex": false, "case_sensitive": false, "whole_word": false,
        "include": [], "exclude": [], "max_results": 100, "replacement": "overwritten",
        "preview": false,
        "files": [{"path": SECRET_FILE, "hash": main["hash"], "content": "overwritten"}],
        "folder": "src", "replace": true, "zip": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==",
        "id": review, "comment": comment["id"], "filter": "queue", "title": "taken over",
        "description": "", "priority": "urgent", "reviewer": "mallory", "decision": "approve",
        "note": "n", "resolved": true, "revision": 1, "body": "b", "level": 0, "line": 1,
        "command": "echo overwritten > main.py", "data": "x", "eof": true,
        "template": s, "is_template": true, "expires_in_secs": 60,
        "settings": {"theme": "light"}, "current_password": "not the password",
        "new_password": "another password", "confirm": "alice", "tags": ["leaked"],
        "provider": "github", "link": true, "state": "forged-state", "code": "stolen-code",
        "message": "overwritten", "context": {"files": [SECRET_FILE]},
        "conversation": asked["conversation"], "key": key["id"], "base_url": "http://127.0.0.1:9/v1",
    });
    // The runs' functions take a run's id where the reviews' take a request's.
    let mut run_args = args.clone();
    run_args["id"] = json!(run);
    // The assistant's take an answer's id.
    let mut ai_args = args.clone();
    ai_args["id"] = json!(answer);
    // A revoked link's token: as good as none.
    let mut link_args = args.clone();
    link_args["token"] = json!(revoked);

    let functions: BTreeSet<(String, String)> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, method)| (path.to_string(), method.to_string()))
        .collect();
    assert!(functions.len() >= 20, "the registry: {functions:?}");
    let mut checked = 0;
    for (path, method) in &functions {
        let method: Method = method.parse().unwrap();
        for who in Who::ALL {
            let mut c = who.client(&app).await;
            let linked = LINKED.contains(&path.as_str());
            let args = if path.starts_with("/api/runs/") {
                &run_args
            } else if path.starts_with("/api/ai/") {
                &ai_args
            } else if linked {
                &link_args
            } else {
                &args
            };
            let r = call(&mut c, path, &method, args).await;
            let what = format!("{path} as {who:?}: {} {}", r.status, r.body);
            assert!(
                r.status != StatusCode::BAD_REQUEST,
                "{what}: add its arguments to ARGS"
            );
            assert!(!r.status.is_server_error(), "{what}");
            let public = PUBLIC.contains(&path.as_str());
            let own = OWN.contains(&path.as_str());
            let authored = AUTHORED.contains(&path.as_str());
            match who {
                _ if linked => {
                    assert_eq!(r.status, StatusCode::NOT_FOUND, "{what}");
                    assert_eq!(r.json()["message"], "no such link", "{what}");
                }
                Who::Anonymous if !public => {
                    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}")
                }
                Who::Stranger if !public && !own => {
                    assert_eq!(r.status, StatusCode::NOT_FOUND, "{what}");
                    let message = r.json()["message"].as_str().unwrap_or_default().to_string();
                    assert!(
                        [
                            "no such session",
                            "no such review",
                            "no such run",
                            "no such conversation",
                            "no such answer"
                        ]
                        .contains(&message.as_str()),
                        "{what}"
                    );
                }
                Who::Viewer if authored => {
                    assert_eq!(r.status, StatusCode::NOT_FOUND, "{what}")
                }
                Who::Viewer if !public && !own => assert!(
                    [StatusCode::OK, StatusCode::FORBIDDEN].contains(&r.status),
                    "{what}"
                ),
                _ => {}
            }
            // A viewer may read the session, wherever it shows.
            if who != Who::Viewer {
                assert_eq!(leaks(&r.body), None, "{what}");
            }
            unchanged(&pool, &s, &before, &what).await;
            checked += 1;
        }
    }

    // The holder of a live link, not signed in: the linked functions read, the
    // rest answer as to anyone signed out.
    let mut holder_args = args.clone();
    holder_args["token"] = valid.clone();
    for (path, method) in &functions {
        let mut c = Client::new(&app);
        let r = call(&mut c, path, &method.parse().unwrap(), &holder_args).await;
        let what = format!("{path} as a link holder: {} {}", r.status, r.body);
        if LINKED.contains(&path.as_str()) {
            assert_eq!(r.status, StatusCode::OK, "{what}");
        } else if !PUBLIC.contains(&path.as_str()) {
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}");
            assert_eq!(leaks(&r.body), None, "{what}");
        }
        unchanged(&pool, &s, &before, &what).await;
        checked += 1;
    }

    // The routes outside the server functions that take a session's id, over a
    // real socket (a WebSocket handshake; a stream answers it with its status).
    let addr = serve(app.clone()).await;
    for (route, _) in server::routes::session_routes() {
        let uri = route
            .replace("{session}", &s)
            .replace("{review}", &review)
            .replace("{run}", &run)
            .replace("{message}", &answer);
        for who in Who::ALL {
            let c = who.client(&app).await;
            let status = handshake(addr, &uri, c.cookie.as_deref()).await;
            let what = format!("{uri} as {who:?}: {status}");
            let want: &[u16] = match who {
                Who::Anonymous => &[401],
                Who::Stranger => &[404],
                // A viewer reads the stream but opens no terminal.
                Who::Viewer if route.starts_with("/ws/terminal") => &[403],
                // An assistant's answer is its author's alone.
                Who::Viewer if route.starts_with("/ai/") => &[404],
                Who::Viewer => &[200],
            };
            assert!(want.contains(&status), "{what}");
            checked += 1;
        }
    }

    // Pages: the session's own page and every other.
    for listing in leptos_axum::generate_route_list(app::App) {
        let id = if listing.path().starts_with("/reviews/") {
            &review
        } else if listing.path().starts_with("/p/") {
            &revoked
        } else {
            &s
        };
        let uri = fill(listing.path(), id);
        for who in Who::ALL {
            let c = who.client(&app).await;
            let mut req = Request::get(&uri);
            if let Some(cookie) = &c.cookie {
                req = req.header("cookie", cookie);
            }
            let r = common::send(&app, req.body(Body::empty()).unwrap()).await;
            let what = format!("page {uri} as {who:?}: {}", r.status);
            if uri.contains(&revoked) {
                assert_eq!(r.status, StatusCode::NOT_FOUND, "{what}");
            } else if uri.contains(id.as_str()) {
                let want = match who {
                    Who::Anonymous => StatusCode::UNAUTHORIZED,
                    Who::Stranger => StatusCode::NOT_FOUND,
                    Who::Viewer => StatusCode::OK,
                };
                assert_eq!(r.status, want, "{what}");
            }
            if who != Who::Viewer {
                assert_eq!(leaks(&r.body), None, "{what}");
            }
            checked += 1;
        }
    }
    // The live link's page, to anyone: the files, read-only.
    let page = common::get(&app, &format!("/p/{}", valid.as_str().unwrap())).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(SECRET_FILE));
    assert_eq!(snapshot(&pool, &s).await, before);
    println!("{checked} calls checked");
}

/// A route's path with every parameter set to `id`.
fn fill(path: &str, id: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.starts_with(':') || seg.starts_with('{') {
                id
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The status a WebSocket handshake on `uri` gets (101 when accepted).
async fn handshake(addr: std::net::SocketAddr, uri: &str, cookie: Option<&str>) -> u16 {
    use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Error};
    let mut req = format!("ws://{addr}{uri}").into_client_request().unwrap();
    if let Some(c) = cookie {
        req.headers_mut().insert("cookie", c.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok(_) => 101,
        Err(Error::Http(res)) => res.status().as_u16(),
        Err(e) => panic!("{uri}: {e}"),
    }
}

#[test]
fn every_route_parameter_is_filled() {
    assert_eq!(fill("/s/:uuid", "X"), "/s/X");
    assert_eq!(fill("/ws/terminal/{session}", "X"), "/ws/terminal/X");
}

// The sweep must not pass by calling nothing.
#[sqlx::test(migrations = "../migrations")]
async fn the_registry_holds_every_domain(pool: PgPool) {
    let _ = router(pool);
    let paths: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(p, _)| p.to_string())
        .collect();
    for domain in [
        "auth",
        "sessions",
        "files",
        "sharing",
        "terminal",
        "health",
        "history",
        "checkpoints",
        "search",
        "reviews",
        "runs",
        "users",
        "links",
        "public",
        "templates",
        "settings",
        "account",
        "ai",
    ] {
        assert!(
            paths
                .iter()
                .any(|p| p.starts_with(&format!("/api/{domain}/"))),
            "{domain} missing from {paths:?}"
        );
    }
}
