//! Accounts and login cookies: register, login, logout, the current user, guests
//! and the reviewer flag of the profile.

use crate::api::sessions::CodeSession;
use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

/// A user as any client may see them: never the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub username: String,
    pub email: Option<String>,
    pub is_guest: bool,
    pub is_reviewer: bool,
    pub reviewer_level: i16,
}

/// What "try without an account" gives: a guest user, signed in, with a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuestStart {
    pub user: User,
    pub session: CodeSession,
}

/// Creates an account and signs in. A signed-in guest who registers keeps their sessions.
#[server(prefix = "/api", endpoint = "auth/register", input = Json)]
pub async fn register(username: String, email: String, password: String) -> Result<User, AppError> {
    ssr::register(username, email, password).await
}

/// Signs in by username or email.
#[server(prefix = "/api", endpoint = "auth/login", input = Json)]
pub async fn login(login: String, password: String) -> Result<User, AppError> {
    ssr::login(login, password).await
}

#[server(prefix = "/api", endpoint = "auth/logout", input = Json)]
pub async fn logout() -> Result<(), AppError> {
    ssr::logout().await
}

/// The signed-in user, or `null`.
#[server(prefix = "/api", endpoint = "auth/me", input = Json)]
pub async fn me() -> Result<Option<User>, AppError> {
    let state = crate::state::AppState::current()?;
    Ok(ssr::current_user(&state).await?.map(|a| a.user))
}

/// Starts a guest account with one session, signed in at once.
#[server(prefix = "/api", endpoint = "auth/guest", input = Json)]
pub async fn guest() -> Result<GuestStart, AppError> {
    ssr::guest().await
}

/// Sets the reviewer level of the signed-in user: 0 (not a reviewer), 1 or 2.
#[server(prefix = "/api", endpoint = "auth/profile", input = Json)]
pub async fn set_reviewer_level(reviewer_level: i16) -> Result<User, AppError> {
    ssr::set_reviewer_level(reviewer_level).await
}

/// Rules shared by the registration form and the server.
pub mod rules {
    use crate::AppError;

    pub fn username(name: &str) -> Result<(), AppError> {
        let ok_chars = name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !(3..=32).contains(&name.len()) || !ok_chars {
            return Err(AppError::invalid(
                "a username has 3 to 32 characters: letters, digits, '_', '-' or '.'",
            ));
        }
        if name.to_ascii_lowercase().starts_with("guest-") {
            return Err(AppError::invalid(
                "usernames starting with 'guest-' are reserved",
            ));
        }
        Ok(())
    }

    pub fn email(email: &str) -> Result<(), AppError> {
        let valid = email.len() <= 254
            && !email.chars().any(char::is_whitespace)
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            });
        if valid {
            Ok(())
        } else {
            Err(AppError::invalid("that is not an email address"))
        }
    }

    pub fn password(password: &str) -> Result<(), AppError> {
        match password.chars().count() {
            n if n < 8 => Err(AppError::invalid("a password has at least 8 characters")),
            n if n > 128 => Err(AppError::invalid("a password has at most 128 characters")),
            _ => Ok(()),
        }
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::{rules, GuestStart, User};
    use crate::{api::sessions, error::constraint_of, state::AppState, AppError};
    use argon2::{
        password_hash::{rand_core::OsRng, rand_core::RngCore, SaltString},
        Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    };
    use base64::Engine;
    use leptos::prelude::use_context;
    use leptos_axum::ResponseOptions;
    use sha2::{Digest, Sha256};
    use sqlx::PgPool;

    const COOKIE: &str = "webide_session";
    const SESSION_DAYS: i64 = 30;
    /// Failed logins are counted over this window.
    const FAILURE_WINDOW_SECS: i64 = 15 * 60;
    const MAX_FAILURES_PER_LOGIN: i64 = 5;
    const MAX_FAILURES_PER_ADDRESS: i64 = 30;

    /// The signed-in user with their database id (which never leaves the server).
    #[derive(Debug, Clone)]
    pub struct Authed {
        pub id: i64,
        pub user: User,
    }

    #[derive(sqlx::FromRow)]
    struct UserRow {
        id: i64,
        username: String,
        email: Option<String>,
        is_guest: bool,
        is_reviewer: bool,
        reviewer_level: i16,
    }

    #[derive(sqlx::FromRow)]
    struct AuthRow {
        #[sqlx(flatten)]
        user: UserRow,
        stale: bool,
    }

    impl From<UserRow> for Authed {
        fn from(r: UserRow) -> Self {
            Self {
                id: r.id,
                user: User {
                    username: r.username,
                    email: r.email,
                    is_guest: r.is_guest,
                    is_reviewer: r.is_reviewer,
                    reviewer_level: r.reviewer_level,
                },
            }
        }
    }

    const USER_COLUMNS: &str =
        "u.id, u.username, u.email, u.is_guest, u.is_reviewer, u.reviewer_level";

    /// The user of the request's login cookie, renewing the cookie when it is
    /// more than an hour old so that active users stay signed in.
    pub async fn current_user(state: &AppState) -> Result<Option<Authed>, AppError> {
        let Some(token) = cookie_token() else {
            return Ok(None);
        };
        let row: Option<AuthRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS}, a.last_used_at < now() - interval '1 hour' AS stale
             FROM auth_sessions a JOIN users u ON u.id = a.user_id
             WHERE a.token_hash = $1 AND a.expires_at > now()"
        ))
        .bind(token_hash(&token))
        .fetch_optional(&state.pool)
        .await?;
        let Some(AuthRow { user, stale }) = row else {
            return Ok(None);
        };
        if stale {
            sqlx::query(
                "UPDATE auth_sessions SET last_used_at = now(),
                        expires_at = now() + make_interval(days => $2)
                 WHERE token_hash = $1",
            )
            .bind(token_hash(&token))
            .bind(SESSION_DAYS as i32)
            .execute(&state.pool)
            .await?;
            set_cookie(state, &token, SESSION_DAYS * 86_400);
        }
        Ok(Some(user.into()))
    }

    pub async fn require_user(state: &AppState) -> Result<Authed, AppError> {
        current_user(state)
            .await?
            .ok_or_else(|| AppError::unauthorized("sign in first"))
    }

    pub async fn register(
        username: String,
        email: String,
        password: String,
    ) -> Result<User, AppError> {
        let state = AppState::current()?;
        let username = username.trim().to_string();
        let email = email.trim().to_string();
        rules::username(&username)?;
        rules::email(&email)?;
        rules::password(&password)?;
        let hash = hash_password(password).await?;
        let current = current_user(&state).await?;
        let row: Result<UserRow, sqlx::Error> = match current {
            // A guest keeps their id, and so their sessions.
            Some(a) if a.user.is_guest => {
                sqlx::query_as(&format!(
                    "UPDATE users u SET username = $2, email = $3, password_hash = $4,
                            is_guest = false, updated_at = now()
                     WHERE id = $1 RETURNING {USER_COLUMNS}"
                ))
                .bind(a.id)
                .bind(&username)
                .bind(&email)
                .bind(&hash)
                .fetch_one(&state.pool)
                .await
            }
            _ => {
                sqlx::query_as(&format!(
                    "INSERT INTO users AS u (username, email, password_hash) VALUES ($1, $2, $3)
                     RETURNING {USER_COLUMNS}"
                ))
                .bind(&username)
                .bind(&email)
                .bind(&hash)
                .fetch_one(&state.pool)
                .await
            }
        };
        let authed: Authed = row
            .map_err(|e| match constraint_of(&e) {
                Some("users_username_key") => AppError::conflict("that username is taken"),
                Some("users_email_key") => AppError::conflict("that email is already registered"),
                _ => e.into(),
            })?
            .into();
        start_login(&state, authed.id).await?;
        tracing::info!(user = %authed.user.username, "registered");
        Ok(authed.user)
    }

    pub async fn login(login: String, password: String) -> Result<User, AppError> {
        let state = AppState::current()?;
        let login = login.trim().to_string();
        let address = client_address();
        check_rate_limit(&state.pool, &login, &address).await?;
        let found: Option<(i64, Option<String>)> = sqlx::query_as(
            "SELECT id, password_hash FROM users
             WHERE NOT is_guest AND (lower(username) = lower($1) OR lower(email) = lower($1))",
        )
        .bind(&login)
        .fetch_optional(&state.pool)
        .await?;
        let (id, hash) = found.map_or((None, None), |(id, hash)| (Some(id), hash));
        let ok = verify_password(password, hash).await?;
        let Some(id) = id.filter(|_| ok) else {
            sqlx::query(
                "WITH swept AS (DELETE FROM login_failures WHERE failed_at < now() - interval '1 day')
                 INSERT INTO login_failures (login, address) VALUES ($1, $2)",
            )
            .bind(&login)
            .bind(&address)
            .execute(&state.pool)
            .await?;
            return Err(AppError::unauthorized("wrong username, email or password"));
        };
        sqlx::query("DELETE FROM login_failures WHERE lower(login) = lower($1)")
            .bind(&login)
            .execute(&state.pool)
            .await?;
        start_login(&state, id).await?;
        let user: UserRow =
            sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users u WHERE id = $1"))
                .bind(id)
                .fetch_one(&state.pool)
                .await?;
        Ok(Authed::from(user).user)
    }

    pub async fn logout() -> Result<(), AppError> {
        let state = AppState::current()?;
        if let Some(token) = cookie_token() {
            sqlx::query("DELETE FROM auth_sessions WHERE token_hash = $1")
                .bind(token_hash(&token))
                .execute(&state.pool)
                .await?;
        }
        set_cookie(&state, "", 0);
        Ok(())
    }

    pub async fn guest() -> Result<GuestStart, AppError> {
        let state = AppState::current()?;
        let mut suffix = [0u8; 6];
        OsRng.fill_bytes(&mut suffix);
        let row: UserRow = sqlx::query_as(&format!(
            "INSERT INTO users AS u (username, is_guest) VALUES ($1, true) RETURNING {USER_COLUMNS}"
        ))
        .bind(format!("guest-{}", hex::encode(suffix)))
        .fetch_one(&state.pool)
        .await?;
        let authed = Authed::from(row);
        let session = sessions::ssr::create(
            &state.pool,
            authed.id,
            "My first session",
            sessions::Language::Python,
        )
        .await?;
        start_login(&state, authed.id).await?;
        Ok(GuestStart {
            user: authed.user,
            session,
        })
    }

    pub async fn set_reviewer_level(level: i16) -> Result<User, AppError> {
        let state = AppState::current()?;
        let me = require_user(&state).await?;
        if !(0..=2).contains(&level) {
            return Err(AppError::invalid("the reviewer level is 0, 1 or 2"));
        }
        let row: UserRow = sqlx::query_as(&format!(
            "UPDATE users u SET reviewer_level = $2, is_reviewer = $2 > 0, updated_at = now()
             WHERE id = $1 RETURNING {USER_COLUMNS}"
        ))
        .bind(me.id)
        .bind(level)
        .fetch_one(&state.pool)
        .await?;
        Ok(Authed::from(row).user)
    }

    /// Creates a login session and sends its cookie.
    async fn start_login(state: &AppState, user_id: i64) -> Result<(), AppError> {
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

    async fn check_rate_limit(pool: &PgPool, login: &str, address: &str) -> Result<(), AppError> {
        // For each key: failures in the window, and seconds until the oldest leaves it.
        let (by_login, login_wait, by_address, address_wait): (i64, Option<f64>, i64, Option<f64>) =
            sqlx::query_as(
                "SELECT count(*) FILTER (WHERE lower(login) = lower($1)),
                        extract(epoch FROM min(failed_at) FILTER (WHERE lower(login) = lower($1))
                                + make_interval(secs => $3) - now())::float8,
                        count(*) FILTER (WHERE address = $2),
                        extract(epoch FROM min(failed_at) FILTER (WHERE address = $2)
                                + make_interval(secs => $3) - now())::float8
                 FROM login_failures
                 WHERE failed_at > now() - make_interval(secs => $3)
                   AND (lower(login) = lower($1) OR address = $2)",
            )
            .bind(login)
            .bind(address)
            .bind(FAILURE_WINDOW_SECS as f64)
            .fetch_one(pool)
            .await?;
        let wait = |w: Option<f64>| w.unwrap_or(1.0).ceil().max(1.0) as u64;
        if by_login >= MAX_FAILURES_PER_LOGIN {
            return Err(AppError::rate_limited(wait(login_wait)));
        }
        if by_address >= MAX_FAILURES_PER_ADDRESS {
            return Err(AppError::rate_limited(wait(address_wait)));
        }
        Ok(())
    }

    pub async fn hash_password(password: String) -> Result<String, AppError> {
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
        })
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
    }

    /// Unknown users (no hash) cost a verification too, against a hash of a random
    /// password, so timing does not tell who has an account.
    async fn verify_password(password: String, hash: Option<String>) -> Result<bool, AppError> {
        static DUMMY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            let mut pw = [0u8; 16];
            OsRng.fill_bytes(&mut pw);
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(&pw, &salt)
                .map(|h| h.to_string())
                .unwrap_or_default()
        });
        tokio::task::spawn_blocking(move || {
            let known = hash.is_some();
            let hash = hash.unwrap_or_else(|| DUMMY.clone());
            let parsed = PasswordHash::new(&hash).map_err(AppError::internal)?;
            let matches = Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok();
            Ok(known && matches)
        })
        .await
        .map_err(AppError::internal)?
    }

    fn token_hash(token: &str) -> Vec<u8> {
        Sha256::digest(token.as_bytes()).to_vec()
    }

    fn cookie_token() -> Option<String> {
        token_in(&use_context::<http::request::Parts>()?.headers)
    }

    fn token_in(headers: &http::HeaderMap) -> Option<String> {
        headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == COOKIE)
            .map(|(_, v)| v.to_string())
            .filter(|v| !v.is_empty())
    }

    /// The signed-in user's id from a request's headers, for routes outside the
    /// server functions (sockets, event streams).
    pub async fn user_id_in(
        pool: &PgPool,
        headers: &http::HeaderMap,
    ) -> Result<Option<i64>, AppError> {
        let Some(token) = token_in(headers) else {
            return Ok(None);
        };
        Ok(sqlx::query_scalar(
            "SELECT user_id FROM auth_sessions WHERE token_hash = $1 AND expires_at > now()",
        )
        .bind(token_hash(&token))
        .fetch_optional(pool)
        .await?)
    }

    fn set_cookie(state: &AppState, token: &str, max_age: i64) {
        let Some(res) = use_context::<ResponseOptions>() else {
            return;
        };
        let secure = if state.settings.secure_cookies {
            "; Secure"
        } else {
            ""
        };
        let cookie =
            format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
        if let Ok(v) = http::HeaderValue::from_str(&cookie) {
            res.append_header(http::header::SET_COOKIE, v);
        }
    }

    /// The peer address, for rate limiting.
    fn client_address() -> String {
        use_context::<http::request::Parts>()
            .and_then(|p| {
                p.extensions
                    .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                    .map(|c| c.0.ip().to_string())
            })
            .unwrap_or_else(|| "unknown".into())
    }
}
