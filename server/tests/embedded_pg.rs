//! The private PostgreSQL: created on first start, reused with its data on the next.

use server::embedded_pg::EmbeddedPostgres;
use sqlx::{ConnectOptions, Connection};
use std::os::unix::fs::PermissionsExt;

#[tokio::test]
async fn creates_starts_stops_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    // When the tests run as root, PostgreSQL runs as `postgres` and must reach it.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();

    let pg = EmbeddedPostgres::start(dir.path())
        .await
        .expect("first start");
    let mut conn = pg.connect_options().connect().await.unwrap();
    sqlx::raw_sql("CREATE TABLE kept (v TEXT); INSERT INTO kept VALUES ('still here')")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    pg.stop().await.expect("stop");

    let pg = EmbeddedPostgres::start(dir.path())
        .await
        .expect("second start");
    let mut conn = pg.connect_options().connect().await.unwrap();
    let v: String = sqlx::query_scalar("SELECT v FROM kept")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(v, "still here");
    conn.close().await.unwrap();
    pg.stop().await.expect("second stop");
    assert!(
        !dir.path().join("postgres/postmaster.pid").exists(),
        "no server left running"
    );
}
