//! Code review: submitting, the queue, claiming, comments anchored to versions
//! and re-anchored on each revision, suggestions applied through the normal save,
//! every transition (legal and illegal) for every kind of participant, and the
//! live stream of a request.

mod common;

use common::{database_url, router, Client, Events};
use serde_json::{json, Value};
use sqlx::PgPool;

const CODE: &str = "def add(a, b):\n    return a + b\n\nprint(add(1, 2))\nprint('done')\n";

struct Setup {
    app: axum::Router,
    alice: Client,
    bob: Client,
    session: String,
}

/// Alice's session with `calc.py`; bob is a junior reviewer.
async fn setup(pool: &PgPool) -> Setup {
    let app = router(pool.clone());
    let mut alice = Client::register(&app, "alice").await;
    let session = alice.session().await;
    alice
        .ok(
            "/api/files/create",
            json!({"session": session, "path": "calc.py", "kind": "file", "content": CODE}),
        )
        .await;
    let mut bob = Client::register(&app, "bob").await;
    let level = bob
        .ok(
            "/api/users/set_reviewer_level",
            json!({"user": "bob", "level": 1}),
        )
        .await;
    assert_eq!(level, 1);
    Setup {
        app,
        alice,
        bob,
        session,
    }
}

async fn senior(pool: &PgPool, app: &axum::Router, name: &str) -> Client {
    let c = Client::register(app, name).await;
    app::server::reviews::store_level(pool, user_id(pool, name).await, 2)
        .await
        .unwrap();
    c
}

async fn user_id(pool: &PgPool, name: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
        .bind(name)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn submit(c: &mut Client, session: &str, priority: &str) -> String {
    let r = c
        .ok(
            "/api/reviews/submit",
            json!({"session": session, "title": "Adding numbers", "description": "Please **check** <b>this</b>",
                   "priority": priority}),
        )
        .await;
    assert_eq!(r["status"], "pending");
    assert_eq!(
        r["description_html"],
        "<p>Please <strong>check</strong> &lt;b&gt;this&lt;/b&gt;</p>\n"
    );
    r["id"].as_str().unwrap().to_string()
}

fn events(r: &Value) -> Vec<String> {
    r["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["event"].as_str().unwrap().to_string())
        .collect()
}

fn comment<'a>(r: &'a Value, id: &Value) -> &'a Value {
    r["comments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == *id)
        .expect("the comment is listed")
}

#[sqlx::test(migrations = "../migrations")]
async fn submit_claim_comment_apply_resubmit_approve(pool: PgPool) {
    let Setup {
        app,
        mut alice,
        mut bob,
        session,
    } = setup(&pool).await;
    let id = submit(&mut alice, &session, "medium").await;
    // One open request per session.
    alice
        .fails(
            "/api/reviews/submit",
            json!({"session": session, "title": "again", "description": "", "priority": "low"}),
            409,
        )
        .await;

    // Bob sees it in the queue; before claiming: its title and files, no contents.
    let queue = bob
        .ok("/api/reviews/list", json!({"filter": "queue"}))
        .await;
    assert_eq!(queue[0]["id"], id.as_str());
    assert_eq!(queue[0]["whose_turn"], "reviewers");
    let seen = bob.ok("/api/reviews/get", json!({"id": id})).await;
    assert_eq!(seen["role"], "candidate");
    let files = bob.ok("/api/reviews/files", json!({"id": id})).await;
    assert!(files
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["path"] == "calc.py"));
    bob.fails(
        "/api/reviews/read",
        json!({"id": id, "path": "calc.py"}),
        403,
    )
    .await;
    // Nobody claims their own submission; strangers see nothing.
    alice
        .fails("/api/reviews/claim", json!({"id": id}), 403)
        .await;
    let mut carol = Client::register(&app, "carol").await;
    let r = carol
        .fails("/api/reviews/get", json!({"id": id}), 404)
        .await;
    assert_eq!(r["message"], "no such review");
    assert_eq!(
        carol
            .ok("/api/reviews/list", json!({"filter": "queue"}))
            .await,
        json!([])
    );

    let claimed = bob.ok("/api/reviews/claim", json!({"id": id})).await;
    assert_eq!(
        (
            &claimed["status"],
            &claimed["assigned_to"],
            &claimed["role"]
        ),
        (&json!("in_review"), &json!("bob"), &json!("reviewer"))
    );
    bob.fails("/api/reviews/claim", json!({"id": id}), 409)
        .await;
    let read = bob
        .ok("/api/reviews/read", json!({"id": id, "path": "calc.py"}))
        .await;
    assert_eq!(read["content"], CODE);

    // Bob's stream hears every change.
    let mut live = Events::open(&bob, &format!("review/{id}")).await.unwrap();
    live.expect("review", 5).await;

    let suggestion = bob
        .ok(
            "/api/reviews/comment",
            json!({"id": id, "path": "calc.py", "line": 4, "kind": "suggestion",
                   "body": "Name the result", "suggestion": "total = add(1, 2)\nprint(total)\n"}),
        )
        .await;
    live.expect("review", 5).await;
    let issue = bob
        .ok(
            "/api/reviews/comment",
            json!({"id": id, "path": "calc.py", "line": 5, "kind": "issue", "body": "Say what is done"}),
        )
        .await;
    let approval = bob
        .ok(
            "/api/reviews/comment",
            json!({"id": id, "kind": "approval", "body": "The rest looks right"}),
        )
        .await;
    // Comments name a line of the file, within it.
    bob.fails(
        "/api/reviews/comment",
        json!({"id": id, "path": "calc.py", "line": 99, "kind": "issue", "body": "x"}),
        422,
    )
    .await;
    bob.fails(
        "/api/reviews/comment",
        json!({"id": id, "kind": "file", "body": "x"}),
        422,
    )
    .await;
    let reply = alice
        .ok(
            "/api/reviews/comment",
            json!({"id": id, "kind": "general", "body": "Will do", "reply_to": issue["id"]}),
        )
        .await;
    assert_eq!(reply["replies"][0]["body"], "Will do");

    // The open issue blocks approval, and makes it alice's move.
    let r = bob
        .fails(
            "/api/reviews/decide",
            json!({"id": id, "decision": "approve"}),
            409,
        )
        .await;
    assert!(r["message"].as_str().unwrap().contains("calc.py:5"), "{r}");
    let waiting = alice
        .ok("/api/reviews/list", json!({"filter": "waiting_on_me"}))
        .await;
    assert_eq!(waiting[0]["whose_turn"], "submitter");
    assert_eq!(waiting[0]["unresolved"], 1);
    assert_eq!(
        bob.ok("/api/reviews/list", json!({"filter": "waiting_on_me"}))
            .await,
        json!([])
    );

    // The suggestion lands as a new version through the normal save.
    let saved = alice
        .ok("/api/reviews/apply", json!({"comment": suggestion["id"]}))
        .await;
    let now = alice
        .ok(
            "/api/files/read",
            json!({"session": session, "path": "calc.py"}),
        )
        .await;
    assert_eq!(now["hash"], saved["hash"]);
    assert!(now["content"]
        .as_str()
        .unwrap()
        .contains("total = add(1, 2)\nprint(total)\n"));
    let versions = alice
        .ok(
            "/api/history/list",
            json!({"session": session, "path": "calc.py"}),
        )
        .await;
    assert_eq!(versions[0]["source"], "suggestion");
    alice
        .fails(
            "/api/reviews/apply",
            json!({"comment": suggestion["id"]}),
            409,
        )
        .await;
    // Bob may not resolve for alice's side, but his own comment he may.
    alice
        .ok(
            "/api/reviews/resolve",
            json!({"comment": issue["id"], "resolved": true}),
        )
        .await;
    let resubmitted = alice
        .ok(
            "/api/reviews/resubmit",
            json!({"id": id, "note": "named it"}),
        )
        .await;
    assert_eq!(resubmitted["status"], "in_review");
    assert_eq!(resubmitted["revision"], 2);
    assert_eq!(resubmitted["whose_turn"], "reviewer");

    // Bob's issue followed its line (one line was added above it).
    let r = bob.ok("/api/reviews/get", json!({"id": id})).await;
    let moved = comment(&r, &issue["id"]);
    assert_eq!(
        (&moved["line"], &moved["revision"], &moved["outdated"]),
        (&json!(6), &json!(2), &json!(false))
    );
    assert_eq!(moved["written_on"], 1);
    // The suggestion's own line changed: outdated, shown on revision 1.
    let old = comment(&r, &suggestion["id"]);
    assert_eq!(
        (&old["outdated"], &old["line"], &old["revision"]),
        (&json!(true), &json!(4), &json!(1))
    );
    assert_eq!(r["approvals"][0]["stale"], true);
    let _ = approval;
    let files = bob.ok("/api/reviews/files", json!({"id": id})).await;
    let calc = files
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "calc.py")
        .unwrap();
    assert_eq!(calc["change"], "modified");
    let first = bob
        .ok(
            "/api/reviews/read",
            json!({"id": id, "path": "calc.py", "revision": 1}),
        )
        .await;
    assert_eq!(first["content"], CODE);

    let approved = bob
        .ok(
            "/api/reviews/decide",
            json!({"id": id, "decision": "approve", "note": "thanks"}),
        )
        .await;
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["whose_turn"], "nobody");
    assert_eq!(
        events(&approved),
        ["submitted", "claimed", "resubmitted", "approved"]
    );
    assert_eq!(approved["history"][3]["note"], "thanks");
    assert_eq!(approved["changed_since_approval"], json!([]));

    // A change after approval shows that the approval no longer matches.
    alice
        .ok(
            "/api/files/save",
            json!({"session": session, "path": "calc.py", "content": "print(3)\n", "base_hash": saved["hash"]}),
        )
        .await;
    let r = alice.ok("/api/reviews/get", json!({"id": id})).await;
    assert_eq!(r["changed_since_approval"], json!(["calc.py"]));
    // Closed: a new request may be submitted.
    alice
        .fails("/api/reviews/withdraw", json!({"id": id}), 409)
        .await;
    alice
        .fails("/api/reviews/resubmit", json!({"id": id}), 409)
        .await;
    submit(&mut alice, &session, "low").await;
}

#[sqlx::test(migrations = "../migrations")]
async fn seniors_assign_confirm_and_mentor(pool: PgPool) {
    let Setup {
        app,
        mut alice,
        mut bob,
        session,
    } = setup(&pool).await;
    let mut sam = senior(&pool, &app, "sam").await;
    let mut vera = Client::register(&app, "vera").await;
    alice.share(&session, "vera", "viewer").await;
    let id = submit(&mut alice, &session, "high").await;

    // Only seniors assign; only to reviewers outside the submitting side.
    bob.fails(
        "/api/reviews/assign",
        json!({"id": id, "reviewer": "bob"}),
        403,
    )
    .await;
    sam.fails(
        "/api/reviews/assign",
        json!({"id": id, "reviewer": "alice"}),
        422,
    )
    .await;
    sam.fails(
        "/api/reviews/assign",
        json!({"id": id, "reviewer": "vera"}),
        422,
    )
    .await;
    let r = sam
        .ok(
            "/api/reviews/assign",
            json!({"id": id, "reviewer": "bob@example.com"}),
        )
        .await;
    assert_eq!(
        (&r["status"], &r["assigned_to"]),
        (&json!("in_review"), &json!("bob"))
    );
    let mentoring = sam
        .ok("/api/reviews/list", json!({"filter": "mentoring"}))
        .await;
    assert_eq!(mentoring[0]["id"], id.as_str());
    let assigned = bob
        .ok("/api/reviews/list", json!({"filter": "assigned"}))
        .await;
    assert_eq!(assigned[0]["id"], id.as_str());

    // A mentoring note: reviewers see it, the submitting side and viewers never.
    let note = sam
        .ok(
            "/api/reviews/comment",
            json!({"id": id, "kind": "general", "body": "Check the edge cases", "private": true}),
        )
        .await;
    assert_eq!(note["private"], true);
    bob.fails(
        "/api/reviews/comment",
        json!({"id": id, "kind": "general", "body": "me too", "private": true}),
        403,
    )
    .await;
    let bobs = bob.ok("/api/reviews/get", json!({"id": id})).await;
    assert_eq!(bobs["comments"].as_array().unwrap().len(), 1);
    for c in [&mut alice, &mut vera] {
        let r = c.ok("/api/reviews/get", json!({"id": id})).await;
        assert_eq!(r["comments"], json!([]));
        assert!(!r.to_string().contains("edge cases"));
    }
    let reply = json!({"id": id, "kind": "general", "body": "x", "reply_to": note["id"]});
    alice
        .fails("/api/reviews/comment", reply.clone(), 404)
        .await;
    vera.fails("/api/reviews/comment", reply, 403).await;

    // A viewer reads, comments nowhere, moves nothing.
    let read = vera
        .ok("/api/reviews/read", json!({"id": id, "path": "calc.py"}))
        .await;
    assert_eq!(read["content"], CODE);
    for (path, args) in [
        (
            "/api/reviews/decide",
            json!({"id": id, "decision": "approve"}),
        ),
        ("/api/reviews/resubmit", json!({"id": id})),
        ("/api/reviews/withdraw", json!({"id": id})),
        ("/api/reviews/claim", json!({"id": id})),
    ] {
        vera.fails(path, args, 403).await;
    }

    // A junior's approval of a high-priority request waits for a senior.
    let r = bob
        .ok(
            "/api/reviews/decide",
            json!({"id": id, "decision": "approve"}),
        )
        .await;
    assert_eq!(
        (&r["status"], &r["whose_turn"]),
        (&json!("awaiting_confirmation"), &json!("senior"))
    );
    bob.fails(
        "/api/reviews/decide",
        json!({"id": id, "decision": "confirm"}),
        403,
    )
    .await;
    alice
        .fails(
            "/api/reviews/decide",
            json!({"id": id, "decision": "approve"}),
            403,
        )
        .await;
    let waiting = sam
        .ok("/api/reviews/list", json!({"filter": "waiting_on_me"}))
        .await;
    assert_eq!(waiting[0]["id"], id.as_str());
    let r = sam
        .ok(
            "/api/reviews/decide",
            json!({"id": id, "decision": "confirm"}),
        )
        .await;
    assert_eq!(r["status"], "approved");
    assert_eq!(
        events(&r),
        [
            "submitted",
            "assigned",
            "awaiting_confirmation",
            "confirmed"
        ]
    );
    sam.fails(
        "/api/reviews/decide",
        json!({"id": id, "decision": "reject"}),
        409,
    )
    .await;
    sam.fails(
        "/api/reviews/decide",
        json!({"id": id, "decision": "maybe"}),
        422,
    )
    .await;

    // Levels: oneself to 0 or 1; only a senior makes a senior.
    bob.fails(
        "/api/users/set_reviewer_level",
        json!({"user": "bob", "level": 2}),
        403,
    )
    .await;
    bob.fails(
        "/api/users/set_reviewer_level",
        json!({"user": "vera", "level": 1}),
        403,
    )
    .await;
    sam.ok(
        "/api/users/set_reviewer_level",
        json!({"user": "vera", "level": 2}),
    )
    .await;
    let me = vera.ok("/api/auth/me", json!({})).await;
    assert_eq!(me["reviewer_level"], 2);
    let mut guest = Client::new(&app);
    guest.ok("/api/auth/guest", json!({})).await;
    let name = guest.ok("/api/auth/me", json!({})).await["username"].clone();
    guest
        .fails(
            "/api/users/set_reviewer_level",
            json!({"user": name, "level": 1}),
            422,
        )
        .await;
    // The old way to pick any level is gone.
    alice
        .fails("/api/auth/profile", json!({"reviewer_level": 2}), 404)
        .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn withdrawn_rejected_and_stale_suggestions(pool: PgPool) {
    let Setup {
        app,
        mut alice,
        mut bob,
        session,
    } = setup(&pool).await;
    let id = submit(&mut alice, &session, "low").await;
    bob.ok("/api/reviews/claim", json!({"id": id})).await;
    let s = bob
        .ok(
            "/api/reviews/comment",
            json!({"id": id, "path": "calc.py", "line": 1, "end_line": 2, "kind": "suggestion",
                   "body": "one line", "suggestion": "add = lambda a, b: a + b"}),
        )
        .await;
    assert_eq!((&s["line"], &s["end_line"]), (&json!(1), &json!(2)));
    // The file changed since the suggestion's revision: 409 with the file as it is.
    let now = alice
        .ok(
            "/api/files/read",
            json!({"session": session, "path": "calc.py"}),
        )
        .await;
    alice
        .ok(
            "/api/files/save",
            json!({"session": session, "path": "calc.py", "content": format!("{CODE}# more\n"), "base_hash": now["hash"]}),
        )
        .await;
    let r = alice
        .fails("/api/reviews/apply", json!({"comment": s["id"]}), 409)
        .await;
    assert!(
        r["current"]["content"]
            .as_str()
            .unwrap()
            .ends_with("# more\n"),
        "{r}"
    );
    // A reviewer never writes files.
    bob.fails("/api/reviews/apply", json!({"comment": s["id"]}), 403)
        .await;

    let r = bob
        .ok(
            "/api/reviews/decide",
            json!({"id": id, "decision": "reject", "note": "see comments"}),
        )
        .await;
    assert_eq!(
        (&r["status"], &r["whose_turn"]),
        (&json!("rejected"), &json!("submitter"))
    );
    bob.fails(
        "/api/reviews/decide",
        json!({"id": id, "decision": "approve"}),
        409,
    )
    .await;
    // The commenter resolves his own comment; another reviewer could not.
    bob.ok(
        "/api/reviews/resolve",
        json!({"comment": s["id"], "resolved": true}),
    )
    .await;
    let r = alice.ok("/api/reviews/resubmit", json!({"id": id})).await;
    // Lines 1–2 did not change (a line was added at the end): the range follows.
    let c = comment(&r, &s["id"]);
    assert_eq!(
        (&c["line"], &c["end_line"], &c["outdated"]),
        (&json!(1), &json!(2), &json!(false))
    );
    let w = alice.ok("/api/reviews/withdraw", json!({"id": id})).await;
    assert_eq!(w["status"], "withdrawn");
    assert_eq!(
        events(&w),
        [
            "submitted",
            "claimed",
            "rejected",
            "resubmitted",
            "withdrawn"
        ]
    );
    bob.fails("/api/reviews/claim", json!({"id": id}), 409)
        .await;

    // Naming a reviewer at submission assigns them at once.
    let r = alice
        .ok(
            "/api/reviews/submit",
            json!({"session": session, "title": "Second", "description": "", "priority": "urgent", "reviewer": "bob"}),
        )
        .await;
    assert_eq!(
        (&r["status"], &r["assigned_to"]),
        (&json!("in_review"), &json!("bob"))
    );
    let _ = app;
}

#[sqlx::test(migrations = "../migrations")]
async fn losing_a_review_closes_its_stream(pool: PgPool) {
    let Setup {
        app,
        mut alice,
        mut bob,
        session,
    } = setup(&pool).await;
    let mut sam = senior(&pool, &app, "sam").await;
    let mut dan = Client::register(&app, "dan").await;
    dan.ok(
        "/api/users/set_reviewer_level",
        json!({"user": "dan", "level": 1}),
    )
    .await;
    let id = submit(&mut alice, &session, "medium").await;
    bob.ok("/api/reviews/claim", json!({"id": id})).await;
    let mut live = Events::open(&bob, &format!("review/{id}")).await.unwrap();
    live.expect("review", 5).await;
    sam.ok("/api/reviews/assign", json!({"id": id, "reviewer": "dan"}))
        .await;
    let seen = live.ends(10).await;
    assert!(seen.iter().any(|e| e["type"] == "revoked"), "{seen:?}");
    bob.fails("/api/reviews/get", json!({"id": id}), 404).await;
    assert!(Events::open(&bob, &format!("review/{id}")).await.is_err());
}

#[sqlx::test(migrations = "../migrations")]
async fn the_retention_sweep_keeps_what_a_revision_points_at(pool: PgPool) {
    let Setup {
        mut alice,
        mut bob,
        session,
        ..
    } = setup(&pool).await;
    let id = submit(&mut alice, &session, "low").await;
    bob.ok("/api/reviews/claim", json!({"id": id})).await;
    let mut hash = alice
        .ok(
            "/api/files/read",
            json!({"session": session, "path": "calc.py"}),
        )
        .await["hash"]
        .clone();
    for i in 0..4 {
        let saved = alice
            .ok(
                "/api/files/save",
                json!({"session": session, "path": "calc.py", "content": format!("v{i}\n"), "base_hash": hash}),
            )
            .await;
        hash = saved["hash"].clone();
    }
    sqlx::query("UPDATE file_versions SET created_at = now() - interval '90 days'")
        .execute(&pool)
        .await
        .unwrap();
    let r = app::server::retention::Retention {
        full_days: 30,
        max_session_bytes: 1,
    };
    app::server::retention::sweep(&pool, r).await.unwrap();
    let read = bob
        .ok(
            "/api/reviews/read",
            json!({"id": id, "path": "calc.py", "revision": 1}),
        )
        .await;
    assert_eq!(read["content"], CODE);
}

/// The first senior is made on the server: `server users set-level NAME 2`.
#[sqlx::test(migrations = "../migrations")]
async fn the_first_senior_is_made_by_the_server_command(pool: PgPool) {
    let app = router(pool.clone());
    Client::register(&app, "root").await;
    let url = database_url(&pool);
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_server"))
            .args(args)
            .env("DATABASE_URL", &url)
            .output()
            .unwrap()
    };
    let out = run(&["users", "set-level", "Root@Example.com", "2"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "root is now at reviewer level 2\n"
    );
    let level: i16 = sqlx::query_scalar("SELECT reviewer_level FROM users WHERE username = 'root'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(level, 2);
    let out = run(&["users", "set-level", "nobody", "1"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no user named nobody"));
    assert!(!run(&["users", "set-level", "root", "3"]).status.success());
}
