//! `/api/runs/*`: programs run in the session's sandbox with their own input,
//! limits and measured results (one run, or a batch of test cases), the runs of a
//! session, and its run configuration. Output streams on `GET /events/run/{id}`.

use crate::wire::runs::{LimitRequest, RunConfig, RunResult, TestCase};
use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use uuid::Uuid;

#[cfg(feature = "ssr")]
use crate::{
    server::{access, runs as data},
    wire::{access::Capability, runs::RunRequest},
};

/// How long `/api/runs/execute` waits for the end at most; then it answers the
/// run as it is (status `running`), to be fetched later with `/api/runs/get`.
pub const EXECUTE_WAIT_SECS: u64 = 120;

/// Starts a run and answers at once with its id; its output streams on
/// `/events/run/{id}`. Without `stdin`, input is taken as it comes.
#[server(prefix = "/api", endpoint = "runs/start", input = Json)]
pub async fn start(
    session: Uuid,
    command: Option<String>,
    path: Option<String>,
    stdin: Option<String>,
    tests: Option<Vec<TestCase>>,
    limits: Option<LimitRequest>,
) -> Result<StartedRun, AppError> {
    let (_, id) = begin(session, command, path, stdin, tests, limits, true).await?;
    Ok(StartedRun { id })
}

/// Starts a run for the caller, who must be allowed to run in `session`.
#[cfg(feature = "ssr")]
async fn begin(
    session: Uuid,
    command: Option<String>,
    path: Option<String>,
    stdin: Option<String>,
    tests: Option<Vec<TestCase>>,
    limits: Option<LimitRequest>,
    interactive: bool,
) -> Result<(crate::server::state::AppState, Uuid), AppError> {
    let (state, g) = access::session(session, Capability::Run).await?;
    let request = RunRequest {
        session,
        command,
        path,
        stdin,
        tests,
        limits,
    };
    let by = data::RunBy {
        session: g.session,
        session_id: g.session_id,
        owner_id: g.owner_id,
        language: g.language,
        user_id: g.login.id,
        username: g.login.user.username,
    };
    let id = state.runs.start(by, request, interactive).await?;
    Ok((state, id))
}

/// The id of a run just started.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StartedRun {
    pub id: Uuid,
}

/// Runs and waits for the result (input is `stdin`, or none).
#[server(prefix = "/api", endpoint = "runs/execute", input = Json)]
pub async fn execute(
    session: Uuid,
    command: Option<String>,
    path: Option<String>,
    stdin: Option<String>,
    tests: Option<Vec<TestCase>>,
    limits: Option<LimitRequest>,
) -> Result<RunResult, AppError> {
    let (state, id) = begin(session, command, path, stdin, tests, limits, false).await?;
    let within = std::time::Duration::from_secs(EXECUTE_WAIT_SECS);
    match state.runs.wait(id, within).await? {
        Some(result) => Ok(result),
        None => data::get(&state.pool, id).await,
    }
}

/// A run, finished or not.
#[server(prefix = "/api", endpoint = "runs/get", input = Json)]
pub async fn get(id: Uuid) -> Result<RunResult, AppError> {
    let (state, _) = access::run(id, Capability::Read).await?;
    data::get(&state.pool, id).await
}

/// The session's runs, newest first; `limit` defaults to 50 (at most 500).
#[server(prefix = "/api", endpoint = "runs/list", input = Json)]
pub async fn list(session: Uuid, limit: Option<i64>) -> Result<Vec<RunResult>, AppError> {
    let (state, g) = access::session(session, Capability::Read).await?;
    let limit = limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(AppError::invalid("limit must be between 1 and 500"));
    }
    data::list(&state.pool, g.session_id, limit).await
}

/// Input for a running program; `eof` ends its input after `data`.
#[server(prefix = "/api", endpoint = "runs/input", input = Json)]
pub async fn input(id: Uuid, data: String, eof: Option<bool>) -> Result<(), AppError> {
    let (state, _) = access::run(id, Capability::Run).await?;
    state.runs.input(id, data, eof.unwrap_or(false)).await
}

/// Stops a run: it ends as `cancelled`.
#[server(prefix = "/api", endpoint = "runs/cancel", input = Json)]
pub async fn cancel(id: Uuid) -> Result<(), AppError> {
    let (state, _) = access::run(id, Capability::Run).await?;
    state.runs.cancel(id).await
}

/// The session's run configuration; with `set`, replaces it first (an admin's
/// or editor's change; `reset` goes back to the defaults).
#[server(prefix = "/api", endpoint = "runs/config", input = Json)]
pub async fn config(
    session: Uuid,
    set: Option<RunConfig>,
    reset: Option<bool>,
) -> Result<RunConfig, AppError> {
    let changing = set.is_some() || reset == Some(true);
    let need = if changing {
        Capability::Run
    } else {
        Capability::Read
    };
    let (state, g) = access::session(session, need).await?;
    if reset == Some(true) {
        data::set_config(&state.pool, g.session_id, g.login.id, &RunConfig::default()).await?;
    } else if let Some(c) = set {
        data::set_config(&state.pool, g.session_id, g.login.id, &c).await?;
    }
    data::config(&state.pool, g.session_id).await
}
