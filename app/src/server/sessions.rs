//! Sessions' rows: made, listed for a user with their role, renamed, deleted.
//! Callers hold a grant (or a login, for a user's own list and new sessions).

use super::{access, files};
use crate::wire::history::Source;
use crate::wire::sessions::{CodeSession, Language};
use crate::AppError;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

/// A session as user `$1` sees it: joined through the access model's roles.
const SELECT: &str = "SELECT s.uuid, s.name, s.language, s.created_at, s.last_accessed_at,
        r.role, o.username AS owner
    FROM code_sessions s
    JOIN session_roles r ON r.session_id = s.id AND r.user_id = $1
    JOIN users o ON o.id = s.user_id";

/// Every session `user` has a role on, most recently used first.
pub async fn list(pool: &PgPool, user: i64) -> Result<Vec<CodeSession>, AppError> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} ORDER BY s.last_accessed_at DESC, s.id DESC"
    ))
    .bind(user)
    .fetch_all(pool)
    .await?)
}

/// Session `id` as `user` sees it.
pub async fn get(pool: &PgPool, id: i64, user: i64) -> Result<CodeSession, AppError> {
    sqlx::query_as(&format!("{SELECT} WHERE s.id = $2"))
        .bind(user)
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or_else(access::no_such_session)
}

/// Marks the session as the most recently used.
pub async fn touch(pool: &PgPool, id: i64) -> Result<(), AppError> {
    sqlx::query("UPDATE code_sessions SET last_accessed_at = now() WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn rename(pool: &PgPool, id: i64, name: &str) -> Result<(), AppError> {
    sqlx::query("UPDATE code_sessions SET name = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(name)
        .execute(pool)
        .await?;
    Ok(())
}

/// Deletes the session with everything of it; its sockets close.
pub async fn delete(pool: &PgPool, id: i64, uuid: Uuid) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query("DELETE FROM code_sessions WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(access::no_such_session());
    }
    access::announce(&mut *tx, &access::Change::Session(uuid)).await?;
    tx.commit().await?;
    Ok(())
}

/// A new session owned by `owner`, with its language's starter file.
pub async fn create(
    tx: &mut Transaction<'_, Postgres>,
    owner: i64,
    name: &str,
    language: Language,
) -> Result<CodeSession, AppError> {
    let uuid = Uuid::new_v4();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO code_sessions (uuid, user_id, name, language) VALUES ($1, $2, $3, $4)
         RETURNING id",
    )
    .bind(uuid)
    .bind(owner)
    .bind(name)
    .bind(language)
    .fetch_one(&mut **tx)
    .await?;
    let (file, content) = language.starter();
    let w = files::Writer {
        by: Some(owner),
        source: Source::Template,
    };
    files::insert_file(tx, id, uuid, None, file, content, w, None).await?;
    Ok(sqlx::query_as(&format!("{SELECT} WHERE s.id = $2"))
        .bind(owner)
        .bind(id)
        .fetch_one(&mut **tx)
        .await?)
}
