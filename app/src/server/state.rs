//! Server-side state shared by the axum router and the server functions.

use crate::AppError;
use axum::extract::FromRef;
use leptos::prelude::{use_context, LeptosOptions};
use sqlx::PgPool;
use std::{future::Future, pin::Pin, sync::Arc};
use uuid::Uuid;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub pool: PgPool,
    pub leptos_options: LeptosOptions,
    pub settings: Settings,
    pub hooks: Arc<dyn WorkspaceHooks>,
    /// Executes runs in the sandboxes.
    pub runs: Arc<dyn RunHooks>,
    /// Recent file contents, the dictionaries of the next saves' deltas.
    pub contents: super::blobs::Contents,
}

/// The part of the server's configuration the API obeys.
#[derive(Debug, Clone)]
pub struct Settings {
    pub max_file_bytes: usize,
    pub max_workspace_bytes: usize,
    /// Most bytes of files one upload (or zip archive) may carry.
    pub max_upload_bytes: usize,
    /// Mark login cookies `Secure` (when served over HTTPS).
    pub secure_cookies: bool,
    /// Longest a public link may live.
    pub max_link_secs: i64,
    /// Proxies whose `X-Forwarded-For` tells the client's address.
    pub trusted_proxies: Vec<super::client_addr::Cidr>,
    /// Accounts, and guests, one address may make an hour.
    pub signups_per_hour: i64,
    /// Sessions one account may own.
    pub max_sessions_per_user: i64,
    /// The sign-in providers (GitHub, Google, OpenID Connect issuers).
    pub providers: std::sync::Arc<super::providers::Providers>,
    /// The assistant's keys, models and answers in flight.
    pub assistant: std::sync::Arc<super::assistant::Assistant>,
}

/// A change the API made to a session's files, once committed.
#[derive(Debug, Clone)]
pub enum FileChange {
    Written {
        path: String,
        bytes: Vec<u8>,
        hash: String,
    },
    Folder {
        path: String,
    },
    Moved {
        from: String,
        to: String,
    },
    Deleted {
        path: String,
    },
    SessionDeleted,
}

/// What the server does after the API changed a workspace: mirror it into the
/// session's sandbox and tell the pages that have it open.
pub trait WorkspaceHooks: Send + Sync {
    fn changed(
        &self,
        session: Uuid,
        change: FileChange,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

type Boxed<'a, T> = Pin<Box<dyn Future<Output = Result<T, AppError>> + Send + 'a>>;

/// What the server does for the runs API: start a run in the session's sandbox,
/// feed it input, stop it, wait for it. The grant has been checked.
pub trait RunHooks: Send + Sync {
    /// Starts a run; `interactive` keeps its input open when none was given.
    fn start(
        &self,
        by: super::runs::RunBy,
        request: crate::wire::runs::RunRequest,
        interactive: bool,
    ) -> Boxed<'_, Uuid>;
    /// Input for a running program; `eof` closes its input after.
    fn input(&self, run: Uuid, data: String, eof: bool) -> Boxed<'_, ()>;
    fn cancel(&self, run: Uuid) -> Boxed<'_, ()>;
    /// Returns once the run has ended (with its result, if it ended while
    /// waited for), or `within` has passed.
    fn wait(
        &self,
        run: Uuid,
        within: std::time::Duration,
    ) -> Boxed<'_, Option<crate::wire::runs::RunResult>>;
}

impl AppState {
    /// The state, from the context the server provides to every server function.
    pub fn current() -> Result<Self, AppError> {
        use_context::<Self>().ok_or_else(|| AppError::internal("AppState missing from context"))
    }
}
