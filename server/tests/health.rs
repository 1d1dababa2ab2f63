//! Probes, the health server function and API error shapes, over a real database;
//! and what changes when served over HTTPS.

mod common;

use axum::http::StatusCode;
use common::{get, router};
use sqlx::PgPool;

#[sqlx::test(migrations = "../migrations")]
async fn healthz_and_readyz_answer(pool: PgPool) {
    let app = router(pool);
    let alive = get(&app, "/healthz").await;
    assert_eq!(alive.status, StatusCode::OK);
    let ready = get(&app, "/readyz").await;
    assert_eq!(
        (ready.status, ready.body.as_str()),
        (StatusCode::OK, "ready")
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn readyz_reports_a_closed_database(pool: PgPool) {
    let app = router(pool.clone());
    pool.close().await;
    let ready = get(&app, "/readyz").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[sqlx::test(migrations = "../migrations")]
async fn health_info_is_json(pool: PgPool) {
    let app = router(pool);
    let info = get(&app, "/api/health/info").await;
    assert_eq!(info.status, StatusCode::OK, "{}", info.body);
    let json = info.json();
    assert_eq!(json["database_ok"], true);
    assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
}

#[sqlx::test(migrations = "../migrations")]
async fn unknown_api_paths_are_json_404s(pool: PgPool) {
    let app = router(pool);
    let res = get(&app, "/api/nope").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.json()["error"], "not_found");
}

#[sqlx::test(migrations = "../migrations")]
async fn pages_render_on_the_server(pool: PgPool) {
    let app = router(pool);
    let home = get(&app, "/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("id=\"toggle-sidebar\""), "{}", home.body);
    let session = get(&app, "/s/0b7c2c34-1a4e-4c44-9a57-5b0f0b2f4f11").await;
    assert_eq!(session.status, StatusCode::UNAUTHORIZED);
    assert!(session.body.contains("Sign in to open this session"));
    let missing = get(&app, "/definitely/not/here").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

/// Served over HTTPS (`--secure-cookies`): the login cookie is `__Host-` and
/// Secure, and answers carry HSTS. Here because the cookie's name is the
/// process's: no test of this binary signs in the plain way meanwhile.
#[sqlx::test(migrations = "../migrations")]
async fn served_secure_the_login_cookie_is_host_only_and_hsts_is_sent(pool: PgPool) {
    let mut settings = common::settings();
    settings.secure_cookies = true;
    let app = common::router_configured(pool, settings);
    let mut c = common::Client::new(&app);
    let r = c.post("/api/auth/guest", serde_json::json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let cookie = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("__Host-webide_session="))
        .expect("the login cookie")
        .to_string();
    assert!(
        cookie.contains("; Path=/") && cookie.contains("; Secure") && !cookie.contains("Domain"),
        "{cookie}"
    );
    assert_eq!(r.headers["strict-transport-security"], "max-age=31536000");
    let token = cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_string();
    let me = |cookie: String| {
        let app = app.clone();
        async move {
            let mut c = common::Client {
                cookie: Some(cookie),
                ..common::Client::new(&app)
            };
            c.ok("/api/auth/me", serde_json::json!({})).await
        }
    };
    assert_eq!(
        me(format!("__Host-webide_session={token}")).await["is_guest"],
        true
    );
    // The same token under the plain name (which a sibling subdomain could set) is no login.
    assert_eq!(
        me(format!("webide_session={token}")).await,
        serde_json::Value::Null
    );
    app::server::login::serve_secure(false);
}
