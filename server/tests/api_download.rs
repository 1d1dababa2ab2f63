//! Downloads: a session or a folder as a zip, streamed, with the access check.

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
fn entries(zip: &[u8]) -> Vec<(String, Option<String>)> {
    let mut a = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    (0..a.len())
        .map(|i| {
            let mut f = a.by_index(i).unwrap();
            let name = f.name().unwrap().to_string();
            if f.is_dir() {
                (name, None)
            } else {
                let mut s = String::new();
                f.read_to_string(&mut s).unwrap();
                (name, Some(s))
            }
        })
        .collect()
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
    let want: Vec<(String, Option<String>)> = vec![
        ("empty/".into(), None),
        ("main.py".into(), Some("print(\"Hello, world!\")\n".into())),
        ("src/".into(), None),
        ("src/app/".into(), None),
        ("src/app/main.rs".into(), Some("fn main() {}\n".into())),
        ("src/big.txt".into(), Some(big.clone())),
        ("ünï.txt".into(), Some("é\n".into())),
    ];
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
