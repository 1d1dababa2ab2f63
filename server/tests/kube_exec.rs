//! The kube runner's shells and tar-stream sync through pods/exec, against a
//! fake API server on a local port that upgrades to a real WebSocket, speaks the
//! channel.k8s.io framing (v5, with stdin close) and runs the command for real in
//! a folder standing for the pod's `/app`. No cluster can run here; the commands,
//! the streams and the protocol are real.

mod common;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use common::kube_api::{settings, NS};
use futures_util::{SinkExt, StreamExt};
use server::runner::kube::runner::KubeRunner;
use server::runner::{EntryKind, FsOp, Runner, SessionRef, TermSize};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

/// The one pod the fake knows, and the folder that is its `/app`.
#[derive(Clone)]
struct Pod {
    name: String,
    app: PathBuf,
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

async fn exec(
    ws: WebSocketUpgrade,
    State(pod): State<Pod>,
    Path((ns, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    assert_eq!(ns, NS);
    assert_eq!(name, pod.name, "exec into an unknown pod");
    let mut command = Vec::new();
    let mut tty = false;
    for pair in query.unwrap_or_default().split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "command" => command.push(decode(v)),
            "tty" => tty = v == "true",
            "container" => assert_eq!(v, "sandbox"),
            _ => {}
        }
    }
    // The pod's paths, mapped into this machine's folders.
    let rc = concat!(env!("CARGO_MANIFEST_DIR"), "/src/runner/bashrc.sh");
    let app = pod.app.to_string_lossy().into_owned();
    let command: Vec<String> = command
        .into_iter()
        .map(|a| a.replace("/opt/webide/bashrc", rc).replace("/app", &app))
        .collect();
    ws.protocols(["v5.channel.k8s.io"])
        .on_upgrade(move |socket| run(socket, command, tty, pod.app))
}

fn status(code: i32) -> Vec<u8> {
    let body = if code == 0 {
        serde_json::json!({"metadata": {}, "status": "Success"})
    } else {
        serde_json::json!({"metadata": {}, "status": "Failure", "reason": "NonZeroExitCode",
            "message": format!("command terminated with non-zero exit code: {code}"),
            "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]}})
    };
    [vec![3], serde_json::to_vec(&body).unwrap()].concat()
}

async fn run(socket: WebSocket, command: Vec<String>, tty: bool, cwd: PathBuf) {
    let (mut tx, mut rx) = socket.split();
    let frame = |ch: u8, data: &[u8]| Message::Binary([&[ch][..], data].concat().into());
    if tty {
        let (pty, pts) = pty_process::open().unwrap();
        let mut child = pty_process::Command::new(&command[0])
            .args(&command[1..])
            .current_dir(&cwd)
            .env("TERM", "xterm-256color")
            .spawn(pts)
            .unwrap();
        let (mut out, mut input) = pty.into_split();
        let reader = async {
            let mut buf = vec![0u8; 8192];
            while let Ok(n) = out.read(&mut buf).await {
                if n == 0 || tx.send(frame(1, &buf[..n])).await.is_err() {
                    break;
                }
            }
            tx
        };
        let writer = async {
            while let Some(Ok(Message::Binary(m))) = rx.next().await {
                match m[0] {
                    0 => input.write_all(&m[1..]).await.unwrap(),
                    4 => {
                        let size: serde_json::Value = serde_json::from_slice(&m[1..]).unwrap();
                        let (w, h) = (
                            size["Width"].as_u64().unwrap(),
                            size["Height"].as_u64().unwrap(),
                        );
                        input
                            .resize(pty_process::Size::new(h as u16, w as u16))
                            .unwrap();
                    }
                    _ => {}
                }
            }
        };
        let mut tx = tokio::select! {
            tx = reader => tx,
            _ = writer => return,
        };
        let code = child.wait().await.unwrap().code().unwrap_or(-1);
        let _ = tx.send(Message::Binary(status(code).into())).await;
        let _ = tx.close().await;
        return;
    }
    let mut child = tokio::process::Command::new(&command[0])
        .args(&command[1..])
        .current_dir(&cwd)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take();
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let feeding = async {
        while let Some(Ok(Message::Binary(m))) = rx.next().await {
            match (m[0], stdin.as_mut()) {
                (0, Some(s)) => s.write_all(&m[1..]).await.unwrap(),
                // v5: the client's stdin reached its end.
                (255, _) if m.get(1) == Some(&0) => drop(stdin.take()),
                _ => {}
            }
        }
        // Nothing more comes from the client (its half may close before the command
        // ends): its input is at an end, and the output and status still go out, as
        // a real API server does.
        drop(stdin.take());
        std::future::pending::<()>().await
    };
    let collecting = async {
        let (mut o, mut e) = (Vec::new(), Vec::new());
        let _ = tokio::join!(out.read_to_end(&mut o), err.read_to_end(&mut e));
        (o, e)
    };
    let (o, e) = tokio::select! {
        r = collecting => r,
        () = feeding => unreachable!("feeding waits forever once the client is done"),
    };
    let code = child.wait().await.unwrap().code().unwrap_or(-1);
    for chunk in o.chunks(32 * 1024) {
        tx.send(frame(1, chunk)).await.unwrap();
    }
    if !e.is_empty() {
        tx.send(frame(2, &e)).await.unwrap();
    }
    tx.send(Message::Binary(status(code).into())).await.unwrap();
    let _ = tx.close().await;
}

/// A fake API server for one session's pod, and the runner pointed at it.
async fn cluster() -> (KubeRunner, SessionRef, tempfile::TempDir) {
    let s = SessionRef {
        uuid: Uuid::new_v4(),
        id: 1,
        user: 2,
        language: app::wire::sessions::Language::Python,
    };
    let app = tempfile::tempdir().unwrap();
    let pod = Pod {
        name: format!("exec-{}", s.uuid),
        app: app.path().to_path_buf(),
    };
    let router = axum::Router::new()
        .route("/api/v1/namespaces/{ns}/pods/{name}/exec", get(exec))
        .with_state(pod);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let config = kube::Config::new(format!("http://{addr}").parse().unwrap());
    let client = kube::Client::try_from(config).unwrap();
    (KubeRunner::new(client, settings()), s, app)
}

#[tokio::test]
async fn files_move_as_one_tar_stream_each_way() {
    let (runner, s, app) = cluster().await;
    let written = runner
        .apply(
            s,
            vec![
                FsOp::Mkdir {
                    path: "empty".into(),
                },
                FsOp::Write {
                    path: "a.txt".into(),
                    content: b"hello\n".to_vec(),
                },
                FsOp::Write {
                    path: "src/b.py".into(),
                    content: b"print(2)\n".to_vec(),
                },
            ],
        )
        .await
        .unwrap();
    let mut names: Vec<_> = written.iter().map(|e| (e.path.as_str(), e.size)).collect();
    names.sort();
    assert_eq!(names, [("a.txt", 6), ("src/b.py", 9)]);
    assert_eq!(
        std::fs::read_to_string(app.path().join("src/b.py")).unwrap(),
        "print(2)\n"
    );

    let mut scan: Vec<_> = runner
        .scan(s)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.path, e.kind))
        .collect();
    scan.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        scan,
        [
            ("a.txt".to_string(), EntryKind::File),
            ("empty".to_string(), EntryKind::Folder),
            ("src".to_string(), EntryKind::Folder),
            ("src/b.py".to_string(), EntryKind::File),
        ]
    );

    std::fs::write(app.path().join("big.bin"), vec![0u8; 10_000]).unwrap();
    let paths = ["a.txt", "big.bin", "gone.txt"].map(String::from).to_vec();
    let mut read = runner.read(s, paths, 4096).await.unwrap();
    read.sort();
    assert_eq!(
        read,
        [
            ("a.txt".to_string(), Some(b"hello\n".to_vec())),
            ("big.bin".to_string(), None),
            ("gone.txt".to_string(), None),
        ]
    );

    runner
        .apply(
            s,
            vec![
                FsOp::Rename {
                    from: "src".into(),
                    to: "lib/src".into(),
                },
                FsOp::Remove {
                    path: "a.txt".into(),
                },
            ],
        )
        .await
        .unwrap();
    assert!(app.path().join("lib/src/b.py").is_file() && !app.path().join("a.txt").exists());
}

#[tokio::test]
async fn shells_run_on_a_tty_with_resize_and_exit_codes() {
    let (runner, s, _app) = cluster().await;
    let shell = runner
        .open_shell(
            s,
            TermSize {
                cols: 100,
                rows: 30,
            },
            "n0nce",
        )
        .await
        .unwrap();
    let (mut output, mut input, control) = (shell.output, shell.input, Arc::new(shell.control));
    let mut seen = String::new();
    let mut until = async |want: &str, seen: &mut String| {
        tokio::time::timeout(Duration::from_secs(10), async {
            let mut buf = [0u8; 4096];
            while !seen.contains(want) {
                let n = output.read(&mut buf).await.unwrap();
                assert!(n > 0, "output ended before {want:?}: {seen:?}");
                seen.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no {want:?} in {seen:?}"));
    };
    // The shell integration marks its prompt (OSC 133, with the terminal's nonce),
    // as in the local sandbox; the nonce is not left in the programs' environment.
    until("\x1b]133;A;n0nce\x07", &mut seen).await;
    until("\x1b]133;B\x07", &mut seen).await;
    input
        .write_all(b"env | grep -c WEBIDE_NONCE; echo env-checked\r")
        .await
        .unwrap();
    until("0\r\nenv-checked", &mut seen).await;
    input.write_all(b"stty size\r").await.unwrap();
    until("30 100", &mut seen).await;
    control
        .resize(TermSize {
            cols: 120,
            rows: 40,
        })
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    input.write_all(b"stty size\r").await.unwrap();
    until("40 120", &mut seen).await;
    input.write_all(b"exit 3\r").await.unwrap();
    assert_eq!(control.wait().await, 3);
}

/// A run through pods/exec: the wrapper's limits and record, input to its end,
/// both streams, the exit code; and a stop that ends its whole process group.
#[tokio::test]
async fn runs_go_through_exec_with_their_measures() {
    let (runner, s, _app) = cluster().await;
    let spec = |script: &str| server::runner::ExecSpec {
        id: Uuid::new_v4(),
        script: script.into(),
        cpu_ms: 2000,
        memory_bytes: 256 << 20,
        processes: 64,
    };
    let mut p = runner
        .exec(s, spec("read x; echo got $x; echo warned >&2; exit 4"))
        .await
        .unwrap();
    p.stdin.write_all(b"hi\n").await.unwrap();
    p.stdin.shutdown().await.unwrap();
    let (mut out, mut err) = (String::new(), String::new());
    let _ = tokio::join!(
        p.stdout.read_to_string(&mut out),
        p.stderr.read_to_string(&mut err)
    );
    let ended = p.control.wait().await;
    assert_eq!((out.as_str(), err.as_str()), ("got hi\n", "warned\n"));
    assert_eq!((ended.exit_code, ended.signal), (Some(4), None));

    let mut p = runner.exec(s, spec("sleep 30 & sleep 30")).await.unwrap();
    p.stdin.shutdown().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    p.control.kill();
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), p.stdout.read_to_end(&mut rest)).await;
    let ended = p.control.wait().await;
    assert_eq!(ended.signal, Some(9), "{ended:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
}
