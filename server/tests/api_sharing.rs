//! Collaborators: sharing a session with other users as viewer, editor or admin,
//! what each role may do, and access that ends at once.

mod common;

use common::{refused, router, serve, Client, Events, Term};
use serde_json::json;
use sqlx::PgPool;

/// Alice's session, with bob, carol and dave registered.
async fn setup(pool: &PgPool) -> (axum::Router, Client, String, Client, Client, Client) {
    let app = router(pool.clone());
    let mut alice = Client::register(&app, "alice").await;
    let session = alice.session().await;
    let bob = Client::register(&app, "bob").await;
    let carol = Client::register(&app, "carol").await;
    let dave = Client::register(&app, "dave").await;
    (app, alice, session, bob, carol, dave)
}

#[sqlx::test(migrations = "../migrations")]
async fn shared_sessions_are_listed_with_role_and_owner(pool: PgPool) {
    let (_, mut alice, s, mut bob, _, _) = setup(&pool).await;
    alice.share(&s, "bob", "viewer").await;
    // By email, in any case.
    let list = alice.share(&s, "Carol@Example.com", "editor").await;
    assert_eq!(
        list,
        json!([
            {"user": "alice", "role": "owner"},
            {"user": "bob", "role": "viewer"},
            {"user": "carol", "role": "editor"},
        ])
    );
    let mine = bob.ok("/api/sessions/list", json!({})).await;
    assert_eq!(mine[0]["uuid"], s.as_str());
    assert_eq!(
        (&mine[0]["role"], &mine[0]["owner"]),
        (&json!("viewer"), &json!("alice"))
    );
    let own = alice.ok("/api/sessions/list", json!({})).await;
    assert_eq!(
        (&own[0]["role"], &own[0]["owner"]),
        (&json!("owner"), &json!("alice"))
    );
    // Every role may see who has access.
    assert_eq!(
        bob.ok("/api/sharing/list", json!({"session": s})).await,
        list
    );
    // A role changes in place.
    alice.share(&s, "bob", "editor").await;
    let opened = bob.ok("/api/sessions/open", json!({"session": s})).await;
    assert_eq!(opened["role"], "editor");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_viewer_reads_and_nothing_more(pool: PgPool) {
    let (app, mut alice, s, mut bob, _, _) = setup(&pool).await;
    alice.share(&s, "bob", "viewer").await;
    let file = bob
        .ok("/api/files/read", json!({"session": s, "path": "main.py"}))
        .await;
    bob.ok("/api/files/tree", json!({"session": s})).await;
    bob.ok(
        "/api/files/contents",
        json!({"session": s, "paths": ["main.py"]}),
    )
    .await;
    bob.ok("/api/terminal/history", json!({"session": s})).await;
    for (uri, body, missing) in [
        (
            "/api/files/save",
            json!({"session": s, "path": "main.py", "content": "x", "base_hash": file["hash"]}),
            "Changing files",
        ),
        (
            "/api/files/create",
            json!({"session": s, "path": "x.py", "kind": "file"}),
            "Changing files",
        ),
        (
            "/api/files/move",
            json!({"session": s, "from": "main.py", "to": "y.py"}),
            "Changing files",
        ),
        (
            "/api/files/delete",
            json!({"session": s, "path": "main.py"}),
            "Changing files",
        ),
        (
            "/api/sessions/rename",
            json!({"session": s, "name": "mine"}),
            "Managing sharing",
        ),
        (
            "/api/sessions/delete",
            json!({"session": s}),
            "Deleting the session",
        ),
        (
            "/api/sharing/set",
            json!({"session": s, "user": "carol", "role": "viewer"}),
            "Managing sharing",
        ),
    ] {
        let e = bob.fails(uri, body, 403).await;
        let message = e["message"].as_str().unwrap();
        assert!(message.starts_with(missing), "{uri}: {message}");
        assert!(
            message.ends_with("you are a viewer of this session"),
            "{uri}: {message}"
        );
    }
    // Invalid arguments are not looked at before the access decision.
    bob.fails(
        "/api/files/save",
        json!({"session": s, "path": "../x", "content": "", "base_hash": ""}),
        403,
    )
    .await;
    let addr = serve(app).await;
    assert_eq!(refused(addr, &s, bob.cookie.as_deref()).await, 403);
    assert_eq!(
        alice
            .ok("/api/files/read", json!({"session": s, "path": "main.py"}))
            .await["hash"],
        file["hash"],
        "nothing changed"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn an_editor_writes_and_runs_in_the_owners_sandbox(pool: PgPool) {
    let (app, mut alice, s, _, mut carol, _) = setup(&pool).await;
    alice.share(&s, "bob", "editor").await;
    let mut bob = Client::new(&app);
    bob.ok(
        "/api/auth/login",
        json!({"login": "bob", "password": "correct horse"}),
    )
    .await;
    let file = bob
        .ok("/api/files/read", json!({"session": s, "path": "main.py"}))
        .await;
    bob.ok(
        "/api/files/save",
        json!({"session": s, "path": "main.py", "content": "print('bob was here')\n", "base_hash": file["hash"]}),
    )
    .await;
    let addr = serve(app.clone()).await;
    let mut t = Term::ready(addr, &bob, &s).await;
    assert!(t.run("cat main.py").await.contains("bob was here"));
    // The sandbox is the session's: the same one alice's terminals use.
    let mut mine = Term::ready(addr, &alice, &s).await;
    t.run("echo from-bob > shared.txt").await;
    assert!(mine.run("cat shared.txt").await.contains("from-bob"));
    // Editors neither manage nor delete.
    bob.fails(
        "/api/sessions/rename",
        json!({"session": s, "name": "x"}),
        403,
    )
    .await;
    bob.fails(
        "/api/sharing/set",
        json!({"session": s, "user": "carol", "role": "viewer"}),
        403,
    )
    .await;
    bob.fails("/api/sessions/delete", json!({"session": s}), 403)
        .await;
    // Someone without a role is told nothing.
    carol
        .fails("/api/files/tree", json!({"session": s}), 404)
        .await;
    assert_eq!(refused(addr, &s, carol.cookie.as_deref()).await, 404);
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_sharing_input_reveals_nothing(pool: PgPool) {
    let (app, mut alice, s, _, _, _) = setup(&pool).await;
    let mut guest = Client::new(&app);
    let g = guest.ok("/api/auth/guest", json!({})).await;
    let guest_name = g["user"]["username"].as_str().unwrap().to_string();
    let unknown = alice
        .fails(
            "/api/sharing/set",
            json!({"session": s, "user": "nobody", "role": "viewer"}),
            404,
        )
        .await;
    let as_guest = alice
        .fails(
            "/api/sharing/set",
            json!({"session": s, "user": guest_name, "role": "viewer"}),
            404,
        )
        .await;
    assert_eq!(unknown["message"], "no such user: nobody");
    assert_eq!(as_guest["message"], format!("no such user: {guest_name}"));
    for (uri, body, status) in [
        (
            "/api/sharing/set",
            json!({"session": s, "user": "alice", "role": "viewer"}),
            422,
        ),
        (
            "/api/sharing/set",
            json!({"session": s, "user": "bob", "role": "owner"}),
            422,
        ),
        (
            "/api/sharing/set",
            json!({"session": s, "user": "bob", "role": "boss"}),
            400,
        ),
        (
            "/api/sharing/remove",
            json!({"session": s, "user": "bob"}),
            404,
        ),
        (
            "/api/sharing/remove",
            json!({"session": s, "user": "alice"}),
            422,
        ),
    ] {
        alice.fails(uri, body, status).await;
    }
    assert_eq!(
        alice.ok("/api/sharing/list", json!({"session": s})).await,
        json!([{"user": "alice", "role": "owner"}])
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn admins_manage_but_never_over_the_owner_or_another_admin(pool: PgPool) {
    let (app, mut alice, s, _, _, _) = setup(&pool).await;
    alice.share(&s, "dave", "admin").await;
    alice.share(&s, "carol", "admin").await;
    let mut dave = Client::new(&app);
    dave.ok(
        "/api/auth/login",
        json!({"login": "dave", "password": "correct horse"}),
    )
    .await;
    // Settings and sharing.
    dave.ok(
        "/api/sessions/rename",
        json!({"session": s, "name": "renamed by dave"}),
    )
    .await;
    dave.share(&s, "bob", "viewer").await;
    dave.share(&s, "bob", "editor").await;
    dave.ok("/api/sharing/remove", json!({"session": s, "user": "bob"}))
        .await;
    // Not over another admin, nor the owner.
    dave.fails(
        "/api/sharing/set",
        json!({"session": s, "user": "carol", "role": "viewer"}),
        403,
    )
    .await;
    dave.fails(
        "/api/sharing/remove",
        json!({"session": s, "user": "carol"}),
        403,
    )
    .await;
    dave.fails(
        "/api/sharing/remove",
        json!({"session": s, "user": "alice"}),
        403,
    )
    .await;
    dave.fails(
        "/api/sharing/set",
        json!({"session": s, "user": "alice", "role": "viewer"}),
        422,
    )
    .await;
    dave.fails("/api/sessions/delete", json!({"session": s}), 403)
        .await;
    // The owner does all of it; anyone may leave.
    alice
        .ok(
            "/api/sharing/set",
            json!({"session": s, "user": "carol", "role": "editor"}),
        )
        .await;
    assert_eq!(
        dave.ok("/api/sharing/remove", json!({"session": s, "user": "dave"}))
            .await,
        json!([])
    );
    dave.fails("/api/files/tree", json!({"session": s}), 404)
        .await;
    assert_eq!(
        alice.ok("/api/sharing/list", json!({"session": s})).await,
        json!([{"user": "alice", "role": "owner"}, {"user": "carol", "role": "editor"}])
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn losing_access_closes_terminals_and_streams_at_once(pool: PgPool) {
    let (app, mut alice, s, _, _, _) = setup(&pool).await;
    let addr = serve(app.clone()).await;
    alice.share(&s, "bob", "editor").await;
    let mut bob = Client::new(&app);
    bob.ok(
        "/api/auth/login",
        json!({"login": "bob", "password": "correct horse"}),
    )
    .await;
    let mut t = Term::ready(addr, &bob, &s).await;
    let mut events = Events::open(&bob, &s).await.unwrap();

    // Made a viewer: told on the stream; the terminal (a right a viewer lacks) closes.
    alice.share(&s, "bob", "viewer").await;
    assert_eq!(events.expect("role", 10).await["role"], "viewer");
    let said = t.closes(10).await;
    assert!(said.iter().any(|c| c["type"] == "revoked"), "{said:?}");
    // Removed: the stream says so and ends; every call answers 404.
    alice
        .ok("/api/sharing/remove", json!({"session": s, "user": "bob"}))
        .await;
    let last = events.ends(10).await;
    assert_eq!(last.last().unwrap()["type"], "revoked", "{last:?}");
    bob.fails("/api/files/tree", json!({"session": s}), 404)
        .await;
    assert_eq!(Events::open(&bob, &s).await.err(), Some(404));
}

#[sqlx::test(migrations = "../migrations")]
async fn signing_out_and_expiry_close_what_the_login_opened(pool: PgPool) {
    let (app, mut alice, s, _, _, _) = setup(&pool).await;
    let addr = serve(app.clone()).await;
    let mut t = Term::ready(addr, &alice, &s).await;
    let mut events = Events::open(&alice, &s).await.unwrap();
    // Another login of the same user stays.
    let mut other = Client::new(&app);
    other
        .ok(
            "/api/auth/login",
            json!({"login": "alice", "password": "correct horse"}),
        )
        .await;
    let mut kept = Term::ready(addr, &other, &s).await;
    alice.ok("/api/auth/logout", json!({})).await;
    assert!(t.closes(10).await.iter().any(|c| c["type"] == "revoked"));
    assert_eq!(events.ends(10).await.last().unwrap()["type"], "revoked");
    assert!(kept.run("echo still-here").await.contains("still-here"));

    // A login that expires closes its sockets when it does.
    sqlx::query("UPDATE auth_sessions SET expires_at = now() + interval '2 seconds'")
        .execute(&pool)
        .await
        .unwrap();
    let mut short = Term::ready(addr, &other, &s).await;
    let started = std::time::Instant::now();
    assert!(short
        .closes(10)
        .await
        .iter()
        .any(|c| c["type"] == "revoked"));
    assert!(started.elapsed().as_secs_f64() < 5.0);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_change_made_on_one_replica_closes_sockets_on_another(pool: PgPool) {
    let (app, mut alice, s, _, _, _) = setup(&pool).await;
    alice.share(&s, "bob", "editor").await;
    // A second server on the same database, as a second replica would be.
    let other = router(pool.clone());
    let mut bob = Client::new(&other);
    bob.ok(
        "/api/auth/login",
        json!({"login": "bob", "password": "correct horse"}),
    )
    .await;
    let mut events = Events::open(&bob, &s).await.unwrap();
    alice
        .ok("/api/sharing/remove", json!({"session": s, "user": "bob"}))
        .await;
    assert_eq!(events.ends(10).await.last().unwrap()["type"], "revoked");
    // Deleting the session ends alice's own streams too.
    let mut mine = Events::open(&alice, &s).await.unwrap();
    alice
        .ok("/api/sessions/delete", json!({"session": s}))
        .await;
    assert_eq!(mine.ends(10).await.last().unwrap()["type"], "revoked");
    let _ = app;
}
