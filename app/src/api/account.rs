//! `/api/settings/*` and `/api/account/*`: the caller's own preferences and
//! account. Nothing here takes anyone else's data.

use crate::wire::auth::{SignInMethods, User};
use crate::wire::settings::Settings;
use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use crate::server::{access, account, settings as data};

/// The caller's settings (the defaults until they save some). The page's
/// settings cookie is brought up to date with them.
#[server(prefix = "/api", endpoint = "settings/get", input = Json)]
pub async fn get_settings() -> Result<Settings, AppError> {
    let (state, me) = access::caller().await?;
    let settings = data::get(&state.pool, me.id).await?;
    data::send(&state, Some(&settings));
    Ok(settings)
}

/// Saves the caller's settings: 422 naming a value out of range.
#[server(prefix = "/api", endpoint = "settings/set", input = Json)]
pub async fn set_settings(settings: Settings) -> Result<Settings, AppError> {
    let (state, me) = access::caller().await?;
    data::set(&state.pool, me.id, &settings).await?;
    data::send(&state, Some(&settings));
    Ok(settings)
}

/// A new password, given the current one; the caller's other logins end.
#[server(prefix = "/api", endpoint = "account/change_password", input = Json)]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    let (state, me) = access::caller().await?;
    account::change_password(&state, &me, current_password, new_password).await
}

/// A new email, given the password.
#[server(prefix = "/api", endpoint = "account/change_email", input = Json)]
pub async fn change_email(password: String, email: String) -> Result<User, AppError> {
    let (state, me) = access::caller().await?;
    account::change_email(&state, &me, password, email).await
}

/// Deletes the caller's account and every session it owns; `confirm` is the
/// caller's username, typed again.
#[server(prefix = "/api", endpoint = "account/delete", input = Json)]
pub async fn delete_account(confirm: String) -> Result<(), AppError> {
    let (state, me) = access::caller().await?;
    account::delete(&state, &me, &confirm).await
}

/// How the caller can sign in: a password, linked providers, and the providers
/// they could link.
#[server(prefix = "/api", endpoint = "account/sign_in_methods", input = Json)]
pub async fn list_sign_in_methods() -> Result<SignInMethods, AppError> {
    let (state, me) = access::caller().await?;
    crate::server::identities::methods(&state, &me).await
}

/// Unlinks the caller's account at `provider`; 409 if it is their last way to
/// sign in.
#[server(prefix = "/api", endpoint = "account/unlink", input = Json)]
pub async fn unlink_provider(provider: String) -> Result<SignInMethods, AppError> {
    let (state, me) = access::caller().await?;
    crate::server::identities::unlink(&state, &me, &provider).await
}

/// A new username for the caller; 409 if it is taken.
#[server(prefix = "/api", endpoint = "account/change_username", input = Json)]
pub async fn change_username(username: String) -> Result<User, AppError> {
    let (state, me) = access::caller().await?;
    account::change_username(&state, &me, username).await
}
