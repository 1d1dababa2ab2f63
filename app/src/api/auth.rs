//! `/api/auth/*`: accounts and login cookies.

use crate::wire::auth::{GuestStart, Provider, User};
use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};

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

/// The sign-in providers configured on this server (their buttons).
#[server(prefix = "/api", endpoint = "auth/providers", input = Json)]
pub async fn providers() -> Result<Vec<Provider>, AppError> {
    let state = crate::server::state::AppState::current()?;
    Ok(state.settings.providers.offered())
}

/// Starts signing in with `provider`; with `link`, adds it to the signed-in
/// caller's account instead. A browser navigates here and is sent on (302) to
/// the provider; the body is the provider's URL.
#[server(prefix = "/api", endpoint = "auth/oauth/start", input = GetUrl)]
pub async fn oauth_start(provider: String, link: Option<bool>) -> Result<String, AppError> {
    use crate::server::identities;
    let started = async {
        let origin = crate::server::login::request_origin()?;
        identities::start(&provider, link.unwrap_or(false), &origin).await
    };
    match started.await {
        Ok(url) => {
            crate::server::login::send_to(&url);
            Ok(url)
        }
        Err(e) => Ok(identities::failed(e).await),
    }
}

/// Where a provider sends the browser back. Signed in (or linked), the browser
/// goes on to the IDE (or its settings); refused, to the sign-in page with the
/// reason. The body is where it was sent.
#[server(prefix = "/api", endpoint = "auth/oauth/callback", input = GetUrl)]
pub async fn oauth_callback(
    state: String,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    iss: Option<String>,
) -> Result<String, AppError> {
    use crate::server::identities::{self, Callback, Landing};
    let back = Callback {
        state,
        code,
        error,
        error_description,
        iss,
    };
    let finished = async {
        let origin = crate::server::login::request_origin()?;
        identities::finish(back, &origin).await
    };
    match finished.await {
        Ok(landing) => {
            let to = match landing {
                Landing::SignedIn => "/".to_string(),
                Landing::Linked(name) => format!("/settings?linked={}", identities::encode(&name)),
            };
            crate::server::login::send_to(&to);
            Ok(to)
        }
        Err(e) => Ok(identities::failed(e).await),
    }
}
