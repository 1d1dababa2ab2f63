//! The assistant against a real model server started here
//! (end2end/providers/models.mjs: an OpenAI-compatible API and Anthropic's
//! Messages API that stream, fail, rate-limit, drop and hang on cue): keys
//! sealed and never shown or logged, what a question sends (only the chosen
//! context, within the cap), answers streamed and replayed, every failure a
//! clear message within the time limit, usage and the daily allowance, and who
//! may ask.

mod common;

use app::server::assistant::{Assistant, DefaultModel};
use axum::http::Request;
use axum::Router;
use common::{http, router_configured, Client};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The model server's process; killed when dropped.
struct Models {
    addr: SocketAddr,
    _child: tokio::process::Child,
}

impl Models {
    async fn start() -> Self {
        let (addr, child) = common::node_server("models.mjs", &[]).await;
        Self {
            addr,
            _child: child,
        }
    }

    fn openai(&self) -> String {
        format!("http://{}/openai/v1", self.addr)
    }

    /// What the server does with the next request.
    async fn next(&self, cue: Value) {
        let (status, _, _) = http(self.addr, "POST", "/control/next", None, Some(cue))
            .await
            .unwrap();
        assert_eq!(status, 200);
    }

    async fn requests(&self) -> Vec<Value> {
        let (_, _, body) = http(self.addr, "GET", "/control/requests", None, None)
            .await
            .unwrap();
        serde_json::from_slice(&body).unwrap()
    }
}

/// Everything the server logs in this test binary, at debug level.
fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || Sink(sink.clone()))
            .init();
        buf
    })
    .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn app_with(pool: &PgPool, assistant: Assistant) -> Router {
    let settings = app::server::state::Settings {
        assistant: Arc::new(assistant),
        ..common::settings()
    };
    router_configured(pool.clone(), settings)
}

fn quick() -> Assistant {
    Assistant {
        idle: Duration::from_secs(2),
        ..Default::default()
    }
}

/// A user with a session holding `main.py` and a file they never send.
async fn alice(app: &Router) -> (Client, String) {
    let mut alice = Client::register(app, "alice").await;
    let s = alice.session().await;
    alice
        .write_files(
            &s,
            &[
                ("util.py", "def add(a, b):\n    return a + b\n"),
                ("secrets.env", "TOKEN=never-sent-7c1d\n"),
            ],
        )
        .await;
    (alice, s)
}

async fn add_key(c: &mut Client, provider: &str, base_url: &str, key: &str) -> Value {
    c.ok(
        "/api/ai/keys/set",
        json!({"provider": provider, "base_url": base_url, "label": "mine", "key": key}),
    )
    .await
}

/// The events of an answer's stream until it ends.
async fn stream(c: &Client, message: &str) -> Vec<Value> {
    let res = c
        .send_raw(Request::get(format!("/ai/stream/{message}")))
        .await;
    assert_eq!(res.status(), 200);
    let body = tokio::time::timeout(Duration::from_secs(20), res.into_body().collect())
        .await
        .expect("the stream ends")
        .unwrap()
        .to_bytes();
    String::from_utf8_lossy(&body)
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

/// An answer's text and its end event.
fn answer(events: &[Value]) -> (String, Value) {
    let text = events
        .iter()
        .filter(|e| e["type"] == "text")
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    let end = events.last().cloned().unwrap();
    assert_eq!(end["type"], "end", "{events:?}");
    (text, end)
}

async fn ask(c: &mut Client, s: &str, message: &str, context: Value) -> Value {
    c.ok(
        "/api/ai/chat",
        json!({"session": s, "message": message, "context": context}),
    )
    .await
}

#[sqlx::test(migrations = "../migrations")]
async fn keys_are_sealed_never_shown_and_never_logged(pool: PgPool) {
    let logs = logs();
    let models = Models::start().await;
    let app = app_with(&pool, quick());
    let (mut alice, s) = alice(&app).await;
    const KEY: &str = "sk-live-5f0e9a77c3b24d18WXYZ";
    let info = add_key(&mut alice, "openai", &models.openai(), KEY).await;
    assert_eq!(info["last4"], "WXYZ");
    assert_eq!(info["provider"], "openai");
    let listed = alice.ok("/api/ai/keys/list", json!({})).await;
    assert!(!listed.to_string().contains("5f0e9a77"), "{listed}");
    assert_eq!(listed[0]["id"], info["id"]);

    // The key works: it reaches the provider.
    let started = ask(&mut alice, &s, "hello", json!({})).await;
    let (_, end) = answer(&stream(&alice, started["message"].as_str().unwrap()).await);
    assert_eq!(end["status"], "done");
    assert_eq!(models.requests().await[0]["key"], KEY);

    // Nowhere in the database, in any column of any table, nor in the logs.
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    for table in tables {
        // Bound, not written in the statement (which the logs show); bytes
        // columns show as hex.
        let found: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {table} t WHERE t::text LIKE $1 OR t::text LIKE $2"
        ))
        .bind(format!("%{}%", &KEY[8..16]))
        .bind(format!("%{}%", hex::encode(&KEY[8..16])))
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(found, 0, "the key is in {table}");
    }
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT sealed FROM ai_keys")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(!sealed.windows(8).any(|w| w == b"5f0e9a77"));
    let logged = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(logged.contains("answer ended"), "the logs are captured");
    let leaked: Vec<&str> = logged.lines().filter(|l| l.contains("5f0e9a77")).collect();
    assert!(leaked.is_empty(), "the key is in the logs: {leaked:?}");

    // Bad input: a clear 422, nothing stored.
    for (provider, url, key) in [
        ("gemini", models.openai(), KEY),
        ("openai", "http://169.254.169.254/latest".into(), KEY),
        ("openai", "http://10.1.2.3/v1".into(), KEY),
        ("openai", "ftp://127.0.0.1/v1".into(), KEY),
        ("openai", models.openai(), "short"),
    ] {
        alice
            .fails(
                "/api/ai/keys/set",
                json!({"provider": provider, "base_url": url, "label": "x", "key": key}),
                422,
            )
            .await;
    }
    // Another user can neither see nor delete it.
    let mut mallory = Client::register(&app, "mallory").await;
    assert_eq!(mallory.ok("/api/ai/keys/list", json!({})).await, json!([]));
    mallory
        .fails("/api/ai/keys/delete", json!({"id": info["id"]}), 404)
        .await;
    alice
        .ok("/api/ai/keys/delete", json!({"id": info["id"]}))
        .await;
    assert_eq!(alice.ok("/api/ai/keys/list", json!({})).await, json!([]));
    let e = alice
        .fails("/api/ai/chat", json!({"session": s, "message": "hi"}), 422)
        .await;
    assert!(e["message"].as_str().unwrap().contains("add an API key"));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_question_sends_only_its_context_and_the_answer_streams_and_replays(pool: PgPool) {
    let models = Models::start().await;
    let app = app_with(&pool, quick());
    let (mut alice, s) = alice(&app).await;
    add_key(&mut alice, "openai", &models.openai(), "sk-test-000111").await;
    let started = ask(
        &mut alice,
        &s,
        "What does this do?",
        json!({
            "selection": {"path": "main.py", "start_line": 1, "end_line": 1, "text": "print('picked-3e9f')"},
            "files": ["util.py"],
        }),
    )
    .await;
    let sent = &started["sent"];
    assert_eq!(sent[0]["kind"], "selection");
    assert_eq!(sent[0]["name"], "main.py, lines 1–1");
    assert_eq!(sent[1]["kind"], "file");
    assert_eq!(sent[1]["name"], "util.py");
    assert_eq!(sent.as_array().unwrap().len(), 2);
    let message = started["message"].as_str().unwrap().to_string();

    let events = stream(&alice, &message).await;
    assert!(events.len() > 5, "token by token: {events:?}");
    let (text, end) = answer(&events);
    assert!(text.contains("```python\nprint(\"hello from the assistant\")"));
    assert_eq!(end["status"], "done");
    // Whoever connects later gets the whole answer from its start.
    let (again, _) = answer(&stream(&alice, &message).await);
    assert_eq!(again, text);

    let sent_body = models.requests().await[0]["body"].to_string();
    assert!(sent_body.contains("picked-3e9f"));
    assert!(sent_body.contains("def add(a, b)"));
    assert!(
        !sent_body.contains("never-sent-7c1d"),
        "an unchosen file went"
    );
    assert_eq!(
        models.requests().await[0]["body"]["stream_options"]["include_usage"],
        true
    );

    // The conversation is kept, and a follow-up carries the earlier turns.
    let conversation = started["conversation"].clone();
    let listed = alice
        .ok("/api/ai/conversations", json!({"session": s}))
        .await;
    assert_eq!(listed[0]["id"], conversation);
    assert_eq!(listed[0]["title"], "What does this do?");
    let follow = alice
        .ok(
            "/api/ai/chat",
            json!({"session": s, "conversation": conversation, "message": "And shorter?"}),
        )
        .await;
    assert_eq!(follow["conversation"], conversation);
    answer(&stream(&alice, follow["message"].as_str().unwrap()).await);
    let second = &models.requests().await[1]["body"]["messages"];
    let roles: Vec<&str> = second
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"]);
    let messages = alice
        .ok("/api/ai/messages", json!({"conversation": conversation}))
        .await;
    assert_eq!(messages.as_array().unwrap().len(), 4);
    assert_eq!(messages[0]["sent"][1]["name"], "util.py");
    assert_eq!(messages[1]["content"], text);

    // Usage as the provider reported it.
    let usage = alice.ok("/api/ai/usage", json!({})).await;
    let today = &usage["today"][0];
    assert_eq!(today["requests"], 2);
    assert!(today["tokens_in"].as_i64().unwrap() > 50, "{usage}");
    assert!(today["tokens_out"].as_i64().unwrap() > 20, "{usage}");
    let logged: Vec<(String, i64)> =
        sqlx::query_as("SELECT outcome, latency_ms FROM ai_requests ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(logged.len(), 2);
    assert!(logged.iter().all(|(o, ms)| o == "ok" && *ms >= 0));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_context_cap_cuts_and_names_what_it_cut(pool: PgPool) {
    let models = Models::start().await;
    let app = app_with(
        &pool,
        Assistant {
            context_cap: 40,
            ..quick()
        },
    );
    let (mut alice, s) = alice(&app).await;
    alice
        .write_files(&s, &[("big.txt", &"0123456789".repeat(10))])
        .await;
    add_key(&mut alice, "openai", &models.openai(), "sk-test-000111").await;
    let started = ask(
        &mut alice,
        &s,
        "Look",
        json!({"files": ["util.py", "big.txt"]}),
    )
    .await;
    let sent = started["sent"].as_array().unwrap();
    assert_eq!(sent[0]["bytes"], 32);
    assert!(sent[0]["cut"].is_null());
    assert_eq!(sent[1]["bytes"], 8);
    assert!(sent[1]["cut"]
        .as_str()
        .unwrap()
        .contains("cut to 8 of 100 bytes"));
    answer(&stream(&alice, started["message"].as_str().unwrap()).await);
    let body = models.requests().await[0]["body"].to_string();
    assert!(body.contains("01234567"));
    assert!(!body.contains("012345678"));
    // A missing file is an error, and nothing is asked.
    alice
        .fails(
            "/api/ai/chat",
            json!({"session": s, "message": "x", "context": {"files": ["nope.py"]}}),
            404,
        )
        .await;
    assert_eq!(models.requests().await.len(), 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn provider_failures_reach_the_user_and_nothing_hangs(pool: PgPool) {
    let models = Models::start().await;
    let app = app_with(&pool, quick());
    let (mut alice, s) = alice(&app).await;
    add_key(&mut alice, "openai", &models.openai(), "sk-test-000111").await;
    let cases = [
        (
            json!({"mode": "status", "status": 429, "retry_after": 7}),
            "try again in 7 s",
            "rate_limited",
        ),
        (
            json!({"mode": "status", "status": 500, "message": "model melted"}),
            "model melted",
            "provider_error",
        ),
        (
            json!({"mode": "drop"}),
            "ended before the answer did",
            "dropped",
        ),
        (json!({"mode": "hang"}), "sent nothing for 2 s", "timeout"),
    ];
    for (cue, says, outcome) in cases {
        models.next(cue).await;
        let started = ask(&mut alice, &s, "hi", json!({})).await;
        let t = Instant::now();
        let (_, end) = answer(&stream(&alice, started["message"].as_str().unwrap()).await);
        assert!(t.elapsed() < Duration::from_secs(10));
        assert_eq!(end["status"], "failed");
        let error = end["error"].as_str().unwrap();
        assert!(error.contains(says), "{error}");
        let logged: String =
            sqlx::query_scalar("SELECT outcome FROM ai_requests ORDER BY id DESC LIMIT 1")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(logged, outcome);
    }
    // A refused key.
    add_key(&mut alice, "openai", &models.openai(), "sk-bad-000111").await;
    let started = ask(&mut alice, &s, "hi", json!({})).await;
    let (_, end) = answer(&stream(&alice, started["message"].as_str().unwrap()).await);
    assert!(end["error"].as_str().unwrap().contains("refused the key"));
    // An unreachable provider (nothing listens there).
    add_key(
        &mut alice,
        "openai",
        "http://127.0.0.1:9/v1",
        "sk-test-000111",
    )
    .await;
    let started = ask(&mut alice, &s, "hi", json!({})).await;
    let (_, end) = answer(&stream(&alice, started["message"].as_str().unwrap()).await);
    assert!(end["error"]
        .as_str()
        .unwrap()
        .contains("could not be reached"));
}

#[sqlx::test(migrations = "../migrations")]
async fn stopping_keeps_what_came(pool: PgPool) {
    let models = Models::start().await;
    let app = app_with(&pool, quick());
    let (mut alice, s) = alice(&app).await;
    add_key(&mut alice, "openai", &models.openai(), "sk-test-000111").await;
    let mut same = alice.clone();
    stop_midway(&models, &mut alice, &mut same, &s).await;
}

/// A slow answer to `asker`, stopped midway by `stopper` (who may be served by
/// another replica): it ends `stopped`, keeping what came until then.
async fn stop_midway(models: &Models, asker: &mut Client, stopper: &mut Client, s: &str) {
    let slow = "one two three four five six seven";
    models
        .next(json!({"mode": "stream", "text": slow, "delay_ms": 300}))
        .await;
    let started = ask(asker, s, "count", json!({})).await;
    let id = started["message"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(700)).await;
    stopper.ok("/api/ai/stop", json!({"id": id})).await;
    let (text, end) = answer(&stream(asker, &id).await);
    assert_eq!(end["status"], "stopped");
    assert!(text.starts_with("one") && !text.contains("seven"), "{text}");
}

#[sqlx::test(migrations = "../migrations")]
async fn anthropic_gets_its_messages_api(pool: PgPool) {
    let models = Models::start().await;
    let app = app_with(&pool, quick());
    let (mut alice, s) = alice(&app).await;
    let base = format!("http://{}/anthropic", models.addr);
    add_key(&mut alice, "anthropic", &base, "sk-ant-000111").await;
    let started = ask(&mut alice, &s, "hi", json!({"files": ["util.py"]})).await;
    let (text, end) = answer(&stream(&alice, started["message"].as_str().unwrap()).await);
    assert_eq!(end["status"], "done");
    assert!(text.contains("hello from the assistant"));
    let req = &models.requests().await[0];
    assert_eq!(req["path"], "/anthropic/v1/messages");
    assert_eq!(req["key"], "sk-ant-000111");
    assert_eq!(req["anthropic_version"], "2023-06-01");
    assert!(req["body"]["system"].as_str().unwrap().contains("Python"));
    assert_eq!(req["body"]["messages"][0]["role"], "user");
    let usage = alice.ok("/api/ai/usage", json!({})).await;
    assert_eq!(usage["all_time"][0]["provider"], "anthropic");
    assert!(usage["all_time"][0]["tokens_out"].as_i64().unwrap() > 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_default_model_has_a_daily_allowance(pool: PgPool) {
    let models = Models::start().await;
    let app = app_with(
        &pool,
        Assistant {
            default_model: Some(DefaultModel {
                provider: app::wire::assistant::ModelProvider::Openai,
                base_url: models.openai(),
                model: "house-model".into(),
                key: "sk-house-000111".into(),
                daily_tokens: 60,
            }),
            prices: vec!["house-model=1000/2000".parse().unwrap()],
            ..quick()
        },
    );
    let (mut alice, s) = alice(&app).await;
    let options = alice.ok("/api/ai/options", json!({})).await;
    assert_eq!(options["default_model"]["model"], "house-model");
    assert_eq!(options["default_model"]["quota"]["used_today"], 0);
    let started = ask(&mut alice, &s, "hi", json!({})).await;
    answer(&stream(&alice, started["message"].as_str().unwrap()).await);
    let r = alice
        .post("/api/ai/chat", json!({"session": s, "message": "again"}))
        .await;
    assert_eq!(r.status, 429, "{}", r.body);
    let e = r.json();
    assert!(e["message"].as_str().unwrap().contains("resets at"));
    let wait = e["retry_after"].as_u64().unwrap();
    assert!((1..=86_400).contains(&wait));
    let usage = alice.ok("/api/ai/usage", json!({})).await;
    assert!(usage["quota"]["used_today"].as_i64().unwrap() >= 60);
    assert_eq!(usage["today"][0]["by_default"], true);
    assert!(usage["today"][0]["cost_usd"].as_f64().unwrap() > 0.0);
    // Another user's allowance is their own; a user's own key is not limited.
    let mut bob = Client::register(&app, "bob").await;
    let b = bob.session().await;
    ask(&mut bob, &b, "hi", json!({})).await;
    add_key(&mut alice, "openai", &models.openai(), "sk-test-000111").await;
    ask(&mut alice, &s, "again", json!({})).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn only_editors_send_files_and_conversations_are_their_authors(pool: PgPool) {
    let models = Models::start().await;
    let app = app_with(&pool, quick());
    let (mut alice, s) = alice(&app).await;
    add_key(&mut alice, "openai", &models.openai(), "sk-test-000111").await;
    let started = ask(&mut alice, &s, "mine", json!({})).await;
    let (conversation, message) = (started["conversation"].clone(), started["message"].clone());
    answer(&stream(&alice, message.as_str().unwrap()).await);

    let mut vera = Client::register(&app, "vera").await;
    let mut eddie = Client::register(&app, "eddie").await;
    let mut mallory = Client::register(&app, "mallory").await;
    alice.share(&s, "vera", "viewer").await;
    alice.share(&s, "eddie", "editor").await;
    for c in [&mut vera, &mut eddie, &mut mallory] {
        add_key(c, "openai", &models.openai(), "sk-test-000222").await;
    }
    let e = vera
        .fails(
            "/api/ai/chat",
            json!({"session": s, "message": "leak", "context": {"files": ["secrets.env"]}}),
            403,
        )
        .await;
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("Changing files needs an editor"),
        "{e}"
    );
    mallory
        .fails("/api/ai/chat", json!({"session": s, "message": "x"}), 404)
        .await;
    // An editor asks in their own conversation, never in alice's.
    let theirs = ask(&mut eddie, &s, "theirs", json!({})).await;
    answer(&stream(&eddie, theirs["message"].as_str().unwrap()).await);
    eddie
        .fails(
            "/api/ai/chat",
            json!({"session": s, "conversation": conversation, "message": "x"}),
            404,
        )
        .await;
    for c in [&mut vera, &mut eddie, &mut mallory] {
        let e = c
            .fails(
                "/api/ai/messages",
                json!({"conversation": conversation}),
                404,
            )
            .await;
        assert_eq!(e["message"], "no such conversation");
        c.fails("/api/ai/stop", json!({"id": message}), 404).await;
        let res = c
            .send_raw(Request::get(format!(
                "/ai/stream/{}",
                message.as_str().unwrap()
            )))
            .await;
        assert_eq!(res.status(), 404);
    }
    let theirs = eddie
        .ok("/api/ai/conversations", json!({"session": s}))
        .await;
    assert_eq!(theirs.as_array().unwrap().len(), 1);
    assert_eq!(theirs[0]["title"], "theirs");
    assert_eq!(
        vera.ok("/api/ai/conversations", json!({"session": s}))
            .await,
        json!([])
    );
    // The two questions asked went to the provider; the refused ones did not.
    let bodies = models.requests().await.to_vec();
    assert_eq!(bodies.len(), 2);
    assert!(!Value::Array(bodies).to_string().contains("never-sent-7c1d"));
}

#[sqlx::test(migrations = "../migrations")]
async fn another_replica_streams_and_stops_an_answer_through_its_row(pool: PgPool) {
    let models = Models::start().await;
    // Two servers over one database, each with its own answers in flight.
    let sealer = app::server::assistant::sealing::Sealer::random();
    let replica = |pool: &PgPool| {
        app_with(
            pool,
            Assistant {
                sealer: sealer.clone(),
                ..quick()
            },
        )
    };
    let (one, two) = (replica(&pool), replica(&pool));
    let (mut alice, s) = alice(&one).await;
    add_key(&mut alice, "openai", &models.openai(), "sk-test-000111").await;
    let mut on_two = Client {
        app: two.clone(),
        ..alice.clone()
    };
    models
        .next(json!({"mode": "stream", "text": "a b c d e f g h i j k l", "delay_ms": 60}))
        .await;
    let started = ask(&mut alice, &s, "spell", json!({})).await;
    let id = started["message"].as_str().unwrap().to_string();
    let (text, end) = answer(&stream(&on_two, &id).await);
    assert_eq!(text, "a b c d e f g h i j k l");
    assert_eq!(end["status"], "done");

    // Stopped through the other replica: the one streaming it sees the row.
    stop_midway(&models, &mut alice, &mut on_two, &s).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_rotated_secret_reseals_every_key(pool: PgPool) {
    use app::server::assistant::sealing::Sealer;
    use base64::Engine;
    let models = Models::start().await;
    let b64 = |b: u8| base64::engine::general_purpose::STANDARD.encode([b; 32]);
    let old = Sealer::from_secrets(&b64(1), &[]).unwrap();
    let with = |sealer: Sealer| app_with(&pool, Assistant { sealer, ..quick() });
    let (mut alice, s) = alice(&with(old)).await;
    add_key(&mut alice, "openai", &models.openai(), "sk-rotate-000111").await;

    let rotated = Sealer::from_secrets(&b64(2), &[b64(1)]).unwrap();
    let moved = app::server::assistant::keys::reseal(&pool, &rotated)
        .await
        .unwrap();
    assert_eq!(moved, 1);
    // The old secret is gone: the key still opens.
    let mut after = Client {
        app: with(Sealer::from_secrets(&b64(2), &[]).unwrap()),
        ..alice.clone()
    };
    let started = ask(&mut after, &s, "hi", json!({})).await;
    let (_, end) = answer(&stream(&after, started["message"].as_str().unwrap()).await);
    assert_eq!(end["status"], "done", "{end}");
    assert_eq!(models.requests().await[0]["key"], "sk-rotate-000111");
}
