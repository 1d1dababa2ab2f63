//! Workspace search: literal and regex, case and whole words, globs, limits,
//! regex errors, replace through a preview with conflicts, quick open.

mod common;

use common::{router, Client};
use serde_json::{json, Value};
use sqlx::PgPool;

async fn workspace(pool: &PgPool) -> (Client, String) {
    let app = router(pool.clone());
    let mut c = Client::register(&app, "alice").await;
    let s = c.session().await;
    for (path, content) in [
        (
            "src/parser.py",
            "def parse_line(s):\n    raise ValueError('bad')\n# Parse later\n",
        ),
        (
            "src/lexer.py",
            "def parse_token(t):\n    return t  # parse\n",
        ),
        (
            "tests/test_parser.py",
            "from src.parser import parse_line\nassert parse_line('x')\n",
        ),
        ("docs/notes.md", "Parsing notes: KeyError and ValueError.\n"),
    ] {
        c.ok(
            "/api/files/create",
            json!({"session": s, "path": path, "kind": "file", "content": content}),
        )
        .await;
    }
    (c, s)
}

async fn search(c: &mut Client, s: &str, args: Value) -> Value {
    let mut body = json!({"session": s});
    body.as_object_mut()
        .unwrap()
        .extend(args.as_object().unwrap().clone());
    c.ok("/api/search/text", body).await
}

fn places(r: &Value) -> Vec<String> {
    r["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}:{}:{}",
                m["path"].as_str().unwrap(),
                m["line"],
                m["column"]
            )
        })
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn literal_regex_case_words_and_globs(pool: PgPool) {
    let (mut c, s) = workspace(&pool).await;
    let r = search(&mut c, &s, json!({"query": "parse"})).await;
    assert_eq!(
        places(&r),
        [
            "src/lexer.py:1:5",
            "src/lexer.py:2:17",
            "src/parser.py:1:5",
            "src/parser.py:3:3",
            "tests/test_parser.py:1:10",
            "tests/test_parser.py:1:24",
            "tests/test_parser.py:2:8",
        ]
    );
    assert_eq!(r["truncated"], false);
    let m = &r["matches"][3];
    assert_eq!(
        (m["text"].as_str(), m["end_column"].as_i64()),
        (Some("# Parse later"), Some(8))
    );

    let r = search(
        &mut c,
        &s,
        json!({"query": "Parse", "case_sensitive": true}),
    )
    .await;
    assert_eq!(places(&r), ["src/parser.py:3:3"]);
    let r = search(&mut c, &s, json!({"query": "parse", "whole_word": true})).await;
    assert_eq!(places(&r), ["src/lexer.py:2:17", "src/parser.py:3:3"]);
    let r = search(
        &mut c,
        &s,
        json!({"query": r"\bparse_\w+\b", "regex": true, "case_sensitive": true}),
    )
    .await;
    assert_eq!(r["matches"].as_array().unwrap().len(), 4);
    let r = search(
        &mut c,
        &s,
        json!({"query": "[A-Z][a-z]+Error", "regex": true, "case_sensitive": true}),
    )
    .await;
    assert_eq!(
        places(&r),
        [
            "docs/notes.md:1:16",
            "docs/notes.md:1:29",
            "src/parser.py:2:11"
        ]
    );
    let r = search(
        &mut c,
        &s,
        json!({"query": "parse", "include": ["*.py"], "exclude": ["tests"]}),
    )
    .await;
    assert!(places(&r).iter().all(|p| p.starts_with("src/")), "{r}");
    // A limit is reported, never silent.
    let r = search(&mut c, &s, json!({"query": "parse", "max_results": 2})).await;
    assert_eq!(
        (r["matches"].as_array().unwrap().len(), &r["truncated"]),
        (2, &json!(true))
    );
    // Nothing found is an empty answer.
    let r = search(&mut c, &s, json!({"query": "nowhere to be found"})).await;
    assert_eq!(r, json!({"matches": [], "truncated": false}));
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_searches_say_what_is_wrong(pool: PgPool) {
    let (mut c, s) = workspace(&pool).await;
    let e = c
        .fails(
            "/api/search/text",
            json!({"session": s, "query": "parse(", "regex": true}),
            422,
        )
        .await;
    let message = e["message"].as_str().unwrap();
    assert!(
        message.starts_with("invalid regular expression at column 6"),
        "{message}"
    );
    // Rust's syntax, not Postgres': a look-ahead is not supported there.
    c.fails(
        "/api/search/text",
        json!({"session": s, "query": "a(?=b)", "regex": true}),
        422,
    )
    .await;
    c.fails("/api/search/text", json!({"session": s, "query": ""}), 422)
        .await;
    c.fails(
        "/api/search/text",
        json!({"session": s, "query": "x", "max_results": 0}),
        422,
    )
    .await;
    c.fails(
        "/api/search/text",
        json!({"session": s, "query": "x", "include": ["src/[a"]}),
        422,
    )
    .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn replace_previews_then_applies_where_nothing_changed(pool: PgPool) {
    let (mut c, s) = workspace(&pool).await;
    let args = json!({"session": s, "query": r"parse_(\w+)", "regex": true, "case_sensitive": true,
                      "replacement": "read_$1", "preview": true});
    let preview = c.ok("/api/search/replace", args.clone()).await;
    let files = preview["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    let lexer = files.iter().find(|f| f["path"] == "src/lexer.py").unwrap();
    assert_eq!(
        lexer["lines"],
        json!([{"line": 1, "before": "def parse_token(t):", "after": "def read_token(t):"}])
    );
    // Nothing is written by a preview.
    let r = search(&mut c, &s, json!({"query": "read_"})).await;
    assert_eq!(r["matches"], json!([]));

    // One file changes meanwhile: it is left alone and reported.
    let now = c
        .ok(
            "/api/files/read",
            json!({"session": s, "path": "src/lexer.py"}),
        )
        .await;
    c.ok(
        "/api/files/save",
        json!({"session": s, "path": "src/lexer.py", "content": "def parse_token(t):\n    pass\n",
               "base_hash": now["hash"]}),
    )
    .await;
    let bases: Vec<Value> = files
        .iter()
        .map(|f| json!({"path": f["path"], "hash": f["hash"]}))
        .collect();
    let mut apply = args.clone();
    apply["preview"] = json!(false);
    apply["files"] = json!(bases);
    let done = c.ok("/api/search/replace", apply).await;
    assert_eq!(done["files"].as_array().unwrap().len(), 2);
    assert_eq!(
        done["conflicts"],
        json!([{"path": "src/lexer.py", "reason": "it changed since the preview"}])
    );
    let parser = c
        .ok(
            "/api/files/read",
            json!({"session": s, "path": "src/parser.py"}),
        )
        .await;
    assert!(parser["content"]
        .as_str()
        .unwrap()
        .starts_with("def read_line(s):"));
    let lexer = c
        .ok(
            "/api/files/read",
            json!({"session": s, "path": "src/lexer.py"}),
        )
        .await;
    assert!(lexer["content"].as_str().unwrap().contains("parse_token"));
    // A checkpoint was made first, and the versions say what made them.
    let cps = c.ok("/api/checkpoints/list", json!({"session": s})).await;
    assert_eq!(cps[0]["id"], done["checkpoint"]);
    let versions = c
        .ok(
            "/api/history/list",
            json!({"session": s, "path": "src/parser.py"}),
        )
        .await;
    assert_eq!(versions[0]["source"], "replace");
    // Literal replacement takes `$` as it is.
    let args =
        json!({"session": s, "query": "ValueError", "replacement": "$0Oops", "preview": true});
    let p = c.ok("/api/search/replace", args).await;
    assert_eq!(
        p["files"][0]["lines"][0]["after"],
        "Parsing notes: KeyError and $0Oops."
    );
    // Applying without the preview's hashes is refused.
    c.fails(
        "/api/search/replace",
        json!({"session": s, "query": "x", "replacement": "y", "preview": false}),
        422,
    )
    .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn quick_open_ranks_by_fuzzy_name(pool: PgPool) {
    let (mut c, s) = workspace(&pool).await;
    let hits = c
        .ok(
            "/api/search/files",
            json!({"session": s, "query": "parser"}),
        )
        .await;
    let paths: Vec<&str> = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["src/parser.py", "tests/test_parser.py"]);
    let hits = c
        .ok("/api/search/files", json!({"session": s, "query": "tp"}))
        .await;
    assert_eq!(hits[0]["path"], "tests/test_parser.py");
    assert_eq!(hits[0]["positions"], json!([6, 11]));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_viewer_searches_a_stranger_does_not(pool: PgPool) {
    let (mut alice, s) = workspace(&pool).await;
    let mut vera = Client::register(&alice.app, "vera").await;
    let mut mallory = Client::register(&alice.app, "mallory").await;
    alice.share(&s, "vera", "viewer").await;
    let r = search(&mut vera, &s, json!({"query": "parse"})).await;
    assert_eq!(r["matches"].as_array().unwrap().len(), 7);
    vera.ok("/api/search/files", json!({"session": s, "query": "lex"}))
        .await;
    vera.fails(
        "/api/search/replace",
        json!({"session": s, "query": "x", "replacement": "y", "preview": true}),
        403,
    )
    .await;
    mallory
        .fails(
            "/api/search/text",
            json!({"session": s, "query": "parse"}),
            404,
        )
        .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_index_copy_never_hides_a_change(pool: PgPool) {
    let (mut c, s) = workspace(&pool).await;
    while app::server::search::index(&pool, 100).await.unwrap() > 0 {}
    let docs: i64 = sqlx::query_scalar("SELECT count(*) FROM search_docs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(docs, 5, "every file is in the copy");
    let r = search(&mut c, &s, json!({"query": "KeyError"})).await;
    assert_eq!(places(&r), ["docs/notes.md:1:16"]);
    // Changed after the copy was made: found as it is now, not as it was.
    let now = c
        .ok(
            "/api/files/read",
            json!({"session": s, "path": "docs/notes.md"}),
        )
        .await;
    c.ok(
        "/api/files/save",
        json!({"session": s, "path": "docs/notes.md", "content": "Only IndexError here.\n",
               "base_hash": now["hash"]}),
    )
    .await;
    assert_eq!(
        search(&mut c, &s, json!({"query": "KeyError"})).await["matches"],
        json!([])
    );
    let r = search(&mut c, &s, json!({"query": "IndexError"})).await;
    assert_eq!(places(&r), ["docs/notes.md:1:6"]);
}
