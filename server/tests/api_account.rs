//! Settings kept on the server and rendered into every page, and the account:
//! password and email changes, and deletion with everything owned.

mod common;

use axum::http::StatusCode;
use common::{router, Client};
use serde_json::json;
use sqlx::PgPool;

/// The settings cookie a response set, as the next request would send it.
fn prefs_cookie(r: &common::Reply) -> Option<String> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("webide_prefs="))
        .map(|c| c.split(';').next().unwrap().to_string())
}

#[sqlx::test(migrations = "../migrations")]
async fn settings_are_kept_and_render_with_the_page(pool: PgPool) {
    let app = router(pool.clone());
    let mut alice = Client::register(&app, "alice").await;
    let defaults = alice.ok("/api/settings/get", json!({})).await;
    assert_eq!(defaults["theme"], "dark");
    assert_eq!(defaults["tab_size"], 4);

    let mut wanted = defaults.clone();
    wanted["theme"] = json!("light");
    wanted["editor_font_size"] = json!(16);
    wanted["word_wrap"] = json!(true);
    let r = alice
        .post("/api/settings/set", json!({"settings": wanted}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let cookie = prefs_cookie(&r).expect("the settings cookie");
    assert_eq!(alice.ok("/api/settings/get", json!({})).await, wanted);

    // A value out of range: 422 naming it, and nothing changes.
    let mut bad = wanted.clone();
    bad["tab_size"] = json!(40);
    let e = alice
        .fails("/api/settings/set", json!({"settings": bad}), 422)
        .await;
    assert!(e["message"].as_str().unwrap().contains("tab size"), "{e}");
    assert_eq!(alice.ok("/api/settings/get", json!({})).await, wanted);

    // The page is rendered in the theme from the first byte.
    let page = |cookie: Option<String>| {
        let app = app.clone();
        async move {
            let mut req = axum::http::Request::get("/login");
            if let Some(c) = cookie {
                req = req.header("cookie", c);
            }
            common::send(&app, req.body(axum::body::Body::empty()).unwrap()).await
        }
    };
    let lit = page(Some(cookie.clone())).await;
    assert!(
        lit.body.contains(r#"data-theme="light""#),
        "{}",
        &lit.body[..300]
    );
    assert!(page(None).await.body.contains(r#"data-theme="dark""#));
    // A forged cookie is ignored.
    let forged = page(Some("webide_prefs=%%%".into())).await;
    assert!(forged.body.contains(r#"data-theme="dark""#));

    // Signing in elsewhere brings them along; signing out forgets them.
    let mut elsewhere = Client::new(&app);
    let r = elsewhere
        .post(
            "/api/auth/login",
            json!({"login": "alice", "password": "correct horse"}),
        )
        .await;
    assert!(prefs_cookie(&r).unwrap().len() > "webide_prefs=".len());
    let r = elsewhere.post("/api/auth/logout", json!({})).await;
    assert_eq!(prefs_cookie(&r).as_deref(), Some("webide_prefs="));
    // Each user has their own.
    let mut bob = Client::register(&app, "bob").await;
    assert_eq!(
        bob.ok("/api/settings/get", json!({})).await["theme"],
        "dark"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_new_password_ends_the_other_logins(pool: PgPool) {
    let app = router(pool.clone());
    let mut here = Client::register(&app, "alice").await;
    let mut there = Client::new(&app);
    there
        .ok(
            "/api/auth/login",
            json!({"login": "alice", "password": "correct horse"}),
        )
        .await;
    here.fails(
        "/api/account/change_password",
        json!({"current_password": "wrong one", "new_password": "battery staple"}),
        403,
    )
    .await;
    here.fails(
        "/api/account/change_password",
        json!({"current_password": "correct horse", "new_password": "short"}),
        422,
    )
    .await;
    here.ok(
        "/api/account/change_password",
        json!({"current_password": "correct horse", "new_password": "battery staple"}),
    )
    .await;
    // This login stays; the other ended.
    here.ok("/api/sessions/list", json!({})).await;
    there.fails("/api/sessions/list", json!({}), 401).await;
    let mut again = Client::new(&app);
    again
        .fails(
            "/api/auth/login",
            json!({"login": "alice", "password": "correct horse"}),
            401,
        )
        .await;
    again
        .ok(
            "/api/auth/login",
            json!({"login": "alice", "password": "battery staple"}),
        )
        .await;

    // Email: needs the password, refuses one taken.
    Client::register(&app, "bob").await;
    here.fails(
        "/api/account/change_email",
        json!({"password": "battery staple", "email": "bob@example.com"}),
        409,
    )
    .await;
    here.fails(
        "/api/account/change_email",
        json!({"password": "nope", "email": "new@example.com"}),
        403,
    )
    .await;
    let me = here
        .ok(
            "/api/account/change_email",
            json!({"password": "battery staple", "email": "new@example.com"}),
        )
        .await;
    assert_eq!(me["email"], "new@example.com");
    Client::new(&app)
        .ok(
            "/api/auth/login",
            json!({"login": "new@example.com", "password": "battery staple"}),
        )
        .await;

    // A guest has no password to change.
    let mut guest = Client::new(&app);
    guest.ok("/api/auth/guest", json!({})).await;
    guest
        .fails(
            "/api/account/change_password",
            json!({"current_password": "", "new_password": "battery staple"}),
            403,
        )
        .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_deleted_account_takes_what_it_owns(pool: PgPool) {
    let app = router(pool.clone());
    let mut alice = Client::register(&app, "alice").await;
    let mine = alice.session().await;
    let mut bob = Client::register(&app, "bob").await;
    let theirs = bob.session().await;
    alice.share(&mine, "bob", "editor").await;
    bob.share(&theirs, "alice", "editor").await;

    alice
        .fails("/api/account/delete", json!({"confirm": "bob"}), 422)
        .await;
    let r = alice
        .post("/api/account/delete", json!({"confirm": "alice"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Signed out, gone, and so is what it owned; what it was given stays.
    alice.fails("/api/sessions/list", json!({}), 401).await;
    Client::new(&app)
        .fails(
            "/api/auth/login",
            json!({"login": "alice", "password": "correct horse"}),
            401,
        )
        .await;
    bob.fails("/api/sessions/open", json!({"session": mine}), 404)
        .await;
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM code_sessions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 1);
    let shares = bob
        .ok("/api/sharing/list", json!({"session": theirs}))
        .await;
    assert_eq!(shares.as_array().unwrap().len(), 1);
    // The name is free again.
    Client::register(&app, "alice").await;
}
