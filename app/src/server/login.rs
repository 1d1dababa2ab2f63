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
/// The login cookie's name when served over HTTPS: the `__Host-` prefix binds it
/// to this host (Secure, `Path=/`, no Domain), so a sibling subdomain cannot plant
/// one and sign a visitor into another account.
pub const HOST_COOKIE: &str = "__Host-webide_session";
/// A login stays while used (the sliding lifetime)…
pub const SESSION_DAYS: i64 = 30;
/// …but never longer than this after it began.
pub const MAX_LOGIN_DAYS: i64 = 90;

/// Whether this process serves its cookies secure: set once at start, from the
/// settings; it names the login cookie wherever a request is read.
static SECURE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn serve_secure(on: bool) {
    SECURE.store(on, std::sync::atomic::Ordering::Relaxed);
}

fn login_cookie() -> &'static str {
    if SECURE.load(std::sync::atomic::Ordering::Relaxed) {
        HOST_COOKIE
    } else {
        COOKIE
    }
}
/// A user row as the API shows it, with the database id (which never leaves the server).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub is_guest: bool,
    pub is_reviewer: bool,
    pub reviewer_level: i16,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
}

impl UserRow {
    pub fn user(&self) -> User {
        User {
            username: self.username.clone(),
            email: self.email.clone(),
            is_guest: self.is_guest,
            is_reviewer: self.is_reviewer,
            reviewer_level: self.reviewer_level,
            display_name: self.display_name.clone(),
            avatar_url: self.avatar_url.clone(),
        }
    }
}

/// The columns of [`UserRow`], from `users u`.
pub const USER_COLUMNS: &str = "u.id, u.username, u.email, u.is_guest, u.is_reviewer, \
     u.reviewer_level, u.display_name, u.avatar_url";

pub fn token_hash(token: &str) -> Vec<u8> {
    sha256(token.as_bytes()).to_vec()
}

/// The login token of the request being served (server functions and pages).
pub fn cookie_token() -> Option<String> {
    token_in(&use_context::<http::request::Parts>()?.headers)
}

/// The login token in a request's headers (only the `__Host-` cookie when secure).
pub fn token_in(headers: &http::HeaderMap) -> Option<String> {
    cookie_in(headers, login_cookie())
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

/// Keeps an active login signed in: a new expiry (within its absolute lifetime),
/// and the cookie sent again.
pub async fn renew(state: &AppState, token: &str) -> Result<(), AppError> {
    let left: Option<i64> = sqlx::query_scalar(
        "UPDATE auth_sessions SET last_used_at = now(),
                expires_at = LEAST(now() + make_interval(days => $2),
                                   created_at + make_interval(days => $3))
         WHERE token_hash = $1 RETURNING extract(epoch FROM expires_at - now())::int8",
    )
    .bind(token_hash(token))
    .bind(SESSION_DAYS as i32)
    .bind(MAX_LOGIN_DAYS as i32)
    .fetch_optional(&state.pool)
    .await?;
    if let Some(left) = left {
        set_cookie(state, token, left.max(0));
    }
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
    send_cookie(state, login_cookie(), token, max_age, true);
}

/// The scheme and host the request was made to, for redirect URIs when the
/// server is given no public URL.
pub fn request_origin() -> Result<String, AppError> {
    let state = AppState::current()?;
    let parts = use_context::<http::request::Parts>()
        .ok_or_else(|| AppError::internal("no request in context"))?;
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .ok_or_else(|| AppError::bad_request("the request has no Host"))?;
    let scheme = if state.settings.secure_cookies {
        "https"
    } else {
        "http"
    };
    Ok(format!("{scheme}://{host}"))
}

/// Answers the request with a redirect to `to` (302), whoever made it: the
/// endpoints that do this are where browsers navigate.
pub fn send_to(to: &str) {
    let Some(res) = use_context::<ResponseOptions>() else {
        return;
    };
    if let Ok(v) = http::HeaderValue::from_str(to) {
        res.insert_header(http::header::LOCATION, v);
        res.set_status(http::StatusCode::FOUND);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_secure_only_the_host_cookie_signs_in() {
        let mut h = http::HeaderMap::new();
        h.insert(
            http::header::COOKIE,
            "webide_session=planted".parse().unwrap(),
        );
        assert_eq!(token_in(&h).as_deref(), Some("planted"));
        serve_secure(true);
        // A sibling subdomain can set `webide_session`, never `__Host-…`.
        assert_eq!(token_in(&h), None);
        h.insert(
            http::header::COOKIE,
            "webide_session=planted; __Host-webide_session=mine"
                .parse()
                .unwrap(),
        );
        assert_eq!(token_in(&h).as_deref(), Some("mine"));
        serve_secure(false);
    }
}
