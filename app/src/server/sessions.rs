//! Sessions' rows: made, listed for a user with their role, renamed, deleted.
//! Callers hold a grant (or a login, for a user's own list and new sessions).

use super::access;
use super::templates::{self, Origin};
use crate::wire::sessions::{CodeSession, Language, Scope, SessionFilter, Sort};
use crate::AppError;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

/// A session as user `$1` sees it: joined through the access model's roles.
const SELECT: &str = "SELECT s.uuid, s.name, s.language, s.created_at, s.last_accessed_at,
        r.role, o.username AS owner, s.is_template, s.description, s.tags,
        (SELECT count(*) FROM code_sessions f WHERE f.forked_from = s.id) AS forks
    FROM code_sessions s
    JOIN session_roles r ON r.session_id = s.id AND r.user_id = $1
    JOIN users o ON o.id = s.user_id";

/// The sessions `user` has a role on that `filter` keeps, in its order (most
/// recently used first by default).
pub async fn list(
    pool: &PgPool,
    user: i64,
    filter: &SessionFilter,
) -> Result<Vec<CodeSession>, AppError> {
    let order = match filter.sort.unwrap_or(Sort::Recent) {
        Sort::Recent => "s.last_accessed_at DESC, s.id DESC",
        Sort::Name => "lower(s.name), s.id",
        Sort::Created => "s.created_at DESC, s.id DESC",
    };
    let pattern = format!("%{}%", super::search::like_escape(filter.query.trim()));
    Ok(sqlx::query_as(&format!(
        "{SELECT}
         WHERE ($2 = '%%' OR s.name ILIKE $2 OR s.description ILIKE $2
                OR EXISTS (SELECT 1 FROM unnest(s.tags) t WHERE t ILIKE $2))
           AND ($3::text IS NULL OR s.language = $3)
           AND ($4::text IS NULL OR $4 = ANY (s.tags))
           AND ($5 = 'all' OR ($5 = 'owned') = (r.role = 'owner'))
         ORDER BY {order}"
    ))
    .bind(user)
    .bind(pattern)
    .bind(filter.language)
    .bind(
        filter
            .tag
            .as_deref()
            .map(|t| t.trim().trim_start_matches('#').to_lowercase()),
    )
    .bind(filter.scope.unwrap_or(Scope::All).id())
    .fetch_all(pool)
    .await?)
}

/// Sets the session's description and tags (checked already).
pub async fn describe(
    pool: &PgPool,
    id: i64,
    description: &str,
    tags: &[String],
) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE code_sessions SET description = $2, tags = $3, updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(description)
    .bind(tags)
    .execute(pool)
    .await?;
    Ok(())
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

/// How many sessions were forked from session `id`.
pub async fn forks(pool: &PgPool, id: i64) -> Result<i64, AppError> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM code_sessions WHERE forked_from = $1")
            .bind(id)
            .fetch_one(pool)
            .await?,
    )
}

/// Marks the session as the most recently used.
/// Records that the session was opened, when that changes something: it is not
/// already its owner's most recent session, or was last opened over a minute
/// ago. Reloading a page writes nothing.
pub async fn touch(pool: &PgPool, id: i64) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE code_sessions s SET last_accessed_at = now()
         WHERE s.id = $1 AND (s.last_accessed_at < now() - interval '1 minute'
             OR s.last_accessed_at < (SELECT max(o.last_accessed_at) FROM code_sessions o
                                      WHERE o.user_id = s.user_id))",
    )
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

/// A new session owned by `owner`, filled from `origin`.
pub async fn create(
    tx: &mut Transaction<'_, Postgres>,
    owner: i64,
    name: &str,
    language: Language,
    origin: &Origin,
    max_owned: i64,
) -> Result<CodeSession, AppError> {
    // The owner's row, locked: two creates at once cannot both take the last place.
    let owned: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM code_sessions WHERE user_id = u.id)
         FROM users u WHERE u.id = $1 FOR UPDATE",
    )
    .bind(owner)
    .fetch_one(&mut **tx)
    .await?;
    if owned >= max_owned {
        return Err(AppError::too_many(format!(
            "you own {owned} sessions, the most one account may have: delete one first"
        )));
    }
    let uuid = Uuid::new_v4();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO code_sessions (uuid, user_id, name, language, forked_from)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(uuid)
    .bind(owner)
    .bind(name)
    .bind(language)
    .bind(origin.forked_from())
    .fetch_one(&mut **tx)
    .await?;
    templates::fill(tx, origin, id, uuid, language, owner).await?;
    Ok(sqlx::query_as(&format!("{SELECT} WHERE s.id = $2"))
        .bind(owner)
        .bind(id)
        .fetch_one(&mut **tx)
        .await?)
}

/// A copy of session `from` (its current files) owned by `owner`.
pub async fn fork(
    pool: &PgPool,
    owner: i64,
    from: i64,
    name: &str,
    language: Language,
    max_owned: i64,
) -> Result<CodeSession, AppError> {
    let mut tx = pool.begin().await?;
    let forked = create(
        &mut tx,
        owner,
        name,
        language,
        &Origin::Fork(from),
        max_owned,
    )
    .await?;
    tx.commit().await?;
    Ok(forked)
}

/// Marks the session as a template of its owner's, or unmarks it.
pub async fn set_template(pool: &PgPool, id: i64, is_template: bool) -> Result<(), AppError> {
    sqlx::query("UPDATE code_sessions SET is_template = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(is_template)
        .execute(pool)
        .await?;
    Ok(())
}
