//! Requests another site makes with a visitor's browser are refused: a plain
//! HTML form that would sign the visitor into an attacker's account, a JSON body
//! sent as `text/plain` (no CORS preflight), a terminal socket or an events
//! stream opened from elsewhere. Clients that say nothing of where they come
//! from (curl, scripts) are served. Pages carry a Content-Security-Policy with a
//! nonce of their own, and every answer the headers that keep it from being
//! framed, sniffed or referred elsewhere.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::{router, send, serve, Client};
use sqlx::PgPool;

const LOGIN: &str = r#"{"login": "alice", "password": "correct horse"}"#;

fn login(headers: &[(&str, &str)], content_type: &str, body: &str) -> Request<Body> {
    let mut req = Request::post("/api/auth/login")
        .header("content-type", content_type)
        .header("host", "ide.example:3000");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut req = req.body(Body::from(body.to_string())).unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [127, 0, 0, 1],
            40000,
        ))));
    req
}

#[sqlx::test(migrations = "../migrations")]
async fn other_sites_cannot_act_with_a_visitors_browser(pool: PgPool) {
    let app = router(pool);
    Client::register(&app, "alice").await;

    // Another site's form or script: refused before anything is read.
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("origin", "null")],
    ] {
        let r = send(&app, login(&headers, "application/json", LOGIN)).await;
        assert_eq!(r.status, 403, "{headers:?}: {}", r.body);
        assert_eq!(r.json()["message"], "requests from other sites are refused");
    }
    // A form post, or JSON as text/plain (both need no preflight), even same-site.
    let form = "login=alice&password=correct+horse";
    let r = send(&app, login(&[], "application/x-www-form-urlencoded", form)).await;
    assert_eq!(r.status, 415, "{}", r.body);
    let r = send(&app, login(&[], "text/plain", LOGIN)).await;
    assert_eq!(r.status, 415);

    // The IDE's own page, and clients that say nothing: served.
    for headers in [
        vec![("sec-fetch-site", "same-origin")],
        vec![("origin", "http://ide.example:3000")],
        vec![],
    ] {
        let r = send(&app, login(&headers, "application/json", LOGIN)).await;
        assert_eq!(r.status, 200, "{headers:?}: {}", r.body);
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn terminals_and_streams_refuse_other_origins(pool: PgPool) {
    let app = router(pool);
    let mut alice = Client::register(&app, "alice").await;
    let session = alice.session().await;
    let cookie = alice.cookie.clone().unwrap();

    // The events stream, asked for by another site's page.
    let stream = |site: &'static str| {
        Request::get(format!("/events/{session}"))
            .header("cookie", &cookie)
            .header("sec-fetch-site", site)
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(send(&app, stream("cross-site")).await.status, 403);
    let ok = app.clone();
    let res = tower::ServiceExt::oneshot(ok, stream("same-origin"))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // The terminal socket, over a real connection.
    let addr = serve(app.clone()).await;
    let handshake = |origin: String| {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = format!("ws://{addr}/ws/terminal/{session}")
            .into_client_request()
            .unwrap();
        req.headers_mut().insert("cookie", cookie.parse().unwrap());
        req.headers_mut().insert("origin", origin.parse().unwrap());
        tokio_tungstenite::connect_async(req)
    };
    match handshake("https://evil.example".into()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status(), 403)
        }
        other => panic!(
            "a foreign origin opened a terminal: {:?}",
            other.map(|_| ())
        ),
    }
    assert!(handshake(format!("http://{addr}")).await.is_ok());
}

#[sqlx::test(migrations = "../migrations")]
async fn pages_carry_a_policy_with_their_own_nonce_and_every_answer_its_headers(pool: PgPool) {
    let app = router(pool.clone());
    let page = common::get(&app, "/login").await;
    let csp = page.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .unwrap()
        .to_string();
    assert!(nonce.len() >= 16, "{csp}");
    for directive in [
        "script-src 'self' 'nonce-",
        "'wasm-unsafe-eval'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        assert!(csp.contains(directive), "{directive}: {csp}");
    }
    assert!(!csp.contains("'unsafe-eval'") && !csp.contains("script-src 'self' 'unsafe-inline'"));
    // Every inline script of the page carries it; none goes without.
    let inline: Vec<&str> = page
        .body
        .split("<script")
        .skip(1)
        .filter(|s| !s.starts_with(" src="))
        .collect();
    assert!(!inline.is_empty());
    for s in inline {
        assert!(s.contains(&format!("nonce=\"{nonce}\"")), "{s:.80}");
    }
    // A new page, a new nonce.
    let again = common::get(&app, "/login").await;
    assert!(!again.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains(&nonce));

    for r in [
        page,
        common::get(&app, "/api/nope").await,
        common::get(&app, "/healthz").await,
    ] {
        assert_eq!(r.headers["x-content-type-options"], "nosniff");
        assert_eq!(r.headers["x-frame-options"], "DENY");
        assert_eq!(r.headers["referrer-policy"], "same-origin");
        // Not served over HTTPS here: no HSTS.
        assert!(r.headers.get("strict-transport-security").is_none());
    }
}
