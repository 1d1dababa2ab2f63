//! Runs on the real sandbox (bubblewrap, control groups where the machine has
//! them): input and both streams, exits and signals, every limit, a fork bomb,
//! a gigabyte of output, a compile error, a batch, an interactive program, and
//! the API's refusals.

mod common;

use common::{router, Client, Events};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::time::{Duration, Instant};

async fn setup(pool: &PgPool) -> (axum::Router, Client, String) {
    let app = router(pool.clone());
    let mut alice = Client::register(&app, "alice").await;
    let s = alice.session().await;
    (app, alice, s)
}

async fn write(c: &mut Client, s: &str, path: &str, content: &str) {
    c.ok(
        "/api/files/create",
        json!({"session": s, "path": path, "kind": "file", "content": content}),
    )
    .await;
}

async fn execute(c: &mut Client, body: Value) -> Value {
    c.ok("/api/runs/execute", body).await
}

#[sqlx::test(migrations = "../migrations")]
async fn a_program_reads_its_input_and_writes_both_streams(pool: PgPool) {
    let (_, mut alice, s) = setup(&pool).await;
    let program =
        "import sys\nname = input()\nprint('hello', name)\nprint('warned', file=sys.stderr)\n";
    write(&mut alice, &s, "greet.py", program).await;
    let r = execute(
        &mut alice,
        json!({"session": s, "path": "greet.py", "stdin": "Ada\n"}),
    )
    .await;
    assert_eq!(r["status"], "finished", "{r}");
    assert_eq!(r["exit_code"], 0);
    assert_eq!(r["stdout"], "hello Ada\n");
    assert_eq!(r["stderr"], "warned\n");
    assert_eq!(r["command"], "python3 -u 'greet.py'");
    assert!(r["wall_ms"].as_u64().unwrap() > 0);
    assert!(r["memory_kb"].as_u64().unwrap() > 1000, "{r}");
    let files = r["files"].as_array().unwrap();
    assert!(files.iter().any(|f| f["path"] == "greet.py"), "{r}");
    // Stored: listed newest first, and read again.
    let id = r["id"].as_str().unwrap();
    let again = alice.ok("/api/runs/get", json!({"id": id})).await;
    assert_eq!(again, r);
    let list = alice.ok("/api/runs/list", json!({"session": s})).await;
    assert_eq!(list[0]["id"], id);
    assert_eq!(list[0]["user"], "alice");
}

#[sqlx::test(migrations = "../migrations")]
async fn exits_and_signals_are_reported(pool: PgPool) {
    let (_, mut alice, s) = setup(&pool).await;
    let r = execute(
        &mut alice,
        json!({"session": s, "command": "echo out; exit 3"}),
    )
    .await;
    assert_eq!(
        (&r["status"], &r["exit_code"], &r["signal"]),
        (&json!("runtime_error"), &json!(3), &Value::Null)
    );
    let r = execute(
        &mut alice,
        json!({"session": s, "command": "python3 -c 'import os; os.kill(os.getpid(), 11)'"}),
    )
    .await;
    assert_eq!(
        (&r["status"], &r["signal"]),
        (&json!("runtime_error"), &json!(11)),
        "{r}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn time_limits_stop_loops_and_sleeps(pool: PgPool) {
    let (_, mut alice, s) = setup(&pool).await;
    let r = execute(
        &mut alice,
        json!({"session": s, "command": "python3 -c 'while True: pass'", "limits": {"cpu_ms": 1000}}),
    )
    .await;
    assert_eq!(r["status"], "time_limit", "{r}");
    assert!(r["cpu_ms"].as_u64().unwrap() >= 1000, "{r}");
    assert!(r["wall_ms"].as_u64().unwrap() < 5000, "{r}");
    let r = execute(
        &mut alice,
        json!({"session": s, "command": "sleep 30", "limits": {"wall_ms": 700}}),
    )
    .await;
    assert_eq!(r["status"], "wall_time_limit", "{r}");
    let wall = r["wall_ms"].as_u64().unwrap();
    assert!((700..5000).contains(&wall), "{r}");
}

/// Another user's saves go on while the bombs run.
async fn saves_meanwhile(app: axum::Router, stop: tokio::sync::watch::Receiver<bool>) -> usize {
    let mut bob = Client::register(&app, "bob").await;
    let s = bob.session().await;
    let first = bob
        .ok("/api/files/read", json!({"session": s, "path": "main.py"}))
        .await;
    let mut hash = first["hash"].as_str().unwrap().to_string();
    let mut saves = 0;
    while !*stop.borrow() {
        let saved = bob
            .ok(
                "/api/files/save",
                json!({"session": s, "path": "main.py", "content": format!("x = {saves}\n"), "base_hash": hash}),
            )
            .await;
        hash = saved["hash"].as_str().unwrap().to_string();
        saves += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    saves
}

#[sqlx::test(migrations = "../migrations")]
async fn bombs_are_contained_and_reported(pool: PgPool) {
    let (app, mut alice, s) = setup(&pool).await;
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let saver = tokio::spawn(saves_meanwhile(app.clone(), stop));

    // A memory bomb, and a Python MemoryError under the limit: both memory_limit.
    let bomb = "python3 -c 'x = []\nwhile True: x.append(bytearray(1 << 20))'";
    let r = execute(
        &mut alice,
        json!({"session": s, "command": bomb, "limits": {"memory_kb": 65536}}),
    )
    .await;
    assert_eq!(r["status"], "memory_limit", "{r}");
    let big = "python3 -c 'x = bytearray(1 << 30)'";
    let r = execute(
        &mut alice,
        json!({"session": s, "command": big, "limits": {"memory_kb": 65536}}),
    )
    .await;
    assert_eq!(r["status"], "memory_limit", "{r}");

    // A fork bomb: contained by the process limit, ended by the wall time.
    let forks = "bomb() { bomb | bomb & }; bomb";
    let started = Instant::now();
    let r = execute(
        &mut alice,
        json!({"session": s, "command": forks, "limits": {"processes": 32, "wall_ms": 2000}}),
    )
    .await;
    assert!(
        ["wall_time_limit", "runtime_error", "finished"].contains(&r["status"].as_str().unwrap()),
        "{r}"
    );
    assert!(started.elapsed() < Duration::from_secs(15), "{r}");
    // Nothing of it is left: the next run starts at once.
    let r = execute(&mut alice, json!({"session": s, "command": "echo alive"})).await;
    assert_eq!(r["stdout"], "alive\n");

    // A gigabyte of output: stopped at the limit, the server's memory flat.
    let before = rss_kb();
    let r = execute(
        &mut alice,
        json!({"session": s, "command": "head -c 1000000000 /dev/zero | tr '\\0' x"}),
    )
    .await;
    assert_eq!(r["status"], "output_limit", "{r}");
    assert_eq!(r["stdout_truncated"], true);
    assert_eq!(r["stdout"].as_str().unwrap().len(), 1 << 20);
    let grown = rss_kb().saturating_sub(before);
    assert!(grown < 64 * 1024, "the server grew by {grown} KiB");

    stop_tx.send(true).unwrap();
    // Liveness, not speed (a busy machine makes fewer): saves kept going through.
    let saves = saver.await.unwrap();
    assert!(saves >= 3, "only {saves} saves went through meanwhile");
}

fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn c_compiles_then_runs_and_compile_errors_say_so(pool: PgPool) {
    let (_, mut alice, s) = setup(&pool).await;
    write(
        &mut alice,
        &s,
        "ok.c",
        "#include <stdio.h>\nint main(void) { int n; scanf(\"%d\", &n); printf(\"%d\\n\", n * 2); return 0; }\n",
    )
    .await;
    let r = execute(
        &mut alice,
        json!({"session": s, "path": "ok.c", "stdin": "21"}),
    )
    .await;
    assert_eq!(
        (&r["status"], &r["stdout"]),
        (&json!("finished"), &json!("42\n")),
        "{r}"
    );
    assert_eq!(r["compile"]["status"], "finished");
    write(&mut alice, &s, "bad.c", "int main(void) { return x; }\n").await;
    let r = execute(&mut alice, json!({"session": s, "path": "bad.c"})).await;
    assert_eq!(r["status"], "compile_error", "{r}");
    assert_eq!(r["compile"]["status"], "compile_error");
    assert!(
        r["compile"]["output"].as_str().unwrap().contains("error"),
        "{r}"
    );
    assert_eq!(r["stdout"], "");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_batch_gives_one_result_per_case(pool: PgPool) {
    let (_, mut alice, s) = setup(&pool).await;
    write(&mut alice, &s, "double.py", "print(int(input()) * 2)\n").await;
    let cases: Vec<Value> = [(1, 2), (2, 4), (3, 7), (4, 8), (5, 11)]
        .iter()
        .map(|(i, o)| json!({"stdin": format!("{i}\n"), "expected_stdout": format!("{o}\n")}))
        .collect();
    let r = execute(
        &mut alice,
        json!({"session": s, "path": "double.py", "tests": cases}),
    )
    .await;
    let tests = r["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 5);
    let passed: Vec<bool> = tests
        .iter()
        .map(|t| t["passed"].as_bool().unwrap())
        .collect();
    assert_eq!(passed, [true, true, false, true, false]);
    assert!(tests[2]["diff"].as_str().unwrap().contains("-7"), "{r}");
    assert!(tests[2]["diff"].as_str().unwrap().contains("+6"), "{r}");
    assert_eq!(r["status"], "finished");
    // Stored with its cases.
    let again = alice.ok("/api/runs/get", json!({"id": r["id"]})).await;
    assert_eq!(again["tests"], r["tests"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_interactive_program_answers_its_input(pool: PgPool) {
    let (_, mut alice, s) = setup(&pool).await;
    let program = "a = input('first? ')\nprint('got', a)\nb = input('second? ')\nprint('got', b)\n";
    write(&mut alice, &s, "ask.py", program).await;
    let started = alice
        .ok("/api/runs/start", json!({"session": s, "path": "ask.py"}))
        .await;
    let id = started["id"].as_str().unwrap().to_string();
    let mut events = Events::open(&alice, &format!("run/{id}")).await.unwrap();
    let first = events.next().await.unwrap();
    assert_eq!(first["type"], "snapshot", "{first}");
    let mut seen = String::new();
    let mut result = Value::Null;
    let mut answered = 0;
    while let Some(e) = tokio::time::timeout(Duration::from_secs(20), events.next())
        .await
        .expect("the run goes on")
    {
        match e["type"].as_str().unwrap() {
            "output" => seen.push_str(e["text"].as_str().unwrap()),
            "done" => {
                result = e["run"].clone();
                break;
            }
            _ => {}
        }
        if seen.contains("first? ") && answered == 0 {
            alice
                .ok("/api/runs/input", json!({"id": id, "data": "one\n"}))
                .await;
            answered = 1;
        }
        if seen.contains("second? ") && answered == 1 {
            alice
                .ok(
                    "/api/runs/input",
                    json!({"id": id, "data": "two\n", "eof": true}),
                )
                .await;
            answered = 2;
        }
    }
    assert_eq!(result["status"], "finished", "{result}");
    assert_eq!(result["stdout"], "first? got one\nsecond? got two\n");
    // Ended: its stream answers the result, and input is refused.
    let mut again = Events::open(&alice, &format!("run/{id}")).await.unwrap();
    assert_eq!(again.next().await.unwrap()["type"], "done");
    alice
        .fails("/api/runs/input", json!({"id": id, "data": "late"}), 409)
        .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_run_can_be_stopped(pool: PgPool) {
    let (_, mut alice, s) = setup(&pool).await;
    let started = alice
        .ok(
            "/api/runs/start",
            json!({"session": s, "command": "sleep 60"}),
        )
        .await;
    let id = started["id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(300)).await;
    alice.ok("/api/runs/cancel", json!({"id": id})).await;
    let mut events = Events::open(&alice, &format!("run/{id}")).await.unwrap();
    let mut last = Value::Null;
    while let Some(e) = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("the run ends")
    {
        last = e;
        if last["type"] == "done" {
            break;
        }
    }
    assert_eq!(last["run"]["status"], "cancelled", "{last}");
}

#[sqlx::test(migrations = "../migrations")]
async fn what_the_terminal_changed_is_synced_before_a_run(pool: PgPool) {
    let (_, mut alice, s) = setup(&pool).await;
    // Made in the sandbox, not through the API.
    let made = execute(
        &mut alice,
        json!({"session": s, "command": "echo made > made.txt"}),
    )
    .await;
    assert_eq!(made["status"], "finished", "{made}");
    let r = execute(&mut alice, json!({"session": s, "command": "cat made.txt"})).await;
    assert_eq!(r["stdout"], "made\n", "{r}");
    let files = r["files"].as_array().unwrap();
    assert!(files.iter().any(|f| f["path"] == "made.txt"), "{r}");
}

#[sqlx::test(migrations = "../migrations")]
async fn requests_beyond_limits_and_roles_are_refused(pool: PgPool) {
    let (app, mut alice, s) = setup(&pool).await;
    let e = alice
        .fails(
            "/api/runs/execute",
            json!({"session": s, "command": "true", "limits": {"memory_kb": 1u64 << 40}}),
            422,
        )
        .await;
    assert!(e["message"].as_str().unwrap().contains("memory_kb"), "{e}");
    alice
        .fails("/api/runs/execute", json!({"session": s}), 422)
        .await;
    alice
        .fails(
            "/api/runs/execute",
            json!({"session": s, "path": "README.md"}),
            422,
        )
        .await;
    // At most four at once, however many ask together.
    let asks = (0..6).map(|_| {
        let mut c = alice.clone();
        let body = json!({"session": s, "command": "sleep 30"});
        async move { c.post("/api/runs/start", body).await }
    });
    let replies = futures_util::future::join_all(asks).await;
    let mut ids = Vec::new();
    for r in &replies {
        match r.status.as_u16() {
            200 => ids.push(r.json()["id"].as_str().unwrap().to_string()),
            429 => assert!(r.body.contains("4 runs"), "{}", r.body),
            other => panic!("{other}: {}", r.body),
        }
    }
    assert_eq!(ids.len(), 4, "{replies:?}");
    for id in &ids {
        alice.ok("/api/runs/cancel", json!({"id": id})).await;
    }
    // A viewer reads runs and the configuration, and runs nothing.
    let mut bob = Client::register(&app, "bob").await;
    alice.share(&s, "bob", "viewer").await;
    let list = bob.ok("/api/runs/list", json!({"session": s})).await;
    assert_eq!(list.as_array().unwrap().len(), 4);
    bob.ok("/api/runs/get", json!({"id": ids[0]})).await;
    bob.fails(
        "/api/runs/start",
        json!({"session": s, "command": "true"}),
        403,
    )
    .await;
    bob.fails("/api/runs/cancel", json!({"id": ids[0]}), 403)
        .await;
    let config = bob.ok("/api/runs/config", json!({"session": s})).await;
    assert_eq!(config["args"], "");
    bob.fails(
        "/api/runs/config",
        json!({"session": s, "set": config}),
        403,
    )
    .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_run_configuration_is_the_sessions(pool: PgPool) {
    let (_, mut alice, s) = setup(&pool).await;
    let mut config = alice.ok("/api/runs/config", json!({"session": s})).await;
    config["args"] = json!("--loud");
    config["commands"][0]["run"] = json!("python3 {file} {args} extra");
    let saved = alice
        .ok("/api/runs/config", json!({"session": s, "set": config}))
        .await;
    assert_eq!(saved["args"], "--loud");
    write(
        &mut alice,
        &s,
        "args.py",
        "import sys\nprint(sys.argv[1:])\n",
    )
    .await;
    let r = execute(&mut alice, json!({"session": s, "path": "args.py"})).await;
    assert_eq!(r["stdout"], "['--loud', 'extra']\n", "{r}");
    // The default input goes to a file run without one.
    config["stdin"] = json!("from the configuration\n");
    alice
        .ok("/api/runs/config", json!({"session": s, "set": config}))
        .await;
    write(&mut alice, &s, "echo.py", "print(input())\n").await;
    let r = execute(&mut alice, json!({"session": s, "path": "echo.py"})).await;
    assert_eq!(r["stdout"], "from the configuration\n", "{r}");
    config["commands"][0]["run"] = json!(" ");
    alice
        .fails(
            "/api/runs/config",
            json!({"session": s, "set": config}),
            422,
        )
        .await;
    let reset = alice
        .ok("/api/runs/config", json!({"session": s, "reset": true}))
        .await;
    assert_eq!(reset["args"], "");
}

#[sqlx::test(migrations = "../migrations")]
async fn each_run_gets_a_fresh_sandbox_though_started_ahead(pool: PgPool) {
    let (_, mut alice, s) = setup(&pool).await;
    // Its own pid namespace (bash is pid 2 under bwrap's init), and no sleep left
    // by the run before.
    let probe =
        "echo \"leak=${LEAK:-none} pid=$$ sleeping=$(grep -lx sleep /proc/[0-9]*/comm | wc -l)\"; \
                 export LEAK=1; sleep 30 &";
    let mut seen = Vec::new();
    for _ in 0..3 {
        let r = execute(&mut alice, json!({"session": s, "command": probe})).await;
        assert_eq!(r["status"], "finished", "{r}");
        seen.push(r["stdout"].as_str().unwrap().to_string());
        // Its CPU time is the run's, not its sandbox's start.
        assert!(r["cpu_ms"].as_u64().unwrap() < 1000, "{r}");
    }
    // Nothing of a run reaches the next: its variables, its processes (the sleep
    // left behind ended with it), its pid namespace.
    assert!(seen.iter().all(|o| o == &seen[0]), "{seen:?}");
    assert_eq!(seen[0], "leak=none pid=2 sleeping=0\n", "{seen:?}");

    // Each run's limits are its own, lower or higher than the last one's.
    let grab = "python3 -c 'b = bytearray(200 * 1024 * 1024); print(len(b))'";
    let small = execute(
        &mut alice,
        json!({"session": s, "command": grab, "limits": {"memory_kb": 64 * 1024}}),
    )
    .await;
    assert_eq!(small["status"], "memory_limit", "{small}");
    let large = execute(
        &mut alice,
        json!({"session": s, "command": grab, "limits": {"memory_kb": 1536 * 1024}}),
    )
    .await;
    assert_eq!(large["status"], "finished", "{large}");
    assert_eq!(large["stdout"], "209715200\n");
}
