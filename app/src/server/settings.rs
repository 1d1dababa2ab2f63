//! Users' settings: stored as JSON per user, and mirrored in a cookie the page
//! shell reads, so the first render of every page already has them.

use super::{login, state::AppState};
use crate::wire::settings::Settings;
use crate::AppError;
use base64::Engine;
use leptos::prelude::use_context;
use sqlx::PgPool;

/// Not a secret: the settings themselves, for the next page's first render.
pub const COOKIE: &str = "webide_prefs";

pub async fn get(pool: &PgPool, user: i64) -> Result<Settings, AppError> {
    let stored: Option<sqlx::types::Json<Settings>> =
        sqlx::query_scalar("SELECT settings FROM user_settings WHERE user_id = $1")
            .bind(user)
            .fetch_optional(pool)
            .await?;
    Ok(stored.map(|s| s.0).unwrap_or_default())
}

pub async fn set(pool: &PgPool, user: i64, settings: &Settings) -> Result<(), AppError> {
    settings.validate()?;
    sqlx::query(
        "INSERT INTO user_settings (user_id, settings) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET settings = $2, updated_at = now()",
    )
    .bind(user)
    .bind(sqlx::types::Json(settings))
    .execute(pool)
    .await?;
    Ok(())
}

/// Sends the cookie that carries `settings` to the next pages (none: clears it).
pub fn send(state: &AppState, settings: Option<&Settings>) {
    match settings {
        Some(s) => {
            let value =
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s.to_compact().as_bytes());
            login::send_cookie(state, COOKIE, &value, 365 * 86_400, false);
        }
        None => login::send_cookie(state, COOKIE, "", 0, false),
    }
}

/// The settings the request's cookie carries, if any (and readable).
pub fn from_request() -> Option<Settings> {
    let parts = use_context::<http::request::Parts>()?;
    let value = login::cookie_in(&parts.headers, COOKIE)?;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(value)
        .ok()?;
    Settings::from_compact(std::str::from_utf8(&json).ok()?)
}
