//! /api/auth/*: accounts, cookies, guests, rate limits.

mod common;

use common::{router, Client};
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrations = "../migrations")]
async fn register_me_logout_login(pool: PgPool) {
    let app = router(pool.clone());
    let mut c = Client::register(&app, "alice").await;
    let me = c.ok("/api/auth/me", json!({})).await;
    assert_eq!(me["username"], "alice");
    assert!(me.get("password_hash").is_none());

    // Only a hash of the cookie's token is stored.
    let token = c.cookie.clone().unwrap();
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM auth_sessions WHERE token_hash::text LIKE '%' || $1 || '%'",
    )
    .bind(token.split_once('=').unwrap().1)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stored, 0);
    let hash: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE username = 'alice'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(hash.starts_with("$argon2id$"));

    c.ok("/api/auth/logout", json!({})).await;
    assert_eq!(c.ok("/api/auth/me", json!({})).await, json!(null));
    // The old cookie is dead even if a client keeps it.
    let mut replay = Client {
        cookie: Some(token),
        ..Client::new(&app)
    };
    assert_eq!(replay.ok("/api/auth/me", json!({})).await, json!(null));

    c.ok(
        "/api/auth/login",
        json!({"login": "ALICE@example.com", "password": "correct horse"}),
    )
    .await;
    assert_eq!(c.ok("/api/auth/me", json!({})).await["username"], "alice");
}

#[sqlx::test(migrations = "../migrations")]
async fn registration_rules_and_duplicates(pool: PgPool) {
    let app = router(pool);
    let mut c = Client::new(&app);
    let reg = |u: &str, e: &str, p: &str| json!({"username": u, "email": e, "password": p});
    for bad in [
        reg("al", "a@example.com", "correct horse"),
        reg("al ice", "a@example.com", "correct horse"),
        reg("guest-1", "a@example.com", "correct horse"),
        reg("alice", "not-an-email", "correct horse"),
        reg("alice", "a@example.com", "short"),
    ] {
        assert_eq!(
            c.fails("/api/auth/register", bad, 422).await["error"],
            "invalid"
        );
    }
    Client::register(&app, "alice").await;
    let mut other = Client::new(&app);
    let e = other
        .fails(
            "/api/auth/register",
            reg("Alice", "x@example.com", "correct horse"),
            409,
        )
        .await;
    assert_eq!(e["message"], "that username is taken");
    let e = other
        .fails(
            "/api/auth/register",
            reg("bob", "ALICE@example.com", "correct horse"),
            409,
        )
        .await;
    assert_eq!(e["message"], "that email is already registered");
    other
        .fails("/api/auth/register", json!({"username": "bob"}), 400)
        .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn wrong_passwords_are_rate_limited(pool: PgPool) {
    let app = router(pool);
    Client::register(&app, "carol").await;
    let mut c = Client::new(&app);
    for _ in 0..5 {
        c.fails(
            "/api/auth/login",
            json!({"login": "carol", "password": "wrong one"}),
            401,
        )
        .await;
    }
    let e = c
        .fails(
            "/api/auth/login",
            json!({"login": "carol", "password": "correct horse"}),
            429,
        )
        .await;
    assert!(e["retry_after"].as_u64().unwrap() > 0);
    // Unknown users answer exactly like wrong passwords.
    let e = c
        .fails(
            "/api/auth/login",
            json!({"login": "nobody", "password": "whatever1"}),
            401,
        )
        .await;
    assert_eq!(e["message"], "wrong username, email or password");
}

#[sqlx::test(migrations = "../migrations")]
async fn many_failures_from_one_address_are_limited(pool: PgPool) {
    let app = router(pool);
    let mut c = Client::new(&app);
    for i in 0..30 {
        c.fails(
            "/api/auth/login",
            json!({"login": format!("u{i}"), "password": "wrong one"}),
            401,
        )
        .await;
    }
    c.fails(
        "/api/auth/login",
        json!({"login": "fresh", "password": "wrong one"}),
        429,
    )
    .await;
    let mut elsewhere = Client {
        address: ([127, 0, 0, 2], 1).into(),
        ..Client::new(&app)
    };
    elsewhere
        .fails(
            "/api/auth/login",
            json!({"login": "fresh", "password": "wrong one"}),
            401,
        )
        .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_guest_works_at_once_and_keeps_everything_on_registering(pool: PgPool) {
    let app = router(pool);
    let mut c = Client::new(&app);
    let start = c.ok("/api/auth/guest", json!({})).await;
    assert_eq!(start["user"]["is_guest"], true);
    let uuid = start["session"]["uuid"].as_str().unwrap().to_string();
    let tree = c.ok("/api/files/tree", json!({"session": uuid})).await;
    assert_eq!(tree[0]["path"], "main.py");

    let user = c
        .ok(
            "/api/auth/register",
            json!({"username": "dora", "email": "dora@example.com", "password": "correct horse"}),
        )
        .await;
    assert_eq!(user["is_guest"], false);
    let list = c.ok("/api/sessions/list", json!({})).await;
    assert_eq!(list[0]["uuid"], uuid.as_str());
}

#[sqlx::test(migrations = "../migrations")]
async fn own_reviewer_level_up_to_junior(pool: PgPool) {
    let app = router(pool);
    let mut c = Client::register(&app, "erin").await;
    let set = |level: i64| json!({"user": "erin", "level": level});
    c.ok("/api/users/set_reviewer_level", set(1)).await;
    let u = c.ok("/api/auth/me", json!({})).await;
    assert_eq!(
        (u["is_reviewer"].as_bool(), u["reviewer_level"].as_i64()),
        (Some(true), Some(1))
    );
    c.fails("/api/users/set_reviewer_level", set(3), 422).await;
    c.fails("/api/users/set_reviewer_level", set(2), 403).await;
    c.ok("/api/users/set_reviewer_level", set(0)).await;
    let u = c.ok("/api/auth/me", json!({})).await;
    assert_eq!(u["is_reviewer"], false);
    Client::new(&app)
        .fails("/api/users/set_reviewer_level", set(1), 401)
        .await;
}
