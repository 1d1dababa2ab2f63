//! Accounts: register, sign in and out (with a login throttle), guests. The cookies themselves are `login`'s; which user a request is,
//! and what they may do, is decided in `access`.

use super::login::{self, token_hash, UserRow, USER_COLUMNS};
use super::{access, sessions, state::AppState, templates};
use crate::error::constraint_of;
use crate::wire::auth::{rules, GuestStart, User};
use crate::wire::sessions::Language;
use crate::AppError;
use argon2::{
    password_hash::{rand_core::OsRng, rand_core::RngCore, SaltString},
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
};
use leptos::prelude::use_context;
use sqlx::PgPool;

/// Failed logins are counted over this window.
const FAILURE_WINDOW_SECS: i64 = 15 * 60;
/// Wrong passwords for one account from one client…
const MAX_FAILURES_PER_LOGIN_AND_ADDRESS: i64 = 5;
/// …for one account from everywhere (higher, so that others cannot lock a user
/// out from their own address by guessing wrong on purpose)…
const MAX_FAILURES_PER_LOGIN: i64 = 50;
/// …and for any accounts from one client.
const MAX_FAILURES_PER_ADDRESS: i64 = 30;

pub async fn register(username: String, email: String, password: String) -> Result<User, AppError> {
    let (state, current) = access::caller_if_any().await?;
    let username = username.trim().to_string();
    let email = email.trim().to_string();
    // Cheap checks first: the password's hash costs real time.
    rules::username(&username)?;
    rules::email(&email)?;
    rules::password(&password)?;
    let taken: Option<bool> = sqlx::query_scalar(
        "SELECT lower(username) = lower($1) FROM users
         WHERE lower(username) = lower($1) OR lower(email) = lower($2) LIMIT 1",
    )
    .bind(&username)
    .bind(&email)
    .fetch_optional(&state.pool)
    .await?;
    match taken {
        Some(true) => return Err(AppError::conflict("that username is taken")),
        Some(false) => return Err(AppError::conflict("that email is already registered")),
        None => {}
    }
    limit_signups(&state, "register").await?;
    let hash = hash_password(password).await?;
    let row: Result<UserRow, sqlx::Error> = match current {
        // A guest keeps their id, and so their sessions.
        Some(me) if me.user.is_guest => {
            sqlx::query_as(&format!(
                "UPDATE users u SET username = $2, email = $3, password_hash = $4,
                        is_guest = false, updated_at = now()
                 WHERE id = $1 RETURNING {USER_COLUMNS}"
            ))
            .bind(me.id)
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
    let row = row.map_err(|e| match constraint_of(&e) {
        Some("users_username_key") => AppError::conflict("that username is taken"),
        Some("users_email_key") => AppError::conflict("that email is already registered"),
        _ => e.into(),
    })?;
    start_login(&state, row.id).await?;
    tracing::info!(user = %row.username, "registered");
    Ok(row.user())
}

pub async fn login(login: String, password: String) -> Result<User, AppError> {
    let state = AppState::current()?;
    let login = login.trim().to_string();
    let address = client_address(&state);
    throttle(&state.pool, &login, &address).await?;
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
        // The attempt stays counted as a failure.
        return Err(AppError::unauthorized("wrong username, email or password"));
    };
    sqlx::query("DELETE FROM login_failures WHERE lower(login) = lower($1) AND address = $2")
        .bind(&login)
        .bind(&address)
        .execute(&state.pool)
        .await?;
    start_login(&state, id).await?;
    Ok(user_by_id(&state.pool, id).await?.user())
}

pub async fn user_by_id(pool: &PgPool, id: i64) -> Result<UserRow, AppError> {
    Ok(
        sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users u WHERE id = $1"))
            .bind(id)
            .fetch_one(pool)
            .await?,
    )
}

/// Ends the request's login; its open sockets and streams close.
pub async fn logout() -> Result<(), AppError> {
    let state = AppState::current()?;
    if let Some(token) = login::cookie_token() {
        end_login(&state.pool, &token_hash(&token)).await?;
    }
    login::set_cookie(&state, "", 0);
    super::settings::send(&state, None);
    Ok(())
}

/// Ends every login of the caller, this one included ("sign out everywhere").
pub async fn logout_everywhere(state: &AppState, me: &access::Login) -> Result<usize, AppError> {
    let mut tx = state.pool.begin().await?;
    let ended = end_logins(&mut tx, me.id, None).await?;
    tx.commit().await?;
    login::set_cookie(state, "", 0);
    super::settings::send(state, None);
    tracing::info!(user = %me.user.username, ended, "signed out everywhere");
    Ok(ended)
}

pub async fn guest() -> Result<GuestStart, AppError> {
    let state = AppState::current()?;
    limit_signups(&state, "guest").await?;
    let mut suffix = [0u8; 6];
    OsRng.fill_bytes(&mut suffix);
    let mut tx = state.pool.begin().await?;
    let row: UserRow = sqlx::query_as(&format!(
        "INSERT INTO users AS u (username, is_guest) VALUES ($1, true) RETURNING {USER_COLUMNS}"
    ))
    .bind(format!("guest-{}", hex::encode(suffix)))
    .fetch_one(&mut *tx)
    .await?;
    let session = sessions::create(
        &mut tx,
        row.id,
        "My first session",
        Language::Python,
        &templates::Origin::Blank,
        state.settings.max_sessions_per_user,
    )
    .await?;
    tx.commit().await?;
    start_login(&state, row.id).await?;
    Ok(GuestStart {
        user: row.user(),
        session,
    })
}

/// Counts this attempt before the password is checked, one attempt at a time per
/// account and per address (advisory locks, always in that order), so attempts
/// made at the same time cannot slip under the limit together. A refused attempt
/// is not counted; a successful one is taken back (in `login`).
async fn throttle(pool: &PgPool, login: &str, address: &str) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(1, hashtext(lower($1)))")
        .bind(login)
        .execute(&mut *tx)
        .await?;
    sqlx::query("SELECT pg_advisory_xact_lock(2, hashtext($1))")
        .bind(address)
        .execute(&mut *tx)
        .await?;
    // For each key: attempts in the window, and seconds until the oldest leaves it.
    type Counts = (i64, Option<f64>, i64, Option<f64>, i64, Option<f64>);
    let (both, both_wait, by_login, login_wait, by_address, address_wait): Counts = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE lower(login) = lower($1) AND address = $2),
                    extract(epoch FROM min(failed_at) FILTER (WHERE lower(login) = lower($1)
                        AND address = $2) + make_interval(secs => $3) - now())::float8,
                    count(*) FILTER (WHERE lower(login) = lower($1)),
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
    .fetch_one(&mut *tx)
    .await?;
    let wait = |w: Option<f64>| w.unwrap_or(1.0).ceil().max(1.0) as u64;
    if both >= MAX_FAILURES_PER_LOGIN_AND_ADDRESS {
        return Err(AppError::rate_limited(wait(both_wait)));
    }
    if by_login >= MAX_FAILURES_PER_LOGIN {
        return Err(AppError::rate_limited(wait(login_wait)));
    }
    if by_address >= MAX_FAILURES_PER_ADDRESS {
        return Err(AppError::rate_limited(wait(address_wait)));
    }
    sqlx::query(
        "WITH swept AS (DELETE FROM login_failures WHERE failed_at < now() - interval '1 day')
         INSERT INTO login_failures (login, address) VALUES ($1, $2)",
    )
    .bind(login)
    .bind(address)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Accounts (`register`) and guests made from one address: at most the
/// configured number an hour each, counted the same way as login attempts.
pub(crate) async fn limit_signups(state: &AppState, kind: &str) -> Result<(), AppError> {
    let address = client_address(state);
    let mut tx = state.pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(3, hashtext($1 || ' ' || $2))")
        .bind(kind)
        .bind(&address)
        .execute(&mut *tx)
        .await?;
    let (count, wait): (i64, Option<f64>) = sqlx::query_as(
        "SELECT count(*), extract(epoch FROM min(made_at) + interval '1 hour' - now())::float8
         FROM signups WHERE kind = $1 AND address = $2 AND made_at > now() - interval '1 hour'",
    )
    .bind(kind)
    .bind(&address)
    .fetch_one(&mut *tx)
    .await?;
    if count >= state.settings.signups_per_hour {
        return Err(AppError::rate_limited(
            wait.unwrap_or(1.0).ceil().max(1.0) as u64
        ));
    }
    sqlx::query(
        "WITH swept AS (DELETE FROM signups WHERE made_at < now() - interval '1 hour')
         INSERT INTO signups (kind, address) VALUES ($1, $2)",
    )
    .bind(kind)
    .bind(&address)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends one login (by its token's hash); its sockets and streams close.
pub async fn end_login(pool: &PgPool, hash: &[u8]) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM auth_sessions WHERE token_hash = $1")
        .bind(hash)
        .execute(&mut *tx)
        .await?;
    access::announce(&mut *tx, &access::Change::Token(hex::encode(hash))).await?;
    tx.commit().await?;
    Ok(())
}

/// Ends every login of `user_id` but `except`; their sockets and streams close.
/// How many ended.
pub async fn end_logins(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    user_id: i64,
    except: Option<&[u8]>,
) -> Result<usize, AppError> {
    let ended: Vec<Vec<u8>> = sqlx::query_scalar(
        "DELETE FROM auth_sessions WHERE user_id = $1 AND token_hash IS DISTINCT FROM $2
         RETURNING token_hash",
    )
    .bind(user_id)
    .bind(except)
    .fetch_all(&mut **tx)
    .await?;
    for token in &ended {
        access::announce(&mut **tx, &access::Change::Token(hex::encode(token))).await?;
    }
    Ok(ended.len())
}

/// Signs `user_id` in: the login cookie, and their settings for the next pages.
/// The login the request came with (a guest's, one planted before sign-in)
/// ends: a new login never reuses a token someone else may know.
pub(crate) async fn start_login(state: &AppState, user_id: i64) -> Result<(), AppError> {
    if let Some(old) = login::cookie_token() {
        end_login(&state.pool, &token_hash(&old)).await?;
    }
    login::start_login(state, user_id).await?;
    let settings = super::settings::get(&state.pool, user_id).await?;
    super::settings::send(state, Some(&settings));
    Ok(())
}

/// Runs a password hash on a blocking thread, at most one per core at a time:
/// each takes 19 MiB (argon2's default memory), so a burst of sign-ins waits its
/// turn rather than taking the server's memory.
async fn hashing<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    static SLOTS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores)
    });
    let _slot = SLOTS.acquire().await.map_err(AppError::internal)?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(AppError::internal)
}

pub async fn hash_password(password: String) -> Result<String, AppError> {
    hashing(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await?
    .map_err(AppError::internal)
}

/// Unknown users (no hash) cost a verification too, against a hash of a random
/// password, so timing does not tell who has an account.
pub async fn verify_password(password: String, hash: Option<String>) -> Result<bool, AppError> {
    static DUMMY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let mut pw = [0u8; 16];
        OsRng.fill_bytes(&mut pw);
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(&pw, &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    });
    hashing(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY.clone());
        let parsed = PasswordHash::new(&hash).map_err(AppError::internal)?;
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(known && matches)
    })
    .await?
}

/// The client's address, for rate limiting.
fn client_address(state: &AppState) -> String {
    let Some(parts) = use_context::<http::request::Parts>() else {
        return "unknown".into();
    };
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    super::client_addr::client(peer, &parts.headers, &state.settings.trusted_proxies)
}

/// What a sweep of logins took away.
#[derive(Debug, Default)]
pub struct Swept {
    pub logins: usize,
    pub guests: usize,
    /// The swept guests' sessions, whose sandboxes go too.
    pub sessions: Vec<uuid::Uuid>,
}

/// Deletes expired logins, and guests idle for `guest_idle_days` (no login of
/// theirs used since) with everything they own. Open sockets of either close.
pub async fn sweep(pool: &PgPool, guest_idle_days: i64) -> Result<Swept, AppError> {
    let mut tx = pool.begin().await?;
    let expired: Vec<Vec<u8>> = sqlx::query_scalar(
        "DELETE FROM auth_sessions WHERE expires_at <= now() RETURNING token_hash",
    )
    .fetch_all(&mut *tx)
    .await?;
    for token in &expired {
        access::announce(&mut *tx, &access::Change::Token(hex::encode(token))).await?;
    }
    // A bounded batch: the next sweep takes the rest.
    let guests: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM users u
         WHERE is_guest AND created_at < now() - make_interval(days => $1)
           AND NOT EXISTS (SELECT 1 FROM auth_sessions a
                           WHERE a.user_id = u.id AND a.last_used_at > now() - make_interval(days => $1))
         LIMIT 500 FOR UPDATE SKIP LOCKED",
    )
    .bind(guest_idle_days as i32)
    .fetch_all(&mut *tx)
    .await?;
    let sessions: Vec<uuid::Uuid> =
        sqlx::query_scalar("SELECT uuid FROM code_sessions WHERE user_id = ANY($1)")
            .bind(&guests)
            .fetch_all(&mut *tx)
            .await?;
    sqlx::query("DELETE FROM users WHERE id = ANY($1)")
        .bind(&guests)
        .execute(&mut *tx)
        .await?;
    for s in &sessions {
        access::announce(&mut *tx, &access::Change::Session(*s)).await?;
    }
    for g in &guests {
        access::announce(&mut *tx, &access::Change::User(*g)).await?;
    }
    tx.commit().await?;
    Ok(Swept {
        logins: expired.len(),
        guests: guests.len(),
        sessions,
    })
}
