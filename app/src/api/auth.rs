//! `/api/auth/*`: accounts and login cookies.

use crate::wire::auth::{GuestStart, User};
use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// Creates an account and signs in. A signed-in guest who registers keeps their sessions.
#[server(prefix = "/api", endpoint = "auth/register", input = Json)]
pub async fn register(username: String, email: String, password: String) -> Result<User, AppError> {
    crate::server::auth::register(username, email, password).await
}

/// Signs in by username or email.
#[server(prefix = "/api", endpoint = "auth/login", input = Json)]
pub async fn login(login: String, password: String) -> Result<User, AppError> {
    crate::server::auth::login(login, password).await
}

/// Ends this login; its open terminals and event streams close.
#[server(prefix = "/api", endpoint = "auth/logout", input = Json)]
pub async fn logout() -> Result<(), AppError> {
    crate::server::auth::logout().await
}

/// Ends every login of the caller, on every device, this one included; their
/// open terminals and event streams close. How many logins ended.
#[server(prefix = "/api", endpoint = "auth/logout_everywhere", input = Json)]
pub async fn logout_everywhere() -> Result<usize, AppError> {
    let (state, me) = crate::server::access::caller().await?;
    crate::server::auth::logout_everywhere(&state, &me).await
}

/// The signed-in user, or `null`.
#[server(prefix = "/api", endpoint = "auth/me", input = Json)]
pub async fn me() -> Result<Option<User>, AppError> {
    let (_, login) = crate::server::access::caller_if_any().await?;
    Ok(login.map(|l| l.user))
}

/// Starts a guest account with one session, signed in at once.
#[server(prefix = "/api", endpoint = "auth/guest", input = Json)]
pub async fn guest() -> Result<GuestStart, AppError> {
    crate::server::auth::guest().await
}
