//! Terminal history: every command run in a session's terminals, as the shell
//! integration marked it, with its (capped) output and exit code.

use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct CommandRecord {
    pub id: i64,
    pub command: String,
    pub output: String,
    pub output_truncated: bool,
    pub exit_code: Option<i32>,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The session's commands, newest first; `limit` defaults to 100 (at most 1000).
#[server(prefix = "/api", endpoint = "terminal/history", input = Json)]
pub async fn history(session: Uuid, limit: Option<i64>) -> Result<Vec<CommandRecord>, AppError> {
    let (state, sid) = crate::api::files::ssr::session(session).await?;
    let limit = limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(AppError::invalid("limit must be between 1 and 1000"));
    }
    Ok(sqlx::query_as(
        "SELECT id, command, output, output_truncated, exit_code, started_at, finished_at
         FROM terminal_commands WHERE session_id = $1
         ORDER BY started_at DESC, id DESC LIMIT $2",
    )
    .bind(sid)
    .bind(limit)
    .fetch_all(&state.pool)
    .await?)
}
