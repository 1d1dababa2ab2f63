//! Login cookies: the token a request carries (only its SHA-256 is stored), who
//! it belongs to, and the cookie sent when a login starts or is renewed. What a
//! login may do is decided in `access`.

use super::digest::sha256;
use super::state::AppState;
use crate::wire::auth::User;
use crate::AppError;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

pub const COOKIE: &str = "webide_session";
pub const SESSION_DAYS: i64 = 30;
/// A user row as the API shows it, with the database id (which never leaves the server).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub is_guest: bool,
    pub is_reviewer: bool,
    pub reviewer_level: i16,
}

impl UserRow {
    pub fn user(&self) -> User {
        User {
            username: self.username.clone(),
            email: self.email.clone(),
            is_guest: self.is_guest,
            is_reviewer: self.is_reviewer,
            reviewer_level: self.reviewer_level,
        }
    }
}

/// The columns of [`UserRow`], from `users u`.
pub const USER_COLUMNS: &str =
    "u.id, u.username, u.email, u.is_guest, u.is_reviewer, u.reviewer_level";

pub fn token_hash(token: &str) -> Vec<u8> {
    sha256(token.as_bytes()).to_vec()
}

/// The login token of the request being served (server functions and pages).
pub fn cookie_token() -> Option<String> {
    token_in(&use_context::<http::request::Parts>()?.headers)
}

/// The login token in a request's headers.
pub fn token_in(headers: &http::HeaderMap) -> Option<String> {
    cookie_in(headers, COOKIE)
}

/// The value of cookie `name` in a request's headers, unless empty.
pub fn cookie_in(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// Keeps an active login signed in: a new expiry, and the cookie sent again.
pub async fn renew(state: &AppState, token: &str) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE auth_sessions SET last_used_at = now(),
                expires_at = now() + make_interval(days => $2)
         WHERE token_hash = $1",
    )
    .bind(token_hash(token))
    .bind(SESSION_DAYS as i32)
    .execute(&state.pool)
    .await?;
    set_cookie(state, token, SESSION_DAYS * 86_400);
    Ok(())
}

/// Creates a login session and sends its cookie.
pub async fn start_login(state: &AppState, user_id: i64) -> Result<(), AppError> {
    let mut raw = [0u8; 32];
    OsRng.fill_bytes(&mut raw);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    sqlx::query(
        "INSERT INTO auth_sessions (token_hash, user_id, expires_at)
         VALUES ($1, $2, now() + make_interval(days => $3))",
    )
    .bind(token_hash(&token))
    .bind(user_id)
    .bind(SESSION_DAYS as i32)
    .execute(&state.pool)
    .await?;
    set_cookie(state, &token, SESSION_DAYS * 86_400);
    Ok(())
}

pub fn set_cookie(state: &AppState, token: &str, max_age: i64) {
    send_cookie(state, COOKIE, token, max_age, true);
}

/// Sends cookie `name` with the response being made (`max_age` 0 deletes it).
pub fn send_cookie(state: &AppState, name: &str, value: &str, max_age: i64, http_only: bool) {
    let Some(res) = use_context::<ResponseOptions>() else {
        return;
    };
    let secure = if state.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let http_only = if http_only { "; HttpOnly" } else { "" };
    let cookie =
        format!("{name}={value}; Path=/{http_only}; SameSite=Lax; Max-Age={max_age}{secure}");
    if let Ok(v) = http::HeaderValue::from_str(&cookie) {
        res.append_header(http::header::SET_COOKIE, v);
    }
}
