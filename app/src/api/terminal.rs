//! `/api/terminal/*`: the history of commands run in a session's terminals.

use crate::wire::terminal::CommandRecord;
use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use uuid::Uuid;

/// The session's commands, newest first; `limit` defaults to 100 (at most 1000).
#[server(prefix = "/api", endpoint = "terminal/history", input = Json)]
pub async fn history(session: Uuid, limit: Option<i64>) -> Result<Vec<CommandRecord>, AppError> {
    let (state, g) =
        crate::server::access::session(session, crate::wire::access::Capability::Read).await?;
    let limit = limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(AppError::invalid("limit must be between 1 and 1000"));
    }
    crate::server::commands::list(&state.pool, g.session_id, limit).await
}
