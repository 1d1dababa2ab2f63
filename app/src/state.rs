//! Server-side state shared by the axum router and the server functions.

use crate::AppError;
use axum::extract::FromRef;
use leptos::prelude::{use_context, LeptosOptions};
use sqlx::PgPool;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub pool: PgPool,
    pub leptos_options: LeptosOptions,
    pub settings: Settings,
}

/// The part of the server's configuration the API obeys.
#[derive(Debug, Clone)]
pub struct Settings {
    pub max_file_bytes: usize,
    pub max_workspace_bytes: usize,
    /// Mark login cookies `Secure` (when served over HTTPS).
    pub secure_cookies: bool,
}

impl AppState {
    /// The state, from the context the server provides to every server function.
    pub fn current() -> Result<Self, AppError> {
        use_context::<Self>().ok_or_else(|| AppError::internal("AppState missing from context"))
    }
}
