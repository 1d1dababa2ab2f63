//! The one access decision. For a principal (the signed-in user of a request) and
//! a session it gives a grant: the principal's role there, which allows some
//! capabilities (the table is `wire::access`). Every server function, page,
//! socket and stream asks here, before it validates or echoes any argument; the
//! login and the role come back from one query. Nothing else writes an ownership
//! predicate: queries that list sessions join the `session_roles` view, which this
//! module's query reads too.
//!
//! - no login: 401; no role on the session (or no such session): 404, the same
//!   answer for both; a role without the capability: 403 naming what is missing.
//! - changes of access (sharing, sign-out, a deleted session) are announced on a
//!   Postgres channel, so open sockets and streams on every replica re-check at once.

use super::login::{self, UserRow, USER_COLUMNS};
use super::state::AppState;
use crate::wire::access::{Capability, Role};
use crate::wire::sessions::Language;
use crate::AppError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct Login {
    pub id: i64,
    pub user: crate::wire::auth::User,
    /// SHA-256 of the login token: what sockets re-check with.
    pub token_hash: Vec<u8>,
    pub expires_at: DateTime<Utc>,
}

/// What a login may do in one session.
#[derive(Debug, Clone)]
pub struct Grant {
    pub login: Login,
    pub session: Uuid,
    /// The session's database id.
    pub session_id: i64,
    /// The owner's user id: the sandbox is theirs, whoever opens it.
    pub owner_id: i64,
    pub language: Language,
    pub role: Role,
}

impl Grant {
    /// 403 unless the role allows `need`.
    pub fn require(&self, need: Capability) -> Result<(), AppError> {
        if self.role.allows(need) {
            Ok(())
        } else {
            Err(AppError::forbidden(need.refusal(self.role)))
        }
    }
}

pub fn no_such_session() -> AppError {
    AppError::not_found("no such session")
}

fn sign_in_first() -> AppError {
    AppError::unauthorized("sign in first")
}

#[derive(sqlx::FromRow)]
struct Row {
    #[sqlx(flatten)]
    user: UserRow,
    stale: bool,
    expires_at: DateTime<Utc>,
    session_id: Option<i64>,
    owner_id: Option<i64>,
    language: Option<Language>,
    role: Option<Role>,
}

/// The login of `token_hash` and, with `session`, its role there: one query.
async fn resolve(
    pool: &PgPool,
    token_hash: &[u8],
    session: Option<Uuid>,
) -> Result<Option<Row>, AppError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS}, a.last_used_at < now() - interval '1 hour' AS stale,
                a.expires_at, s.id AS session_id, s.user_id AS owner_id, s.language, r.role
         FROM auth_sessions a
         JOIN users u ON u.id = a.user_id
         LEFT JOIN code_sessions s ON s.uuid = $2
         LEFT JOIN session_roles r ON r.session_id = s.id AND r.user_id = a.user_id
         WHERE a.token_hash = $1 AND a.expires_at > now()"
    ))
    .bind(token_hash)
    .bind(session)
    .fetch_optional(pool)
    .await?)
}

impl Row {
    fn login(&self, token_hash: Vec<u8>) -> Login {
        Login {
            id: self.user.id,
            user: self.user.user(),
            token_hash,
            expires_at: self.expires_at,
        }
    }

    fn grant(
        self,
        token_hash: Vec<u8>,
        session: Uuid,
        need: Capability,
    ) -> Result<Grant, AppError> {
        let login = self.login(token_hash);
        let (Some(session_id), Some(owner_id), Some(language), Some(role)) =
            (self.session_id, self.owner_id, self.language, self.role)
        else {
            return Err(no_such_session());
        };
        let grant = Grant {
            login,
            session,
            session_id,
            owner_id,
            language,
            role,
        };
        grant.require(need)?;
        Ok(grant)
    }
}

/// Resolves the request's login (and role on `session`), renewing a login in use.
async fn request(
    state: &AppState,
    session: Option<Uuid>,
) -> Result<Option<(Row, Vec<u8>)>, AppError> {
    let Some(token) = login::cookie_token() else {
        return Ok(None);
    };
    let hash = login::token_hash(&token);
    let Some(row) = resolve(&state.pool, &hash, session).await? else {
        return Ok(None);
    };
    if row.stale {
        login::renew(state, &token).await?;
    }
    Ok(Some((row, hash)))
}

/// The signed-in caller of a server function, if any.
pub async fn caller_if_any() -> Result<(AppState, Option<Login>), AppError> {
    let state = AppState::current()?;
    let login = request(&state, None)
        .await?
        .map(|(row, hash)| row.login(hash));
    Ok((state, login))
}

/// The signed-in caller of a server function, or 401.
pub async fn caller() -> Result<(AppState, Login), AppError> {
    match caller_if_any().await? {
        (state, Some(login)) => Ok((state, login)),
        _ => Err(sign_in_first()),
    }
}

/// The caller's grant on `session`, which must allow `need`: 401 without a login,
/// 404 without a role there, 403 without the capability.
pub async fn session(session: Uuid, need: Capability) -> Result<(AppState, Grant), AppError> {
    let state = AppState::current()?;
    let (row, hash) = request(&state, Some(session))
        .await?
        .ok_or_else(sign_in_first)?;
    let grant = row.grant(hash, session, need)?;
    Ok((state, grant))
}

/// The grant of a request outside the server functions (sockets, streams,
/// downloads), from its headers.
pub async fn session_in(
    pool: &PgPool,
    headers: &http::HeaderMap,
    session: Uuid,
    need: Capability,
) -> Result<Grant, AppError> {
    let hash = login::token_in(headers)
        .map(|t| login::token_hash(&t))
        .ok_or_else(sign_in_first)?;
    recheck(pool, &hash, session, need).await
}

/// The grant of a login already known by its token's hash (an open socket
/// checking whether it may stay open).
pub async fn recheck(
    pool: &PgPool,
    token_hash: &[u8],
    session: Uuid,
    need: Capability,
) -> Result<Grant, AppError> {
    let row = resolve(pool, token_hash, Some(session))
        .await?
        .ok_or_else(sign_in_first)?;
    row.grant(token_hash.to_vec(), session, need)
}

/// The Postgres channel on which changes of access are announced.
pub const CHANNEL: &str = "webide_access";

/// Whose access may have changed: every socket or stream it concerns re-checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Anyone's on this session (sharing changed, the session was deleted).
    Session(Uuid),
    /// Everything of this user's (all their logins ended).
    User(i64),
    /// One login ended (hex of its token's hash).
    Token(String),
}

/// Announces `change` when the transaction it runs in commits.
pub async fn announce<'e>(
    db: impl sqlx::PgExecutor<'e>,
    change: &Change,
) -> Result<(), sqlx::Error> {
    let payload = serde_json::to_string(change).expect("a plain enum serialises");
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(payload)
        .execute(db)
        .await?;
    Ok(())
}

/// The users whose role on `session` allows `need`: what others opened there is
/// closed when its opener is no longer among them.
pub async fn allowed(pool: &PgPool, session: Uuid, need: Capability) -> Result<Vec<i64>, AppError> {
    let roles: Vec<(i64, Role)> = sqlx::query_as(
        "SELECT r.user_id, r.role FROM session_roles r
         JOIN code_sessions s ON s.id = r.session_id WHERE s.uuid = $1",
    )
    .bind(session)
    .fetch_all(pool)
    .await?;
    Ok(roles
        .into_iter()
        .filter(|(_, role)| role.allows(need))
        .map(|(user, _)| user)
        .collect())
}
