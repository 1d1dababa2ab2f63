//! `/api/links/*`: public read-only links to a session, made, listed and
//! revoked by its owner and admins; and `/api/public/*`: what a link's holder
//! reads with it, without signing in.

use crate::wire::files::FileContent;
use crate::wire::links::{CreatedLink, Link, PublicSession};
use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use uuid::Uuid;

#[cfg(feature = "ssr")]
use crate::{
    server::{access, files, links as data},
    wire::access::Capability,
};

/// A new link to the session; its token is in this answer only.
#[server(prefix = "/api", endpoint = "links/create", input = Json)]
pub async fn create(session: Uuid, expires_in_secs: Option<i64>) -> Result<CreatedLink, AppError> {
    let (state, g) = access::session(session, Capability::Manage).await?;
    data::create(&state, &g, expires_in_secs).await
}

/// The session's links (not revoked), with their views.
#[server(prefix = "/api", endpoint = "links/list", input = Json)]
pub async fn list(session: Uuid) -> Result<Vec<Link>, AppError> {
    let (state, g) = access::session(session, Capability::Manage).await?;
    data::list(&state.pool, g.session_id).await
}

/// Revokes link `id`: it answers 404 from now on.
#[server(prefix = "/api", endpoint = "links/revoke", input = Json)]
pub async fn revoke(session: Uuid, id: Uuid) -> Result<(), AppError> {
    let (state, g) = access::session(session, Capability::Manage).await?;
    data::revoke(&state.pool, g.session_id, id).await
}

/// The linked session's name, owner and tree; counts a view of the link.
#[server(prefix = "/api", endpoint = "public/tree", input = Json)]
pub async fn tree(token: String) -> Result<PublicSession, AppError> {
    let state = crate::server::state::AppState::current()?;
    let l = access::link(&state.pool, &token, true).await?;
    let forks = crate::server::sessions::forks(&state.pool, l.session_id).await?;
    Ok(PublicSession {
        tree: files::tree(&state.pool, l.session_id).await?,
        name: l.name,
        owner: l.owner,
        language: l.language,
        forks,
    })
}

/// A file of the linked session, as it is now.
#[server(prefix = "/api", endpoint = "public/read", input = Json)]
pub async fn read(token: String, path: String) -> Result<FileContent, AppError> {
    let state = crate::server::state::AppState::current()?;
    let l = access::link(&state.pool, &token, false).await?;
    files::read(&state, l.session_id, &path).await
}
