//! Files in and out: a session or a folder downloaded as a zip (streamed, with the
//! access check); uploads and zip imports (all or nothing, within the limits);
//! binary files through all of it, byte for byte.

mod common;

use axum::http::{Request, StatusCode};
use common::{router, Client};
use serde_json::json;
use sqlx::PgPool;
use std::io::Read;

async fn download(c: &Client, uri: &str) -> (StatusCode, Vec<u8>, Option<String>) {
    use http_body_util::BodyExt;
    let res = c.send_raw(Request::get(uri)).await;
    let status = res.status();
    let disposition = res
        .headers()
        .get("content-disposition")
        .map(|v| v.to_str().unwrap().to_string());
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, body, disposition)
}

/// The archive's entries: (name, content; None for a folder).
fn entries(zip: &[u8]) -> Vec<(String, Option<Vec<u8>>)> {
    let mut a = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    (0..a.len())
        .map(|i| {
            let mut f = a.by_index(i).unwrap();
            let name = f.name().unwrap().to_string();
            if f.is_dir() {
                (name, None)
            } else {
                let mut bytes = Vec::new();
                f.read_to_end(&mut bytes).unwrap();
                (name, Some(bytes))
            }
        })
        .collect()
}

fn said(reply: serde_json::Value) -> String {
    reply["message"].as_str().unwrap_or_default().to_string()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[sqlx::test(migrations = "../migrations")]
async fn a_session_and_a_folder_download_as_zips(pool: PgPool) {
    let app = router(pool.clone());
    let mut alice = Client::register(&app, "alice").await;
    let s = alice.session().await;
    let big = "line of text\n".repeat(4_000);
    let files = [
        ("src/app/main.rs", "fn main() {}\n"),
        ("src/big.txt", big.as_str()),
        ("ünï.txt", "é\n"),
    ];
    alice.write_files(&s, &files).await;
    alice.folder(&s, "empty").await;

    let (status, body, disposition) = download(&alice, &format!("/download/{s}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        disposition.as_deref(),
        Some("attachment; filename=\"work.zip\"")
    );
    // Compressed: the repeated text shrinks.
    assert!(body.len() < big.len() / 10, "{} bytes", body.len());
    let got = entries(&body);
    let want: Vec<(String, Option<Vec<u8>>)> = [
        ("empty/", None),
        ("main.py", Some("print(\"Hello, world!\")\n")),
        ("src/", None),
        ("src/app/", None),
        ("src/app/main.rs", Some("fn main() {}\n")),
        ("src/big.txt", Some(big.as_str())),
        ("ünï.txt", Some("é\n")),
    ]
    .into_iter()
    .map(|(n, c)| (n.to_string(), c.map(|c| c.as_bytes().to_vec())))
    .collect();
    assert_eq!(got, want);

    // One folder: its contents, named from inside it.
    let (status, body, disposition) = download(&alice, &format!("/download/{s}?path=src")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        disposition.as_deref(),
        Some("attachment; filename=\"src.zip\"")
    );
    let names: Vec<String> = entries(&body).into_iter().map(|e| e.0).collect();
    assert_eq!(names, ["app/", "app/main.rs", "big.txt"]);

    // A file, a missing folder, a path that climbs out.
    assert_eq!(
        download(&alice, &format!("/download/{s}?path=main.py"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        download(&alice, &format!("/download/{s}?path=nope"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        download(&alice, &format!("/download/{s}?path=../x"))
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Others: 404 as if it did not exist; a viewer may.
    let mut bob = Client::register(&app, "bob").await;
    assert_eq!(
        download(&bob, &format!("/download/{s}")).await.0,
        StatusCode::NOT_FOUND
    );
    alice.share(&s, "bob", "viewer").await;
    assert_eq!(
        download(&bob, &format!("/download/{s}")).await.0,
        StatusCode::OK
    );
    bob.ok("/api/auth/logout", json!({})).await;
    assert_eq!(
        download(&Client::new(&app), &format!("/download/{s}"))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

/// A PNG's signature and header, then every byte value: NULs and invalid UTF-8.
fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    b.extend(0..=255u8);
    b
}

#[sqlx::test(migrations = "../migrations")]
async fn uploads_round_trip_through_zips_byte_for_byte(pool: PgPool) {
    let app = router(pool.clone());
    let mut alice = Client::register(&app, "alice").await;
    let s = alice.session().await;
    let png = png();
    let prog = b"\x7fELF\x02\x01\x01\0\0\0".to_vec();
    let put = alice
        .ok(
            "/api/files/upload",
            json!({"session": s, "folder": "assets", "files": [
                {"path": "img/logo.png", "content": b64(&png), "encoding": "base64"},
                {"path": "deep/er/notes.md", "content": "# Notes\n"},
                {"path": "bin/prog", "content": b64(&prog), "encoding": "base64"},
            ]}),
        )
        .await;
    let put: Vec<(&str, Option<&str>)> = put
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["path"].as_str().unwrap(), i["media_type"].as_str()))
        .collect();
    assert_eq!(
        put,
        [
            ("assets/bin/prog", Some("application/x-executable")),
            ("assets/deep/er/notes.md", None),
            ("assets/img/logo.png", Some("image/png")),
        ]
    );

    // Read back: base64 with its media type; text files keep their shape.
    let logo = alice
        .ok(
            "/api/files/read",
            json!({"session": s, "path": "assets/img/logo.png"}),
        )
        .await;
    assert_eq!(logo["encoding"], "base64");
    assert_eq!(logo["media_type"], "image/png");
    assert_eq!(logo["content"], b64(&png));
    assert_eq!(logo["size"], png.len());
    let notes = alice
        .ok(
            "/api/files/read",
            json!({"session": s, "path": "assets/deep/er/notes.md"}),
        )
        .await;
    assert!(
        notes.get("encoding").is_none() && notes.get("media_type").is_none(),
        "{notes}"
    );
    let history = alice
        .ok(
            "/api/history/list",
            json!({"session": s, "path": "assets/img/logo.png"}),
        )
        .await;
    assert_eq!(history[0]["source"], "upload");
    let old = alice
        .ok(
            "/api/history/read",
            json!({"session": s, "path": "assets/img/logo.png", "version": 1}),
        )
        .await;
    assert_eq!(
        (&old["content"], &old["encoding"]),
        (&json!(b64(&png)), &json!("base64"))
    );

    // Out as a zip, in again elsewhere, out again: the same entries, the same bytes.
    let (status, zip, _) = download(&alice, &format!("/download/{s}?path=assets")).await;
    assert_eq!(status, StatusCode::OK);
    let first = entries(&zip);
    assert!(
        first.contains(&("img/logo.png".into(), Some(png.clone()))),
        "{first:?}"
    );
    assert!(first.contains(&("bin/prog".into(), Some(prog.clone()))));
    alice
        .ok(
            "/api/files/import_zip",
            json!({"session": s, "folder": "copy", "zip": b64(&zip)}),
        )
        .await;
    let (_, again, _) = download(&alice, &format!("/download/{s}?path=copy")).await;
    assert_eq!(entries(&again), first);

    // Importing over what is there asks first, then replaces.
    let r = said(
        alice
            .fails(
                "/api/files/import_zip",
                json!({"session": s, "folder": "copy", "zip": b64(&zip)}),
                409,
            )
            .await,
    );
    assert!(r.contains("already there: copy/bin/prog"), "{r}");
    alice
        .ok(
            "/api/files/import_zip",
            json!({"session": s, "folder": "copy", "zip": b64(&zip), "replace": true}),
        )
        .await;

    // Entries that climb out are refused through the API too.
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file("../escape.sh", zip::write::SimpleFileOptions::default())
        .unwrap();
    std::io::Write::write_all(&mut w, b"rm -rf ~").unwrap();
    let evil = w.finish().unwrap().into_inner();
    let r = said(
        alice
            .fails(
                "/api/files/import_zip",
                json!({"session": s, "zip": b64(&evil)}),
                422,
            )
            .await,
    );
    assert!(r.contains("outside the folder"), "{r}");
    let r = said(
        alice
            .fails(
                "/api/files/import_zip",
                json!({"session": s, "zip": b64(b"not a zip")}),
                422,
            )
            .await,
    );
    assert!(r.contains("not a readable zip"), "{r}");
}

#[sqlx::test(migrations = "../migrations")]
async fn uploads_are_all_or_nothing_with_errors_that_name_what_did_not_fit(pool: PgPool) {
    let app = router(pool.clone());
    let mut alice = Client::register(&app, "alice").await;
    let s = alice.session().await;
    alice.write_files(&s, &[("a.txt", "one\n")]).await;
    let before = alice.ok("/api/files/tree", json!({"session": s})).await;
    let upload = |files: serde_json::Value| json!({"session": s, "files": files});
    let kib = |n: usize| "x".repeat(n * 1024);

    // One file over the per-file limit (64 KiB here): none of them lands.
    let r = said(alice
        .fails(
            "/api/files/upload",
            upload(json!([{"path": "fine.txt", "content": "ok"}, {"path": "big.bin", "content": kib(70)}])),
            413,
        )
        .await);
    assert!(r.contains("too large: big.bin (71680 bytes)"), "{r}");
    // Paths that climb out, a folder where a file goes, a file used as a folder,
    // bad base64, the same path twice.
    for (files, status, says) in [
        (json!([{"path": "../x", "content": ""}]), 422, "not allowed"),
        (json!([{"path": "/etc/x", "content": ""}]), 422, "relative"),
        (
            json!([{"path": "a.txt/inner", "content": ""}]),
            409,
            "a.txt is a file",
        ),
        (
            json!([{"path": "x.bin", "content": "@@", "encoding": "base64"}]),
            422,
            "x.bin: not valid base64",
        ),
        (
            json!([{"path": "d.txt", "content": ""}, {"path": "d.txt", "content": ""}]),
            422,
            "more than once: d.txt",
        ),
        (json!([]), 422, "no files"),
    ] {
        let r = said(
            alice
                .fails("/api/files/upload", upload(files.clone()), status)
                .await,
        );
        assert!(r.contains(says), "{files}: {r}");
    }
    let r = said(
        alice
            .fails(
                "/api/files/upload",
                json!({"session": s, "folder": "../up", "files": [{"path": "x", "content": ""}]}),
                422,
            )
            .await,
    );
    assert!(r.contains("not allowed"), "{r}");
    // What is there is named, and replaced only when asked.
    let r = said(alice
        .fails(
            "/api/files/upload",
            upload(json!([{"path": "new.txt", "content": "n"}, {"path": "a.txt", "content": "two\n"}])),
            409,
        )
        .await);
    assert!(r.contains("already there: a.txt"), "{r}");
    let after = alice.ok("/api/files/tree", json!({"session": s})).await;
    assert_eq!(after, before, "a refused upload wrote nothing");

    let mut body =
        upload(json!([{"path": "new.txt", "content": "n"}, {"path": "a.txt", "content": "two\n"}]));
    body["replace"] = json!(true);
    alice.ok("/api/files/upload", body).await;
    let a = alice
        .ok("/api/files/read", json!({"session": s, "path": "a.txt"}))
        .await;
    assert_eq!(
        (a["content"].as_str(), a["version"].as_i64()),
        (Some("two\n"), Some(2))
    );

    // The workspace's limit (256 KiB here) counts what is there already.
    for batch in ["one", "two"] {
        let files: Vec<_> = (0..2)
            .map(|i| json!({"path": format!("{batch}/{i}.txt"), "content": kib(60)}))
            .collect();
        alice.ok("/api/files/upload", upload(json!(files))).await;
    }
    let r = said(
        alice
            .fails(
                "/api/files/upload",
                upload(json!([{"path": "three.txt", "content": kib(30)}])),
                413,
            )
            .await,
    );
    assert!(
        r.contains("the workspace may hold at most 262144 bytes"),
        "{r}"
    );
    // So does one upload's (128 KiB here).
    let files: Vec<_> = (0..3)
        .map(|i| json!({"path": format!("many/{i}.txt"), "content": kib(50)}))
        .collect();
    let r = said(
        alice
            .fails("/api/files/upload", upload(json!(files)), 413)
            .await,
    );
    assert!(r.contains("one upload may carry at most"), "{r}");
    let tree = alice.ok("/api/files/tree", json!({"session": s})).await;
    assert!(!tree.to_string().contains("three.txt") && !tree.to_string().contains("many"));
}
