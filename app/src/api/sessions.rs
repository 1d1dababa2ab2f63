//! `/api/sessions/*`: coding sessions, each one workspace with its own URL
//! `/s/{uuid}`. A session the caller has no role on answers 404, exactly like
//! one that does not exist.

use crate::wire::sessions::{CodeSession, Language, Scope, Sort, Template};
use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use uuid::Uuid;

#[cfg(feature = "ssr")]
use crate::{
    server::{access, sessions as data, templates},
    wire::{
        access::Capability,
        sessions::{validate_name, SessionFilter},
    },
};

/// The sessions the caller owns or that are shared with them, most recently used
/// first; each argument, when given, narrows or orders the list (words in the
/// name, description or tags; a language; a tag; owned or shared; the order).
#[server(prefix = "/api", endpoint = "sessions/list", input = Json)]
pub async fn list_sessions(
    query: Option<String>,
    language: Option<Language>,
    tag: Option<String>,
    scope: Option<Scope>,
    sort: Option<Sort>,
) -> Result<Vec<CodeSession>, AppError> {
    let (state, me) = access::caller().await?;
    let filter = SessionFilter {
        query: query.unwrap_or_default(),
        language,
        tag,
        scope,
        sort,
    };
    data::list(&state.pool, me.id, &filter).await
}

/// Sets a session's description and tags (owner and admins).
#[server(prefix = "/api", endpoint = "sessions/describe", input = Json)]
pub async fn describe_session(
    session: Uuid,
    description: String,
    tags: Vec<String>,
) -> Result<CodeSession, AppError> {
    let (state, g) = access::session(session, Capability::Manage).await?;
    let (description, tags) = crate::wire::sessions::validate_details(&description, &tags)?;
    data::describe(&state.pool, g.session_id, &description, &tags).await?;
    data::get(&state.pool, g.session_id, g.login.id).await
}

/// Creates a session of the caller's: from `template` (a starter's id, or one
/// of the caller's sessions marked as a template, from `templates/list`), else
/// with a starter file for its language (the template's when not given).
#[server(prefix = "/api", endpoint = "sessions/create", input = Json)]
pub async fn create_session(
    name: String,
    language: Option<Language>,
    template: Option<String>,
) -> Result<CodeSession, AppError> {
    let (state, me) = access::caller().await?;
    let name = validate_name(&name)?;
    let origin = templates::origin(&state, template.as_deref()).await?;
    let language = match language {
        Some(l) => l,
        None => templates::language(&state.pool, &origin).await?,
    };
    let mut tx = state.pool.begin().await?;
    let max = state.settings.max_sessions_per_user;
    let session = data::create(&mut tx, me.id, &name, language, &origin, max).await?;
    tx.commit().await?;
    Ok(session)
}

/// What a new session can start from: the starter projects, then the caller's
/// own sessions marked as templates.
#[server(prefix = "/api", endpoint = "templates/list", input = Json)]
pub async fn list_templates() -> Result<Vec<Template>, AppError> {
    let (state, me) = access::caller().await?;
    templates::list(&state.pool, me.id).await
}

/// Forks a session the caller may read (as a collaborator: `session`; as the
/// holder of a public link: `token`) into a new session of the caller's, with
/// its current files. Signing in is needed either way.
#[server(prefix = "/api", endpoint = "sessions/fork", input = Json)]
pub async fn fork_session(
    session: Option<Uuid>,
    token: Option<String>,
    name: Option<String>,
) -> Result<CodeSession, AppError> {
    let (state, me) = access::caller().await?;
    let (from, old_name, language) = match (token, session) {
        (Some(token), _) => {
            let l = access::link(&state.pool, &token, false).await?;
            if session.is_some_and(|s| s != l.session) {
                return Err(access::no_such_link());
            }
            (l.session_id, l.name, l.language)
        }
        (None, Some(s)) => {
            let (_, g) = access::session(s, Capability::Read).await?;
            let s = data::get(&state.pool, g.session_id, me.id).await?;
            (g.session_id, s.name, g.language)
        }
        (None, None) => {
            return Err(AppError::invalid(
                "a fork needs a session or a link's token",
            ))
        }
    };
    let name = match name {
        Some(n) => validate_name(&n)?,
        None => fork_name(&old_name),
    };
    let max = state.settings.max_sessions_per_user;
    data::fork(&state.pool, me.id, from, &name, language, max).await
}

/// Marks the session as a template (offered to its owner when creating a
/// session), or unmarks it: owner and admins.
#[server(prefix = "/api", endpoint = "sessions/set_template", input = Json)]
pub async fn set_template(session: Uuid, is_template: bool) -> Result<CodeSession, AppError> {
    let (state, g) = access::session(session, Capability::Manage).await?;
    data::set_template(&state.pool, g.session_id, is_template).await?;
    data::get(&state.pool, g.session_id, g.login.id).await
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

/// "Copy of NAME", within a name's length.
pub fn fork_name(name: &str) -> String {
    let name: String = name.chars().take(92).collect();
    format!("Copy of {name}")
}
