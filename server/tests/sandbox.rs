//! What the sandbox must hold: no network, no view of the host's secrets, of the
//! server's data or of other sessions, and runaway programs contained while the
//! server stays up with bounded memory.

mod common;

use common::{
    bare_site, database_url, get, open_data_dir, router, served, Served, ServerProcess, Term,
};
use sqlx::PgPool;
use std::time::Duration;

fn rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        / 1024
}

#[sqlx::test(migrations = "../migrations")]
async fn isolated_from_host_network_and_other_sessions(pool: PgPool) {
    let Served {
        addr,
        client: mut c,
        session: mine,
        ..
    } = served(router(pool.clone())).await;
    let theirs = c.session().await;
    let mut other = Term::ready(addr, &c, &theirs).await;
    other.run("echo secret > theirs.txt; sleep 1000 &").await;

    let mut t = Term::ready(addr, &c, &mine).await;
    let shadow = t.run("cat /etc/shadow /etc/gshadow 2>&1").await;
    assert!(!shadow.contains("root:"), "{shadow}");
    let data = std::env::temp_dir().join("webide-test-sandboxes");
    let probe = format!(
        "ls /work /root {0} 2>&1; ls / ; find / -name theirs.txt 2>/dev/null; echo end",
        data.display()
    );
    let out = t.run(&probe).await;
    assert!(out.contains("ls: cannot access '/work'"), "{out}");
    assert!(
        !out.contains("theirs.txt") && !out.contains("workspaces"),
        "{out}"
    );
    let ps = t.run("ps -eo comm | grep -c sleep").await;
    assert_eq!(ps.trim(), "0", "another session's processes are visible");
    // As root, each session has a user of its own, from its database id.
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM code_sessions WHERE uuid::text = ANY($1) ORDER BY uuid::text = $2",
    )
    .bind([&mine, &theirs])
    .bind(&theirs)
    .fetch_all(&pool)
    .await
    .unwrap();
    if nix::unistd::getuid().is_root() {
        let uids = [t.run("id -u").await, other.run("id -u").await];
        assert_eq!(
            uids.map(|u| u.trim().parse::<i64>().unwrap() - 200_000),
            [ids[0], ids[1]]
        );
    }
    let port = addr.port();
    let net = t
        .run(&format!(
            "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {port}), 2)' 2>&1 | tail -1; \
             getent hosts example.com || echo no-dns"
        ))
        .await;
    assert!(
        net.contains("ConnectionRefusedError") && net.contains("no-dns"),
        "{net}"
    );
    assert!(
        t.run("ip -o link 2>/dev/null | grep -vc ' lo:' || true")
            .await
            .trim()
            == "0"
    );
    // The host's system is there, read-only.
    let ro = t.run("touch /usr/x 2>&1; python3 -c 'print(6*7)'").await;
    assert!(
        ro.contains("Read-only file system") && ro.contains("42"),
        "{ro}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn runaway_programs_are_contained(pool: PgPool) {
    let Served {
        app,
        addr,
        client: mut c,
        session,
    } = served(router(pool.clone())).await;
    let mut t = Term::ready(addr, &c, &session).await;

    // Memory: one allocation over the limit fails inside the program.
    let out = t
        .run("python3 -c 'b = bytearray(2 * 1024**3)' 2>&1 | tail -1; echo code=${PIPESTATUS[0]}")
        .await;
    assert!(
        out.contains("MemoryError") && out.contains("code=1"),
        "{out}"
    );
    // Files: writing past the size limit is refused.
    let out = t
        .run("head -c 100M /dev/zero > big 2>&1; echo code=$?; rm -f big")
        .await;
    assert!(
        out.contains("code=1") || out.contains("File size limit"),
        "{out}"
    );

    // A fork bomb runs into the process limit; the server and other sessions carry on.
    t.send(b":(){ :|:& };:\r").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(get(&app, "/healthz").await.status, 200);
    let calm = c.session().await;
    let mut t2 = Term::ready(addr, &c, &calm).await;
    assert!(t2.run("echo still-fine").await.contains("still-fine"));
    let forks = t2.run("ps -e | wc -l").await;
    assert!(forks.trim().parse::<u32>().unwrap() < 10, "{forks}");
}

#[sqlx::test(migrations = "../migrations")]
async fn output_floods_keep_server_memory_bounded(pool: PgPool) {
    let w = served(router(pool.clone())).await;
    let (addr, c, session) = (w.addr, &w.client, &w.session);
    let mut t = w.shell().await;
    let before = rss_mib();

    // A 1 GB flood to a socket that does not read: the shell is made to wait.
    t.send(b"head -c 1000000000 /dev/zero | tr '\\0' x\r").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stalled = rss_mib();
    // Dropped mid-flood: the terminal keeps only its scrollback.
    let id = t.id;
    drop(t);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let detached = rss_mib();
    assert!(
        stalled < before + 64 && detached < before + 64,
        "RSS grew from {before} MiB to {stalled} MiB (slow socket) and {detached} MiB (detached)"
    );
    let mut t = Term::open(addr, c, session, Some(id)).await;
    t.send(b"\x03").await;
    t.send(b"echo back\r").await;
    t.expect("back\r\n").await;
}

/// Without bubblewrap the server refuses to start, and says how to go on.
#[sqlx::test(migrations = "../migrations")]
async fn refuses_to_run_unsandboxed_silently(pool: PgPool) {
    let url = database_url(&pool);
    let site = bare_site();
    let data = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["--listen", "127.0.0.1:0", "--site-root"])
        .arg(site.path())
        .arg("--data-dir")
        .arg(data.path())
        .env("PATH", "/nonexistent")
        .env("DATABASE_URL", url)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("bubblewrap") && err.contains("--unsandboxed"),
        "{err}"
    );
}

/// Unmounts whatever is still mounted under a folder when dropped (a server
/// killed by the test leaves its sessions' disks mounted).
struct Unmount(std::path::PathBuf);

impl Unmount {
    fn mounts(&self) -> Vec<String> {
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let under = self.0.to_string_lossy().into_owned();
        info.lines()
            .filter_map(|l| l.split(' ').nth(4))
            .filter(|m| m.starts_with(&under))
            .map(String::from)
            .collect()
    }
}

impl Drop for Unmount {
    fn drop(&mut self) {
        for m in self.mounts() {
            let _ = std::process::Command::new("umount")
                .args(["-l", &m])
                .status();
        }
    }
}

/// As root, a session's workspace, `/tmp` and home share a disk of their own:
/// filling it fails in that session only; the disk is unmounted when the
/// sandbox stops, and its files are there when it starts again.
#[sqlx::test(migrations = "../migrations")]
async fn a_session_fills_its_own_disk_and_no_other(pool: PgPool) {
    if !nix::unistd::getuid().is_root() {
        eprintln!("skipped: disks of their own need root");
        return;
    }
    let data = open_data_dir();
    let unmount = Unmount(data.path().to_path_buf());
    let dir = data.path().to_str().unwrap();
    let args = [
        "--data-dir",
        dir,
        "--sandbox-disk-mb",
        "64",
        "--idle-secs",
        "1",
        "--log",
        "warn",
    ];
    let srv = ServerProcess::start(&pool, &args).await;
    let (cookie, session) = srv.user_with_session("alice").await;
    let body = serde_json::json!({"name": "other", "language": "bash"});
    let (_, other) = srv
        .call(&cookie, "/api/sessions/create", body)
        .await
        .unwrap();
    let other = other["uuid"].as_str().unwrap().to_string();

    let mut t = Term::ready_as(srv.addr, Some(&cookie), &session).await;
    let full = t
        .run("head -c 100M /dev/zero > /tmp/big; echo rc=$?; echo x > /app/more.txt; echo rc=$?")
        .await;
    assert!(
        full.contains("No space left on device") && !full.contains("rc=0"),
        "{full}"
    );
    t.run("rm /tmp/big; echo kept > note.txt").await;
    let mut o = Term::ready_as(srv.addr, Some(&cookie), &other).await;
    let room = o.run("head -c 10M /dev/zero > /tmp/ok; echo rc=$?").await;
    assert!(room.contains("rc=0"), "{room}");

    drop(t);
    let mine = data.path().join("sandboxes").join(&session).join("disk");
    let mine = mine.to_string_lossy().into_owned();
    assert!(unmount.mounts().contains(&mine));
    for _ in 0..100 {
        if !unmount.mounts().contains(&mine) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!unmount.mounts().contains(&mine), "still mounted once idle");
    let mut t = Term::ready_as(srv.addr, Some(&cookie), &session).await;
    assert_eq!(t.run("cat note.txt").await.trim(), "kept");
    drop(srv);
}
