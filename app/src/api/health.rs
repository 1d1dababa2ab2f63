//! `/api/health/info`: what the page shows once hydrated, and a cheap probe for clients.

use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerInfo {
    pub version: String,
    pub database_ok: bool,
}

#[server(prefix = "/api", endpoint = "health/info", input = GetUrl)]
pub async fn health_info() -> Result<ServerInfo, AppError> {
    let state = crate::server::state::AppState::current()?;
    Ok(ServerInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        database_ok: ssr::database_ok(&state.pool).await,
    })
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use sqlx::PgPool;

    /// True when the database answers a trivial query.
    pub async fn database_ok(pool: &PgPool) -> bool {
        sqlx::query("SELECT 1").execute(pool).await.is_ok()
    }
}
