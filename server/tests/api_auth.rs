//! /api/auth/*: accounts, cookies, guests, rate limits.

mod common;

use common::{router, Client};
use serde_json::json;
use sqlx::PgPool;
use std::net::SocketAddr;

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

/// A client still holding `cookie` (someone who copied it, a planted one).
fn holding(app: &axum::Router, cookie: &Option<String>) -> Client {
    Client {
        cookie: cookie.clone(),
        ..Client::new(app)
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn every_sign_in_gets_a_new_cookie_and_ends_the_one_before(pool: PgPool) {
    let app = router(pool.clone());
    // A guest's cookie stops working once the guest registers.
    let mut c = Client::new(&app);
    c.ok("/api/auth/guest", json!({})).await;
    let guest = c.cookie.clone();
    c.ok(
        "/api/auth/register",
        json!({"username": "dora", "email": "dora@example.com", "password": "correct horse"}),
    )
    .await;
    assert_ne!(c.cookie, guest);
    assert_eq!(
        holding(&app, &guest).ok("/api/auth/me", json!({})).await,
        json!(null)
    );
    assert_eq!(c.ok("/api/auth/me", json!({})).await["username"], "dora");

    // Signing in over a cookie someone planted: a new one, and the planted one ends.
    let mut mallory = Client::register(&app, "mallory").await;
    let planted = mallory.cookie.clone();
    let mut victim = holding(&app, &planted);
    victim
        .ok(
            "/api/auth/login",
            json!({"login": "dora", "password": "correct horse"}),
        )
        .await;
    assert_ne!(victim.cookie, planted);
    assert_eq!(
        victim.ok("/api/auth/me", json!({})).await["username"],
        "dora"
    );
    assert_eq!(mallory.ok("/api/auth/me", json!({})).await, json!(null));
}

#[sqlx::test(migrations = "../migrations")]
async fn signing_out_everywhere_ends_every_login_and_its_streams(pool: PgPool) {
    let app = router(pool.clone());
    let mut laptop = Client::register(&app, "alice").await;
    let s = laptop.session().await;
    let mut phone = Client::new(&app);
    phone
        .ok(
            "/api/auth/login",
            json!({"login": "alice", "password": "correct horse"}),
        )
        .await;
    let mut stream = common::Events::open(&phone, &s).await.unwrap();
    stream.expect("hello", 5).await;
    assert_eq!(
        laptop.ok("/api/auth/logout_everywhere", json!({})).await,
        json!(2)
    );
    for c in [&mut laptop, &mut phone] {
        assert_eq!(c.ok("/api/auth/me", json!({})).await, json!(null));
    }
    stream.ends(10).await;
    // Signed out, there is nothing to end.
    laptop
        .fails("/api/auth/logout_everywhere", json!({}), 401)
        .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_login_lives_90_days_at_most_however_much_it_is_used(pool: PgPool) {
    let app = router(pool.clone());
    let mut c = Client::register(&app, "alice").await;
    // Begun 89 days ago, last renewed long enough ago to be renewed now.
    sqlx::query(
        "UPDATE auth_sessions SET created_at = now() - interval '89 days',
                last_used_at = now() - interval '2 hours'",
    )
    .execute(&pool)
    .await
    .unwrap();
    let r = c.post("/api/auth/me", json!({})).await;
    let cookie = r
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let max_age: i64 = cookie
        .split("Max-Age=")
        .nth(1)
        .and_then(|v| v.split(';').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!((86_000..=86_400).contains(&max_age), "{cookie}");
    let left: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM expires_at - created_at)::float8 FROM auth_sessions",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(left, 90.0 * 86_400.0);
}

#[sqlx::test(migrations = "../migrations")]
async fn expired_logins_and_idle_guests_are_swept(pool: PgPool) {
    let app = router(pool.clone());
    let mut old = Client::new(&app);
    let start = old.ok("/api/auth/guest", json!({})).await;
    let mut fresh = Client::new(&app);
    fresh.ok("/api/auth/guest", json!({})).await;
    let mut alice = Client::register(&app, "alice").await;
    let mut expired = Client::new(&app);
    expired
        .ok(
            "/api/auth/login",
            json!({"login": "alice", "password": "correct horse"}),
        )
        .await;
    sqlx::query(
        "UPDATE users SET created_at = now() - interval '31 days'
         WHERE username = $1;
         ",
    )
    .bind(start["user"]["username"].as_str().unwrap())
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE auth_sessions a SET last_used_at = now() - interval '31 days'
         FROM users u WHERE u.id = a.user_id AND u.username = $1",
    )
    .bind(start["user"]["username"].as_str().unwrap())
    .execute(&pool)
    .await
    .unwrap();
    // The newest of alice's two logins expired.
    sqlx::query(
        "UPDATE auth_sessions SET expires_at = now() - interval '1 second'
         WHERE id = (SELECT max(id) FROM auth_sessions)",
    )
    .execute(&pool)
    .await
    .unwrap();

    let swept = app::server::auth::sweep(&pool, 30).await.unwrap();
    assert_eq!((swept.logins, swept.guests), (1, 1));
    assert_eq!(swept.sessions.len(), 1);
    let gone: i64 = sqlx::query_scalar("SELECT count(*) FROM code_sessions WHERE uuid = $1::uuid")
        .bind(start["session"]["uuid"].as_str().unwrap())
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(gone, 0);
    assert_eq!(old.ok("/api/auth/me", json!({})).await, json!(null));
    assert_eq!(expired.ok("/api/auth/me", json!({})).await, json!(null));
    assert_eq!(fresh.ok("/api/auth/me", json!({})).await["is_guest"], true);
    assert_eq!(
        alice.ok("/api/auth/me", json!({})).await["username"],
        "alice"
    );
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

/// A client at `ip` (the peer address the server sees).
fn at(app: &axum::Router, ip: [u8; 4]) -> Client {
    Client {
        address: SocketAddr::from((ip, 40000)),
        ..Client::new(app)
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn parallel_guesses_cannot_pass_the_limit_nor_lock_the_owner_out(pool: PgPool) {
    let app = router(pool);
    Client::register(&app, "carol").await;
    // Twenty wrong guesses at once from one address: only five are even checked.
    let guesses = (0..20).map(|_| {
        let mut c = at(&app, [198, 51, 100, 7]);
        async move {
            c.post(
                "/api/auth/login",
                json!({"login": "carol", "password": "wrong one"}),
            )
            .await
            .status
            .as_u16()
        }
    });
    let mut statuses = futures_util::future::join_all(guesses).await;
    statuses.sort();
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        15,
        "{statuses:?}"
    );
    // Carol, from her own address, still signs in.
    at(&app, [203, 0, 113, 1])
        .ok(
            "/api/auth/login",
            json!({"login": "carol", "password": "correct horse"}),
        )
        .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn behind_a_trusted_proxy_clients_are_told_apart(pool: PgPool) {
    let mut settings = common::settings();
    settings.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
    let app = common::router_configured(pool, settings);
    Client::register(&app, "carol").await;
    let via_proxy = |client: &str| {
        let mut c = at(&app, [10, 0, 0, 2]);
        let client = client.to_string();
        async move {
            c.forwarded_for = Some(client);
            c.post(
                "/api/auth/login",
                json!({"login": "carol", "password": "wrong one"}),
            )
            .await
            .status
            .as_u16()
        }
    };
    for _ in 0..5 {
        assert_eq!(via_proxy("198.51.100.7").await, 401);
    }
    assert_eq!(via_proxy("198.51.100.7").await, 429);
    // Another client behind the same proxy is not the first one.
    assert_eq!(via_proxy("198.51.100.8").await, 401);
    // An untrusted peer cannot pick its address by writing the header.
    let mut liar = at(&app, [192, 0, 2, 1]);
    for i in 0..6 {
        liar.forwarded_for = Some(format!("198.51.100.{}", 100 + i));
        let r = liar
            .post(
                "/api/auth/login",
                json!({"login": "carol", "password": "wrong one"}),
            )
            .await;
        assert_eq!(r.status.as_u16(), if i < 5 { 401 } else { 429 });
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn sign_ups_from_one_address_are_limited(pool: PgPool) {
    let mut settings = common::settings();
    settings.signups_per_hour = 3;
    let app = common::router_configured(pool, settings);
    for i in 0..3 {
        at(&app, [198, 51, 100, 7])
            .ok("/api/auth/guest", json!({}))
            .await;
        at(&app, [198, 51, 100, 7])
            .ok(
                "/api/auth/register",
                json!({"username": format!("user{i}"), "email": format!("u{i}@example.com"), "password": "correct horse"}),
            )
            .await;
    }
    let register = |name: &str, email: &str| json!({"username": name, "email": email, "password": "correct horse"});
    // Past the limit, 429; a taken name is told first (before any limit or hashing).
    for (uri, body, status) in [
        ("/api/auth/guest", json!({}), 429),
        (
            "/api/auth/register",
            register("user9", "u9@example.com"),
            429,
        ),
        (
            "/api/auth/register",
            register("USER1", "new@example.com"),
            409,
        ),
    ] {
        let e = at(&app, [198, 51, 100, 7]).fails(uri, body, status).await;
        if status == 429 {
            assert!(e["retry_after"].as_u64().unwrap() > 3000, "{e}");
        }
    }
    // Elsewhere is another count.
    at(&app, [198, 51, 100, 8])
        .ok("/api/auth/guest", json!({}))
        .await;
}
