//! The data model's integrity rules hold in the database itself.

use sqlx::PgPool;

async fn user(pool: &PgPool, name: &str) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO users (username, email, password_hash) VALUES ($1, $1 || '@example.com', 'x')
         RETURNING id",
    )
    .bind(name)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn session(pool: &PgPool, user_id: i64) -> (i64, uuid::Uuid) {
    let uuid = uuid::Uuid::new_v4();
    let id = sqlx::query_scalar(
        "INSERT INTO code_sessions (uuid, user_id, name) VALUES ($1, $2, 's') RETURNING id",
    )
    .bind(uuid)
    .bind(user_id)
    .fetch_one(pool)
    .await
    .unwrap();
    (id, uuid)
}

async fn item(
    pool: &PgPool,
    (session_id, uuid): (i64, uuid::Uuid),
    parent: Option<i64>,
    path: &str,
    kind: &str,
) -> Result<i64, sqlx::Error> {
    let name = path.rsplit('/').next().unwrap();
    let (content, hash) = if kind == "file" {
        (Some(""), Some("0".repeat(64)))
    } else {
        (None, None)
    };
    sqlx::query_scalar(
        "INSERT INTO workspace_items
            (session_id, session_uuid, parent_id, name, kind, content, content_hash, full_path)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(session_id)
    .bind(uuid)
    .bind(parent)
    .bind(name)
    .bind(kind)
    .bind(content)
    .bind(hash)
    .bind(path)
    .fetch_one(pool)
    .await
}

fn constraint(e: sqlx::Error) -> String {
    e.as_database_error()
        .and_then(|d| d.constraint().map(str::to_owned))
        .unwrap_or_else(|| panic!("not a constraint violation: {e}"))
}

#[sqlx::test(migrations = "../migrations")]
async fn usernames_and_emails_are_unique_ignoring_case(pool: PgPool) {
    user(&pool, "alice").await;
    let err = sqlx::query(
        "INSERT INTO users (username, email, password_hash) VALUES ('ALICE', 'other@x.org', 'x')",
    )
    .execute(&pool)
    .await
    .unwrap_err();
    assert_eq!(constraint(err), "users_username_key");
}

#[sqlx::test(migrations = "../migrations")]
async fn reviewer_level_matches_the_flag(pool: PgPool) {
    let id = user(&pool, "bob").await;
    let err = sqlx::query("UPDATE users SET reviewer_level = 2 WHERE id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap_err();
    assert_eq!(constraint(err), "users_reviewer_flag_check");
    sqlx::query("UPDATE users SET reviewer_level = 2, is_reviewer = true WHERE id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn names_are_unique_per_folder_including_the_root(pool: PgPool) {
    let s = session(&pool, user(&pool, "carol").await).await;
    item(&pool, s, None, "a.py", "file").await.unwrap();
    let err = item(&pool, s, None, "a.py", "folder").await.unwrap_err();
    assert!(matches!(
        constraint(err).as_str(),
        "workspace_items_name_key" | "workspace_items_path_key"
    ));
    let src = item(&pool, s, None, "src", "folder").await.unwrap();
    item(&pool, s, Some(src), "src/a.py", "file").await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn folders_have_no_content_and_files_have_a_hash(pool: PgPool) {
    let (sid, uuid) = session(&pool, user(&pool, "dan").await).await;
    let err = sqlx::query(
        "INSERT INTO workspace_items (session_id, session_uuid, name, kind, content, full_path)
         VALUES ($1, $2, 'd', 'folder', 'text', 'd')",
    )
    .bind(sid)
    .bind(uuid)
    .execute(&pool)
    .await
    .unwrap_err();
    assert_eq!(constraint(err), "workspace_items_content_check");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_denormalised_uuid_must_match_the_session(pool: PgPool) {
    let (sid, _) = session(&pool, user(&pool, "erin").await).await;
    let err = item(&pool, (sid, uuid::Uuid::new_v4()), None, "x", "file")
        .await
        .unwrap_err();
    assert_eq!(constraint(err), "workspace_items_session_fkey");
}

#[sqlx::test(migrations = "../migrations")]
async fn deleting_a_user_cascades_to_everything_they_own(pool: PgPool) {
    let uid = user(&pool, "frank").await;
    let s = session(&pool, uid).await;
    let dir = item(&pool, s, None, "src", "folder").await.unwrap();
    item(&pool, s, Some(dir), "src/main.py", "file")
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO terminal_commands (session_id, command, exit_code) VALUES ($1, 'ls', 0)",
    )
    .bind(s.0)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(uid)
        .execute(&pool)
        .await
        .unwrap();
    let left: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM code_sessions) + (SELECT count(*) FROM workspace_items)
              + (SELECT count(*) FROM terminal_commands)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(left, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn terminal_success_follows_the_exit_code(pool: PgPool) {
    let s = session(&pool, user(&pool, "gina").await).await;
    let ok: bool = sqlx::query_scalar(
        "INSERT INTO terminal_commands (session_id, command, exit_code) VALUES ($1, 'false', 1)
         RETURNING success",
    )
    .bind(s.0)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(!ok);
}
