//! `/api/checkpoints/*`: named snapshots of a whole workspace, their difference
//! from now, and restoring one (itself undoable: a checkpoint is made first).

use crate::wire::history::{Checkpoint, CheckpointDiff, Restored};
use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use uuid::Uuid;

#[cfg(feature = "ssr")]
use crate::{
    server::{access, checkpoints as data},
    wire::access::Capability,
};

#[server(prefix = "/api", endpoint = "checkpoints/create", input = Json)]
pub async fn create(session: Uuid, label: String) -> Result<Checkpoint, AppError> {
    let (state, g) = access::session(session, Capability::Write).await?;
    let label = data::validate_label(&label)?;
    let mut tx = state.pool.begin().await?;
    let made = data::create(&mut tx, &g, &label, false).await?;
    tx.commit().await?;
    Ok(made)
}

/// The session's checkpoints, newest first.
#[server(prefix = "/api", endpoint = "checkpoints/list", input = Json)]
pub async fn list(session: Uuid) -> Result<Vec<Checkpoint>, AppError> {
    let (state, g) = access::session(session, Capability::Read).await?;
    data::list(&state.pool, g.session_id).await
}

/// The files added, removed and changed since `checkpoint`.
#[server(prefix = "/api", endpoint = "checkpoints/diff", input = Json)]
pub async fn diff(session: Uuid, checkpoint: Uuid) -> Result<CheckpointDiff, AppError> {
    let (state, g) = access::session(session, Capability::Read).await?;
    data::diff(&state.pool, g.session_id, checkpoint).await
}

/// Makes the workspace what it was at `checkpoint`; `undo` is the checkpoint of
/// how it was just before.
#[server(prefix = "/api", endpoint = "checkpoints/restore", input = Json)]
pub async fn restore(session: Uuid, checkpoint: Uuid) -> Result<Restored, AppError> {
    let (state, g) = access::session(session, Capability::Write).await?;
    data::restore(&state, &g, checkpoint).await
}
