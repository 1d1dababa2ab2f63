//! Terminals over the real socket: a real shell on a PTY in the bubblewrap
//! sandbox, its history, reattaching, and the two-way file sync with Postgres.

mod common;

use common::{
    eventually, refused, router, router_with, serve, served, services_in, Client, Served, Term,
};
use serde_json::json;
use sqlx::PgPool;
use std::time::Duration;

const CONTENT: &str =
    "SELECT content FROM workspace_items WHERE session_uuid = $1 AND full_path = 'new.txt'";

#[sqlx::test(migrations = "../migrations")]
async fn commands_resize_history_and_reattach(pool: PgPool) {
    let Served {
        addr,
        client: mut c,
        session,
        ..
    } = served(router(pool.clone())).await;
    let mut t = Term::ready(addr, &c, &session).await;
    assert!(t.run("echo hi-$((1+2))").await.contains("hi-3"));
    t.resize(100, 40).await;
    let size = t.run("stty size").await;
    assert!(size.contains("40 100"), "{size:?}");
    assert!(t
        .run("echo $TERM; pwd; id -u")
        .await
        .contains("xterm-256color\n/app\n"));
    t.run("false").await;
    // Marks a program prints (here without the terminal's nonce, and with a
    // guessed one) forge nothing: no history row, no early end of the command.
    let line =
        r"printf '\e]633;E;forged\a\e]133;D;0\a\e]633;E;guess;abc\a\e]133;D;0;abc\a'; echo aft''er";
    t.send(format!("{line}\r").as_bytes()).await;
    t.expect("after\r\n").await;
    t.prompt().await;
    t.run("echo 'a;b' | cat").await;

    let history = c
        .ok("/api/terminal/history", json!({"session": session}))
        .await;
    let rows = history.as_array().unwrap();
    let find = |cmd: &str| {
        rows.iter()
            .find(|r| r["command"] == cmd)
            .unwrap_or_else(|| panic!("{cmd} not in {history}"))
    };
    assert_eq!(find("echo hi-$((1+2))")["exit_code"], 0);
    assert_eq!(find("echo hi-$((1+2))")["output"], "hi-3\n");
    assert_eq!(find("false")["exit_code"], 1);
    assert_eq!(find("echo 'a;b' | cat")["output"], "a;b\n");
    assert_eq!(rows[0]["command"], "echo 'a;b' | cat", "newest first");
    // The printf is one command, whole, with its real line; nothing it printed is a row.
    assert_eq!(rows.len(), 6, "{history}");
    assert!(rows
        .iter()
        .all(|r| r["command"] != "forged" && r["command"] != "guess"));
    assert!(find(line)["output"].as_str().unwrap().ends_with("after\n"));

    // A dropped socket leaves the shell; reattaching replays its output.
    let id = t.id;
    t.run("export KEPT=yes").await;
    drop(t);
    let mut again = Term::open(addr, &c, &session, Some(id)).await;
    assert_eq!(again.id, id);
    again.expect("hi-3").await;
    again.expect("export KEPT=yes").await;
    again.prompt().await;
    assert!(again.run("echo $KEPT").await.contains("yes"));

    // Two terminals share the sandbox's files.
    let mut other = Term::ready(addr, &c, &session).await;
    assert_ne!(other.id, id);
    other.run("echo shared > s.txt").await;
    assert!(again.run("cat s.txt").await.contains("shared"));

    // The shell exiting ends the socket with its code.
    again.send(b"exit 7\r").await;
    assert_eq!(again.control("exit").await["code"], 7);
}

#[sqlx::test(migrations = "../migrations")]
async fn sockets_need_the_owner(pool: PgPool) {
    let app = router(pool.clone());
    let addr = serve(app.clone()).await;
    let mut alice = Client::register(&app, "alice").await;
    let session = alice.session().await;
    let bob = Client::register(&app, "bob").await;
    assert_eq!(refused(addr, &session, None).await, 401);
    assert_eq!(refused(addr, &session, bob.cookie.as_deref()).await, 404);
    let missing = uuid::Uuid::new_v4().to_string();
    assert_eq!(refused(addr, &missing, alice.cookie.as_deref()).await, 404);
    alice
        .fails(
            "/api/terminal/history",
            json!({"session": session, "limit": 0}),
            422,
        )
        .await;
    let mut bob = bob;
    bob.fails("/api/terminal/history", json!({"session": session}), 404)
        .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn files_flow_both_ways(pool: PgPool) {
    let Served {
        addr,
        client: mut c,
        session,
        ..
    } = served(router(pool.clone())).await;
    let mut t = Term::ready(addr, &c, &session).await;

    // The session's starter file was written into the sandbox.
    assert!(t.run("ls").await.contains("main.py"));

    // Made, changed and deleted in the terminal: Postgres follows.
    t.run("echo hello > new.txt && mkdir -p d/e && echo x > d/e/f.txt")
        .await;
    eventually(&pool, CONTENT, &session, Some("hello\n")).await;
    let tree = c.ok("/api/files/tree", json!({"session": session})).await;
    let paths: Vec<_> = tree
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"d/e/f.txt") && paths.contains(&"d/e"),
        "{paths:?}"
    );
    t.run("echo more >> new.txt").await;
    eventually(&pool, CONTENT, &session, Some("hello\nmore\n")).await;
    t.run("rm -r d new.txt").await;
    eventually(&pool, CONTENT, &session, None).await;
    let tree = c.ok("/api/files/tree", json!({"session": session})).await;
    assert!(!tree.to_string().contains("d/e"), "{tree}");

    // A background process's change arrives through the watcher, not a command end.
    t.run("(sleep 0.3; echo late > new.txt) &").await;
    eventually(&pool, CONTENT, &session, Some("late\n")).await;

    // Binary files sync as bytes with a media type; links stay in the sandbox only.
    t.run("printf '\\xff\\xfe' > bin.dat; ln -s /etc/passwd link; echo ok > after.txt")
        .await;
    eventually(
        &pool,
        "SELECT content FROM workspace_items WHERE session_uuid = $1 AND full_path = 'after.txt'",
        &session,
        Some("ok\n"),
    )
    .await;
    eventually(
        &pool,
        "SELECT encode(data, 'hex') || ' ' || media_type FROM workspace_items
         WHERE session_uuid = $1 AND full_path = 'bin.dat'",
        &session,
        Some("fffe application/octet-stream"),
    )
    .await;
    let tree = c.ok("/api/files/tree", json!({"session": session})).await;
    assert!(tree.to_string().contains("bin.dat") && !tree.to_string().contains("link"));
    // And a binary file uploaded through the API arrives byte for byte.
    c.ok(
        "/api/files/upload",
        json!({"session": session, "files": [{"path": "up.bin", "content": "AAEC/w==", "encoding": "base64"}]}),
    )
    .await;
    assert!(t.run("od -An -tx1 up.bin").await.contains("00 01 02 ff"));

    // Saved through the API: in the sandbox at once.
    let read = c
        .ok(
            "/api/files/read",
            json!({"session": session, "path": "main.py"}),
        )
        .await;
    c.ok(
        "/api/files/save",
        json!({"session": session, "path": "main.py", "content": "print('saved')\n", "base_hash": read["hash"]}),
    )
    .await;
    assert!(t.run("cat main.py").await.contains("print('saved')"));
    c.ok(
        "/api/files/move",
        json!({"session": session, "from": "main.py", "to": "src/app.py"}),
    )
    .await;
    assert!(t.run("cat src/app.py").await.contains("print('saved')"));
    c.ok(
        "/api/files/create",
        json!({"session": session, "path": "empty", "kind": "folder"}),
    )
    .await;
    c.ok(
        "/api/files/delete",
        json!({"session": session, "path": "src"}),
    )
    .await;
    let ls = t.run("ls -F").await;
    assert!(ls.contains("empty/") && !ls.contains("src"), "{ls}");

    // Postgres wins when the sandbox opens again (as after a restart).
    let app2 = router(pool.clone());
    let addr2 = serve(app2).await;
    t.run("echo stray > stray.txt; echo 1 > after.txt").await;
    eventually(
        &pool,
        "SELECT content FROM workspace_items WHERE session_uuid = $1 AND full_path = 'after.txt'",
        &session,
        Some("1\n"),
    )
    .await;
    let mut t2 = Term::ready(addr2, &c, &session).await;
    let ls = t2.run("ls; cat after.txt").await;
    assert!(
        ls.contains("stray.txt") && ls.contains("bin.dat") && ls.contains("\n1\n"),
        "{ls}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn idle_terminals_close_but_running_jobs_stay(pool: PgPool) {
    // A data directory of its own: `start` removes what belongs to no session of this database.
    let dir = tempfile::Builder::new()
        .prefix("webide-idle")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let services = services_in(dir.path(), pool.clone(), std::time::Duration::from_secs(1));
    let sandboxes = services.sandboxes.clone();
    sandboxes.start().await.unwrap();
    let Served {
        addr,
        client: c,
        session,
        ..
    } = served(router_with(pool.clone(), services)).await;
    let idle = Term::ready(addr, &c, &session).await;
    let mut busy = Term::ready(addr, &c, &session).await;
    busy.send(b"sleep 8; echo job-done\r").await;
    busy.expect("sleep 8").await;
    let (idle_id, busy_id) = (idle.id, busy.id);
    drop(idle);
    drop(busy);
    // Past the idle time and a cull or two.
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;

    let mut busy = Term::open(addr, &c, &session, Some(busy_id)).await;
    assert_eq!(busy.id, busy_id, "a terminal running a job was closed");
    busy.expect("job-done").await;
    let again = Term::open(addr, &c, &session, Some(idle_id)).await;
    assert_ne!(again.id, idle_id, "an idle terminal was kept");
    sandboxes.shutdown().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn terminals_sockets_and_sandboxes_stay_within_their_caps(pool: PgPool) {
    let caps = server::caps::Caps {
        sandboxes: 1,
        terminals_per_session: 2,
        sockets_per_user: 4,
    };
    let Served {
        addr,
        client: mut c,
        session,
        ..
    } = served(common::router_capped(pool.clone(), caps)).await;
    let _one = Term::ready(addr, &c, &session).await;
    let _two = Term::ready(addr, &c, &session).await;
    // A third terminal of the session: told why, and closed.
    let mut third = Term::connect(addr, &c, &session, "").await;
    let said = third.control("error").await;
    assert!(
        said["message"]
            .as_str()
            .unwrap()
            .contains("2 terminals open at once"),
        "{said}"
    );
    // Another session would need a second sandbox: this server runs one.
    let other = c.session().await;
    let mut elsewhere = Term::connect(addr, &c, &other, "").await;
    let said = elsewhere.control("error").await;
    assert!(
        said["message"]
            .as_str()
            .unwrap()
            .contains("the most sandboxes"),
        "{said}"
    );
    third.closes(10).await;
    elsewhere.closes(10).await;
    // Their places are given back as the server ends them.
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Two terminals and two streams are the user's four sockets; the fifth is refused.
    let _a = common::Events::open(&c, &session).await.unwrap();
    let _b = common::Events::open(&c, &session).await.unwrap();
    let fifth = common::Events::open(&c, &session).await.err();
    assert_eq!(fifth, Some(429));
    assert_eq!(refused(addr, &session, c.cookie.as_deref()).await, 429);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_message_over_a_mebibyte_closes_the_socket(pool: PgPool) {
    use futures_util::SinkExt;
    let s = served(router(pool)).await;
    let mut t = s.shell().await;
    let big = vec![b'x'; (1 << 20) + 1];
    let _ =
        t.ws.send(tokio_tungstenite::tungstenite::Message::Binary(big.into()))
            .await;
    t.closes(10).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn files_made_in_the_terminal_stay_within_the_workspace_limit(pool: PgPool) {
    let Served {
        addr,
        client: c,
        session,
        ..
    } = served(router(pool.clone())).await;
    let mut events = common::Events::open(&c, &session).await.unwrap();
    let mut t = Term::ready(addr, &c, &session).await;
    // Five files of 60,000 bytes; the workspace holds 256 KiB here: four fit.
    t.run("for f in a b c d e; do head -c 60000 /dev/urandom > $f.bin; done")
        .await;
    // Four are kept (which four depends on how the syncs met the writes).
    eventually(
        &pool,
        "SELECT count(*)::text FROM workspace_items WHERE session_uuid = $1 AND full_path LIKE '%.bin'",
        &session,
        Some("4"),
    )
    .await;
    let kept: Vec<String> = sqlx::query_scalar(
        "SELECT full_path FROM workspace_items WHERE session_uuid = $1::uuid AND full_path LIKE '%.bin'",
    )
    .bind(&session)
    .fetch_all(&pool)
    .await
    .unwrap();
    let missing = ["a.bin", "b.bin", "c.bin", "d.bin", "e.bin"]
        .into_iter()
        .find(|f| !kept.iter().any(|k| k == f))
        .unwrap();
    // The page and the terminal are told which file stayed out.
    loop {
        let told = events.expect("not_kept", 10).await;
        if told["paths"] == json!([missing]) {
            assert!(told["message"]
                .as_str()
                .unwrap()
                .contains("The workspace is full"));
            break;
        }
    }
    t.expect("[webide] The workspace is full").await;
    let total: i64 = sqlx::query_scalar(
        "SELECT sum(size_bytes)::int8 FROM workspace_items WHERE session_uuid = $1::uuid",
    )
    .bind(&session)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(total as usize <= common::MAX_WORKSPACE_BYTES, "{total}");
    // Still there in the sandbox; once room is made, the next sync keeps it.
    assert!(t.run(&format!("ls {missing}")).await.contains(missing));
    t.run(&format!("rm {}", kept[0])).await;
    eventually(
        &pool,
        &format!(
            "SELECT size_bytes::text FROM workspace_items WHERE session_uuid = $1 AND full_path = '{missing}'"
        ),
        &session,
        Some("60000"),
    )
    .await;
}
