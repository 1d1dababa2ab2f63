//! `/api/sessions/*`: coding sessions, each one workspace with its own URL
//! `/s/{uuid}`. A session the caller has no role on answers 404, exactly like
//! one that does not exist.

use crate::wire::sessions::{CodeSession, Language};
use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use uuid::Uuid;

#[cfg(feature = "ssr")]
use crate::{
    server::{access, sessions as data},
    wire::{access::Capability, sessions::validate_name},
};

/// The sessions the caller owns or that are shared with them, most recently used first.
#[server(prefix = "/api", endpoint = "sessions/list", input = Json)]
pub async fn list_sessions() -> Result<Vec<CodeSession>, AppError> {
    let (state, me) = access::caller().await?;
    data::list(&state.pool, me.id).await
}

/// Creates a session of the caller's with a starter file for its language.
#[server(prefix = "/api", endpoint = "sessions/create", input = Json)]
pub async fn create_session(
    name: String,
    language: Option<Language>,
) -> Result<CodeSession, AppError> {
    let (state, me) = access::caller().await?;
    let name = validate_name(&name)?;
    let mut tx = state.pool.begin().await?;
    let session = data::create(&mut tx, me.id, &name, language.unwrap_or_default()).await?;
    tx.commit().await?;
    Ok(session)
}

/// Opens a session: returns it and marks it as the most recently used.
#[server(prefix = "/api", endpoint = "sessions/open", input = Json)]
pub async fn open_session(session: Uuid) -> Result<CodeSession, AppError> {
    let (state, g) = access::session(session, Capability::Read).await?;
    data::touch(&state.pool, g.session_id).await?;
    data::get(&state.pool, g.session_id, g.login.id).await
}

/// Renames a session (owner and admins).
#[server(prefix = "/api", endpoint = "sessions/rename", input = Json)]
pub async fn rename_session(session: Uuid, name: String) -> Result<CodeSession, AppError> {
    let (state, g) = access::session(session, Capability::Manage).await?;
    let name = validate_name(&name)?;
    data::rename(&state.pool, g.session_id, &name).await?;
    data::get(&state.pool, g.session_id, g.login.id).await
}

/// Deletes a session with its files and history (the owner alone).
#[server(prefix = "/api", endpoint = "sessions/delete", input = Json)]
pub async fn delete_session(session: Uuid) -> Result<(), AppError> {
    let (state, g) = access::session(session, Capability::Delete).await?;
    data::delete(&state.pool, g.session_id, session).await?;
    let change = crate::server::state::FileChange::SessionDeleted;
    state.hooks.changed(session, change).await;
    Ok(())
}
