//! `/api/sharing/*`: who has access to a session, and with which role.

use crate::wire::access::Role;
use crate::wire::sharing::Share;
use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use uuid::Uuid;

#[cfg(feature = "ssr")]
use crate::{
    server::{access, sharing as data},
    wire::access::Capability,
};

/// Everyone with access to the session, the owner first.
#[server(prefix = "/api", endpoint = "sharing/list", input = Json)]
pub async fn list(session: Uuid) -> Result<Vec<Share>, AppError> {
    let (state, g) = access::session(session, Capability::Read).await?;
    data::list(&state.pool, g.session_id).await
}

/// Gives `user` (a username or an email) `role` on the session, or changes it:
/// owner and admins; only the owner changes an admin.
#[server(prefix = "/api", endpoint = "sharing/set", input = Json)]
pub async fn set(session: Uuid, user: String, role: Role) -> Result<Vec<Share>, AppError> {
    let (state, g) = access::session(session, Capability::Manage).await?;
    data::set(&state.pool, &g, &user, role).await
}

/// Takes `user`'s access away (owner and admins), or leaves the session (oneself).
#[server(prefix = "/api", endpoint = "sharing/remove", input = Json)]
pub async fn remove(session: Uuid, user: String) -> Result<Vec<Share>, AppError> {
    let (state, g) = access::session(session, Capability::Read).await?;
    data::remove(&state.pool, &g, &user).await
}
