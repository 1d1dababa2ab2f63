//! Terminal command history: every command the shell integration marked, with its
//! (capped) output and exit code.

use crate::wire::terminal::CommandRecord;
use crate::AppError;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// The session's commands, newest first.
pub async fn list(pool: &PgPool, sid: i64, limit: i64) -> Result<Vec<CommandRecord>, AppError> {
    Ok(sqlx::query_as(
        "SELECT id, command, output, output_truncated, exit_code, started_at, finished_at
         FROM terminal_commands WHERE session_id = $1
         ORDER BY started_at DESC, id DESC LIMIT $2",
    )
    .bind(sid)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// A command that ended, as the terminal saw it.
pub struct Ended<'a> {
    pub command: &'a str,
    /// Plain text (escape codes removed).
    pub output: &'a str,
    pub truncated: bool,
    pub exit_code: Option<i32>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

/// Most commands a session's history keeps; older ones go.
pub const MAX_COMMANDS: i64 = 5000;
/// The history is trimmed once every this many commands (of any session).
const TRIM_EVERY: i64 = 64;

pub async fn record(pool: &PgPool, sid: i64, c: Ended<'_>) -> Result<(), sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO terminal_commands
             (session_id, command, output, output_truncated, exit_code, started_at, finished_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(sid)
    .bind(c.command)
    // Postgres text cannot hold NUL.
    .bind(c.output.replace('\0', ""))
    .bind(c.truncated)
    .bind(c.exit_code)
    .bind(c.started_at)
    .bind(c.finished_at)
    .fetch_one(pool)
    .await?;
    if id % TRIM_EVERY == 0 {
        trim(pool, sid, MAX_COMMANDS).await?;
    }
    Ok(())
}

/// Deletes all but the newest `keep` commands of the session.
pub async fn trim(pool: &PgPool, sid: i64, keep: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "DELETE FROM terminal_commands WHERE session_id = $1 AND id <= (
             SELECT id FROM terminal_commands WHERE session_id = $1
             ORDER BY id DESC OFFSET $2 LIMIT 1)",
    )
    .bind(sid)
    .bind(keep)
    .execute(pool)
    .await?
    .rows_affected())
}
