//! Faults, with real processes: the server killed in the middle of saves and
//! syncs, its database restarted under load, its disk full. Every save that was
//! acknowledged is there afterwards, no file is half-written, and the server
//! comes back by itself.

mod common;

use common::*;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What save number `n` of writer `k` writes: whole, or it is not that save.
fn content(k: usize, n: usize) -> String {
    format!("writer {k} save {n}\n").repeat(200)
}

fn path(k: usize) -> String {
    format!("w{k}.txt")
}

/// Writers saving their own file in a loop against one server, each keeping the
/// number of its last acknowledged save; the statuses of refused ones counted.
struct Writers {
    acked: Arc<Mutex<Vec<usize>>>,
    refused: Arc<Mutex<HashMap<u16, usize>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Writers {
    /// Writers `from..from + count`, each on a file of its own.
    async fn start(
        srv: &ServerProcess,
        cookie: &str,
        session: &str,
        from: usize,
        count: usize,
    ) -> Self {
        let acked = Arc::new(Mutex::new(vec![0; from + count]));
        let refused = Arc::new(Mutex::new(HashMap::new()));
        let mut tasks = Vec::new();
        for k in from..from + count {
            let path = path(k);
            let body =
                json!({"session": session, "path": path, "kind": "file", "content": content(k, 0)});
            let (status, item) = srv.call(cookie, "/api/files/create", body).await.unwrap();
            assert_eq!(status, 200, "{item}");
            let (addr, cookie, session) = (srv.addr, cookie.to_string(), session.to_string());
            let (acked, refused) = (acked.clone(), refused.clone());
            let mut hash = item["hash"].as_str().unwrap().to_string();
            tasks.push(tokio::spawn(async move {
                for n in 1.. {
                    let body = json!({"session": session, "path": path, "content": content(k, n), "base_hash": hash});
                    match http(addr, "POST", "/api/files/save", Some(&cookie), Some(body)).await {
                        Ok((200, _, body)) => {
                            let saved: Value = serde_json::from_slice(&body).unwrap();
                            hash = saved["hash"].as_str().unwrap().to_string();
                            acked.lock().unwrap()[k] = n;
                        }
                        // Refused: the file holds this save or the one before it.
                        Ok((status, _, _)) => {
                            *refused.lock().unwrap().entry(status).or_default() += 1;
                            return;
                        }
                        // The server is gone (killed): the save in flight may or may not be in.
                        Err(_) => return,
                    }
                }
            }));
        }
        Self {
            acked,
            refused,
            tasks,
        }
    }

    /// Waits until every writer has had a save acknowledged (a loaded machine
    /// may take a while), then a little more.
    async fn going(&self, from: usize, then: Duration) {
        for _ in 0..200 {
            if self.acked.lock().unwrap()[from..].iter().all(|&n| n > 0) {
                tokio::time::sleep(then).await;
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("saves did not go through: {:?}", self.acked.lock().unwrap());
    }

    async fn stop(self) -> (Vec<usize>, HashMap<u16, usize>) {
        for t in &self.tasks {
            t.abort();
        }
        for t in self.tasks {
            let _ = t.await;
        }
        let acked = self.acked.lock().unwrap().clone();
        let refused = self.refused.lock().unwrap().clone();
        (acked, refused)
    }
}

/// Each writer's file holds its last acknowledged save or the one after it (in
/// flight when the fault came), whole.
async fn saves_are_there(srv: &ServerProcess, cookie: &str, session: &str, acked: &[usize]) {
    for (k, &n) in acked.iter().enumerate().filter(|(_, n)| **n > 0) {
        let body = json!({"session": session, "path": path(k)});
        let (status, file) = srv.call(cookie, "/api/files/read", body).await.unwrap();
        assert_eq!(status, 200, "{file}");
        let text = file["content"].as_str().unwrap();
        assert!(
            text == content(k, n) || text == content(k, n + 1),
            "writer {k}: acknowledged save {n}, found {:?}",
            text.lines().next()
        );
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn acknowledged_saves_survive_a_killed_server(pool: PgPool) {
    let data = open_data_dir();
    let dir = data.path().to_str().unwrap();
    let srv = ServerProcess::start(&pool, &["--data-dir", dir, "--log", "warn"]).await;
    let (cookie, session) = srv.user_with_session("alice").await;

    // A terminal keeps changing a file (synced as it goes) while writers save.
    let mut t = Term::ready_as(srv.addr, Some(&cookie), &session).await;
    t.send(b"for i in $(seq 100000); do echo $i > counter.txt; sleep 0.02; done\r")
        .await;
    let writers = Writers::start(&srv, &cookie, &session, 0, 4).await;
    writers.going(0, Duration::from_millis(1000)).await;
    let mut srv = srv;
    srv.kill().await;
    let (acked, _) = writers.stop().await;
    assert!(
        acked.iter().all(|&n| n > 0),
        "saves went through: {acked:?}"
    );
    drop(t);

    let srv = srv.restart().await;
    saves_are_there(&srv, &cookie, &session, &acked).await;
    // The sandbox and Postgres agree again once it is open: the files saved are
    // in it, and what the terminal wrote last is in Postgres.
    let mut t = Term::ready_as(srv.addr, Some(&cookie), &session).await;
    for (k, &n) in acked.iter().enumerate() {
        let first = t.run(&format!("head -1 {}", path(k))).await;
        let first = first.trim();
        assert!(
            first == format!("writer {k} save {n}")
                || first == format!("writer {k} save {}", n + 1),
            "{first}"
        );
    }
    let counter = t.run("cat counter.txt").await.trim().to_string();
    let body = json!({"session": session, "path": "counter.txt"});
    let (_, file) = srv.call(&cookie, "/api/files/read", body).await.unwrap();
    assert_eq!(file["content"].as_str().unwrap().trim(), counter);
}

#[tokio::test]
async fn the_server_waits_out_a_database_restart() {
    let data = open_data_dir();
    let dir = data.path().to_str().unwrap();
    // Its own PostgreSQL, under its data directory: this test stops and starts it.
    let srv = ServerProcess::private(&["--data-dir", dir, "--log", "warn"]).await;
    let (cookie, session) = srv.user_with_session("alice").await;
    let writers = Writers::start(&srv, &cookie, &session, 0, 2).await;
    writers.going(0, Duration::from_millis(300)).await;

    let pg = server::embedded_pg::EmbeddedPostgres::start(data.path())
        .await
        .unwrap();
    pg.stop().await.unwrap();
    let (before, refused) = writers.stop().await;
    assert!(
        before.iter().all(|&n| n > 0),
        "saves went through: {before:?}"
    );
    // Meanwhile: 503 and a message, for the API and for readiness.
    let (status, err) = srv
        .call(&cookie, "/api/files/tree", json!({"session": session}))
        .await
        .unwrap();
    assert_eq!(status, 503, "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("database"),
        "{err}"
    );
    assert_eq!(
        http(srv.addr, "GET", "/readyz", None, None)
            .await
            .unwrap()
            .0,
        503
    );
    assert!(refused.keys().all(|s| *s == 503), "{refused:?}");

    let pg = server::embedded_pg::EmbeddedPostgres::start(data.path())
        .await
        .unwrap();
    // Back by itself: no restart of the server.
    let mut back = false;
    for _ in 0..100 {
        let (status, _) = srv
            .call(&cookie, "/api/files/tree", json!({"session": session}))
            .await
            .unwrap();
        if status == 200 {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(back, "the server did not come back with its database");
    saves_are_there(&srv, &cookie, &session, &before).await;
    let writers = Writers::start(&srv, &cookie, &session, 2, 1).await;
    writers.going(2, Duration::ZERO).await;
    let (after, refused) = writers.stop().await;
    assert!(after[2] > 0 && refused.is_empty(), "{after:?} {refused:?}");
    drop(srv);
    pg.stop().await.unwrap();
}

/// A size-limited disk for the data directory, mounted by the test; unmounted
/// when dropped.
struct SmallDisk(tempfile::TempDir);

impl SmallDisk {
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let ok = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=755"),
                "tmpfs",
            ])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Self(dir))
    }

    /// Fills what is left of it.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let path = self.0.path().join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let chunk = vec![7u8; 1 << 20];
        while f.write_all(&chunk).and_then(|()| f.flush()).is_ok() {}
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.0.path())
            .status();
    }
}

/// Text that does not compress away.
fn noise(bytes: usize) -> String {
    (0..bytes / 32)
        .map(|_| uuid::Uuid::new_v4().simple().to_string())
        .collect()
}

#[tokio::test]
async fn a_full_disk_refuses_saves_clearly_and_recovers() {
    if !nix::unistd::getuid().is_root() {
        eprintln!("skipped: mounting a small disk needs root");
        return;
    }
    let disk = SmallDisk::mount("160m").expect("a tmpfs can be mounted here");
    let dir = disk.0.path().to_str().unwrap();
    // The default set-up: the private PostgreSQL lives in the data directory too.
    let srv = ServerProcess::private(&["--data-dir", dir, "--log", "warn"]).await;
    // Stops the server's PostgreSQL when the test ends, however it ends.
    let _pg = server::embedded_pg::EmbeddedPostgres::start(disk.0.path())
        .await
        .unwrap();
    let (cookie, session) = srv.user_with_session("alice").await;
    let body = json!({"session": session, "path": "a.txt", "kind": "file", "content": "kept\n"});
    let (_, item) = srv.call(&cookie, "/api/files/create", body).await.unwrap();
    let hash = item["hash"].as_str().unwrap().to_string();

    let filler = disk.fill();
    let mut refused = None;
    for _ in 0..50 {
        let body = json!({"session": session, "path": "a.txt", "content": noise(200_000), "base_hash": hash});
        let (status, err) = srv.call(&cookie, "/api/files/save", body).await.unwrap();
        assert_ne!(status, 500, "{err}");
        if status != 200 {
            refused = Some((status, err));
            break;
        }
    }
    let (status, err) = refused.expect("a full disk refuses saves");
    assert_eq!(status, 507, "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("disk is full"),
        "{err}"
    );
    // Nothing half-made: the file is as it was last saved.
    let read = json!({"session": session, "path": "a.txt"});
    let (_, file) = srv
        .call(&cookie, "/api/files/read", read.clone())
        .await
        .unwrap();
    let before = file["content"].as_str().unwrap().to_string();
    let hash = file["hash"].as_str().unwrap().to_string();

    // Space again: saves go through, without a restart.
    std::fs::remove_file(filler).unwrap();
    let text = noise(200_000);
    let body = json!({"session": session, "path": "a.txt", "content": text, "base_hash": hash});
    let (status, saved) = srv.call(&cookie, "/api/files/save", body).await.unwrap();
    assert_eq!(status, 200, "{saved}");
    let (_, file) = srv.call(&cookie, "/api/files/read", read).await.unwrap();
    assert_eq!(file["content"].as_str().unwrap(), text);
    assert_ne!(before, text);
    // The sandbox opens on the same disk and holds what Postgres holds.
    let mut t = Term::ready_as(srv.addr, Some(&cookie), &session).await;
    assert_eq!(t.run("wc -c < a.txt").await.trim(), text.len().to_string());
    assert_eq!(t.run("head -c 32 a.txt").await.trim(), &text[..32]);
}

/// A workspace larger than a sync batch (8 MiB) goes both ways whole: made in the
/// terminal, into Postgres; after a restart, back into a new sandbox folder, and
/// checked against a kept one.
#[sqlx::test(migrations = "../migrations")]
async fn workspaces_larger_than_a_batch_sync_whole_both_ways(pool: PgPool) {
    let data = open_data_dir();
    let dir = data.path().to_str().unwrap();
    let args = [
        "--data-dir",
        dir,
        "--log",
        "warn",
        "--max-file-bytes",
        "4194304",
        "--max-workspace-bytes",
        "67108864",
    ];
    let srv = ServerProcess::start(&pool, &args).await;
    let (cookie, session) = srv.user_with_session("alice").await;
    let mut t = Term::ready_as(srv.addr, Some(&cookie), &session).await;
    t.run("for i in 1 2 3 4 5 6; do head -c 3000000 /dev/urandom > big$i.bin; done")
        .await;
    let sums = t.run("sha256sum big*.bin").await;
    let want: Vec<String> = sums
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    assert_eq!(want.len(), 6, "{sums}");
    let hashes = || async {
        let uuid: uuid::Uuid = session.parse().unwrap();
        sqlx::query_scalar::<_, String>(
            "SELECT content_hash FROM workspace_items i JOIN code_sessions s ON s.id = i.session_id
             WHERE s.uuid = $1 AND i.full_path LIKE 'big%' ORDER BY i.full_path",
        )
        .bind(uuid)
        .fetch_all(&pool)
        .await
        .unwrap()
    };
    // The sync after the command commits shortly after its prompt.
    for _ in 0..100 {
        if hashes().await == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(hashes().await, want, "in Postgres after the command");
    drop(t);

    // Its folder gone, the sandbox is filled from Postgres; kept, it is checked.
    let mut srv = srv;
    srv.kill().await;
    std::fs::remove_dir_all(data.path().join("workspaces").join(&session)).unwrap();
    for _ in 0..2 {
        srv = srv.restart().await;
        let mut t = Term::ready_as(srv.addr, Some(&cookie), &session).await;
        assert_eq!(t.run("sha256sum big*.bin").await, sums);
        drop(t);
    }
    assert_eq!(hashes().await, want);
}
