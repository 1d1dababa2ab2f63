//! `/api/history/*`: a file's versions, reading and restoring one, and what was
//! deleted, brought back with its history.

use crate::wire::files::{Saved, TreeItem};
use crate::wire::history::{DeletedItem, PrunedVersions, Version, VersionContent};
use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use uuid::Uuid;

#[cfg(feature = "ssr")]
use crate::{
    server::{access, history as data},
    wire::access::Capability,
};

/// The versions of the file at `path`, newest first (its creation last).
#[server(prefix = "/api", endpoint = "history/list", input = Json)]
pub async fn list(session: Uuid, path: String) -> Result<Vec<Version>, AppError> {
    let (state, g) = access::session(session, Capability::Read).await?;
    Ok(data::list(&state.pool, g.session_id, &path).await?.versions)
}

/// What the retention sweep dropped of the file at `path`.
#[server(prefix = "/api", endpoint = "history/pruned", input = Json)]
pub async fn pruned(session: Uuid, path: String) -> Result<Vec<PrunedVersions>, AppError> {
    let (state, g) = access::session(session, Capability::Read).await?;
    Ok(data::list(&state.pool, g.session_id, &path).await?.pruned)
}

#[server(prefix = "/api", endpoint = "history/read", input = Json)]
pub async fn read(session: Uuid, path: String, version: i32) -> Result<VersionContent, AppError> {
    let (state, g) = access::session(session, Capability::Read).await?;
    data::read(&state.pool, g.session_id, &path, version).await
}

/// Makes `version` the current content, as a new version: 409 when the file is
/// no longer at `base_hash`.
#[server(prefix = "/api", endpoint = "history/restore", input = Json)]
pub async fn restore(
    session: Uuid,
    path: String,
    version: i32,
    base_hash: String,
) -> Result<Saved, AppError> {
    let (state, g) = access::session(session, Capability::Write).await?;
    data::restore(&state, &g, &path, version, &base_hash).await
}

/// What was deleted, newest first; files inside a deleted folder are listed too.
#[server(prefix = "/api", endpoint = "history/deleted", input = Json)]
pub async fn deleted(session: Uuid) -> Result<Vec<DeletedItem>, AppError> {
    let (state, g) = access::session(session, Capability::Read).await?;
    data::deleted(&state.pool, g.session_id).await
}

/// Brings back the deleted `path` (a folder with its contents) with its history,
/// at `path` or `to`: 409 if that path is taken.
#[server(prefix = "/api", endpoint = "history/undelete", input = Json)]
pub async fn undelete(
    session: Uuid,
    path: String,
    to: Option<String>,
) -> Result<Vec<TreeItem>, AppError> {
    let (state, g) = access::session(session, Capability::Write).await?;
    data::undelete(&state, &g, &path, to.as_deref()).await
}
