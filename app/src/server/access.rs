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
//! - a review request is reached through its session's role (the submitting side
//!   and viewers) or as a reviewer (`review`): the same 401/404/403.
//! - changes of access (sharing, sign-out, a deleted session, a review's
//!   assignment) are announced on a Postgres channel, so open sockets and streams
//!   on every replica re-check at once.

use super::login::{self, UserRow, USER_COLUMNS};
use super::state::AppState;
use crate::wire::access::{Capability, Role};
use crate::wire::reviews::{Priority, Status};
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
    session_uuid: Option<Uuid>,
    session_id: Option<i64>,
    owner_id: Option<i64>,
    language: Option<Language>,
    role: Option<Role>,
    /// With a conversation or an answer: the conversation and its author
    /// (absent from the review query's row).
    #[sqlx(default)]
    conversation_id: Option<i64>,
    #[sqlx(default)]
    author_id: Option<i64>,
}

/// What a grant is asked for: a session, or the session a run, an assistant
/// conversation or one of its answers belongs to. Conversations are their
/// author's alone: to anyone else, whatever their role, they do not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Session(Uuid),
    Run(Uuid),
    Conversation(Uuid),
    Answer(Uuid),
}

impl Target {
    /// The answer when there is no role there (or no such thing).
    fn missing(self) -> AppError {
        match self {
            Self::Session(_) => no_such_session(),
            Self::Run(_) => AppError::not_found("no such run"),
            Self::Conversation(_) => AppError::not_found("no such conversation"),
            Self::Answer(_) => AppError::not_found("no such answer"),
        }
    }

    fn authored(self) -> bool {
        matches!(self, Self::Conversation(_) | Self::Answer(_))
    }
}

/// The login of `token_hash` and, with a target, its role there: one query.
async fn resolve(
    pool: &PgPool,
    token_hash: &[u8],
    target: Option<Target>,
) -> Result<Option<Row>, AppError> {
    let (mut session, mut run, mut conversation, mut answer) = (None, None, None, None);
    match target {
        Some(Target::Session(s)) => session = Some(s),
        Some(Target::Run(r)) => run = Some(r),
        Some(Target::Conversation(c)) => conversation = Some(c),
        Some(Target::Answer(m)) => answer = Some(m),
        None => {}
    }
    Ok(sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS}, a.last_used_at < now() - interval '1 hour' AS stale,
                a.expires_at, s.uuid AS session_uuid, s.id AS session_id,
                s.user_id AS owner_id, s.language, r.role,
                ac.id AS conversation_id, ac.user_id AS author_id
         FROM auth_sessions a
         JOIN users u ON u.id = a.user_id
         LEFT JOIN ai_conversations ac ON ac.id = COALESCE(
             (SELECT id FROM ai_conversations WHERE uuid = $4),
             (SELECT conversation_id FROM ai_messages WHERE uuid = $5))
         LEFT JOIN code_sessions s ON s.id = COALESCE(
             (SELECT id FROM code_sessions WHERE uuid = $2),
             (SELECT session_id FROM runs WHERE uuid = $3),
             ac.session_id)
         LEFT JOIN session_roles r ON r.session_id = s.id AND r.user_id = a.user_id
         WHERE a.token_hash = $1 AND a.expires_at > now()"
    ))
    .bind(token_hash)
    .bind(session)
    .bind(run)
    .bind(conversation)
    .bind(answer)
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
        target: Target,
        need: Capability,
    ) -> Result<Grant, AppError> {
        let login = self.login(token_hash);
        if target.authored() && self.author_id != Some(login.id) {
            return Err(target.missing());
        }
        let (Some(session), Some(session_id), Some(owner_id), Some(language), Some(role)) = (
            self.session_uuid,
            self.session_id,
            self.owner_id,
            self.language,
            self.role,
        ) else {
            return Err(target.missing());
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

/// What the login query of a request found.
trait Resolved {
    /// The login has not been renewed for a while.
    fn stale(&self) -> bool;
}

impl Resolved for Row {
    fn stale(&self) -> bool {
        self.stale
    }
}

/// Resolves the request's login with `resolve` (given the token's hash), renewing
/// a login in use.
async fn request<R: Resolved, F: std::future::Future<Output = Result<Option<R>, AppError>>>(
    state: &AppState,
    resolve: impl FnOnce(Vec<u8>) -> F,
) -> Result<Option<(R, Vec<u8>)>, AppError> {
    let Some(token) = login::cookie_token() else {
        return Ok(None);
    };
    let hash = login::token_hash(&token);
    let Some(row) = resolve(hash.clone()).await? else {
        return Ok(None);
    };
    if row.stale() {
        login::renew(state, &token).await?;
    }
    Ok(Some((row, hash)))
}

/// The hash of the login token in `headers` (a socket's, a stream's), or 401.
fn token_hash_in(headers: &http::HeaderMap) -> Result<Vec<u8>, AppError> {
    login::token_in(headers)
        .map(|t| login::token_hash(&t))
        .ok_or_else(sign_in_first)
}

/// The signed-in caller of a server function, if any.
pub async fn caller_if_any() -> Result<(AppState, Option<Login>), AppError> {
    let state = AppState::current()?;
    let pool = state.pool.clone();
    let login = request(
        &state,
        |hash| async move { resolve(&pool, &hash, None).await },
    )
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
    grant(Target::Session(session), need).await
}

/// The caller's grant on the session of run `run`: the same answers, 404 "no
/// such run" without a role there.
pub async fn run(run: Uuid, need: Capability) -> Result<(AppState, Grant), AppError> {
    grant(Target::Run(run), need).await
}

/// The caller's grant on the session of their assistant conversation
/// `conversation`, and the conversation's database id: 404 "no such
/// conversation" unless it is the caller's own and they keep a role there.
pub async fn conversation(
    conversation: Uuid,
    need: Capability,
) -> Result<(AppState, Grant, i64), AppError> {
    let (state, grant, id) = grant_with(Target::Conversation(conversation), need).await?;
    Ok((
        state,
        grant,
        id.ok_or_else(|| Target::Conversation(conversation).missing())?,
    ))
}

/// The caller's grant through one of their assistant answers.
pub async fn answer(answer: Uuid, need: Capability) -> Result<(AppState, Grant), AppError> {
    grant(Target::Answer(answer), need).await
}

async fn grant(target: Target, need: Capability) -> Result<(AppState, Grant), AppError> {
    let (state, grant, _) = grant_with(target, need).await?;
    Ok((state, grant))
}

async fn grant_with(
    target: Target,
    need: Capability,
) -> Result<(AppState, Grant, Option<i64>), AppError> {
    let state = AppState::current()?;
    let pool = state.pool.clone();
    let (row, hash) = request(&state, |hash| async move {
        resolve(&pool, &hash, Some(target)).await
    })
    .await?
    .ok_or_else(sign_in_first)?;
    let conversation = row.conversation_id;
    let grant = row.grant(hash, target, need)?;
    Ok((state, grant, conversation))
}

/// The grant of a request outside the server functions (sockets, streams,
/// downloads), from its headers.
pub async fn session_in(
    pool: &PgPool,
    headers: &http::HeaderMap,
    session: Uuid,
    need: Capability,
) -> Result<Grant, AppError> {
    recheck(pool, &token_hash_in(headers)?, session, need).await
}

/// The grant on a run's session of a request outside the server functions
/// (the run's stream).
pub async fn run_in(
    pool: &PgPool,
    headers: &http::HeaderMap,
    run: Uuid,
    need: Capability,
) -> Result<Grant, AppError> {
    recheck_target(pool, &token_hash_in(headers)?, Target::Run(run), need).await
}

/// The grant through an assistant answer of a request outside the server
/// functions (the answer's stream): its author's alone.
pub async fn answer_in(
    pool: &PgPool,
    headers: &http::HeaderMap,
    answer: Uuid,
    need: Capability,
) -> Result<Grant, AppError> {
    recheck_target(pool, &token_hash_in(headers)?, Target::Answer(answer), need).await
}

/// The grant of a login already known by its token's hash (an open socket
/// checking whether it may stay open).
pub async fn recheck(
    pool: &PgPool,
    token_hash: &[u8],
    session: Uuid,
    need: Capability,
) -> Result<Grant, AppError> {
    recheck_target(pool, token_hash, Target::Session(session), need).await
}

pub async fn recheck_target(
    pool: &PgPool,
    token_hash: &[u8],
    target: Target,
    need: Capability,
) -> Result<Grant, AppError> {
    let row = resolve(pool, token_hash, Some(target))
        .await?
        .ok_or_else(sign_in_first)?;
    row.grant(token_hash.to_vec(), target, need)
}

/// What the holder of a public link may read: one session's current files,
/// nothing else (no history, terminals, runs or other sessions).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkGrant {
    pub session: Uuid,
    pub session_id: i64,
    pub name: String,
    pub owner: String,
    pub language: Language,
}

pub fn no_such_link() -> AppError {
    AppError::not_found("no such link")
}

/// The session that the public link `token` reads, counting a view of it when
/// `view`: 404 for a token that is unknown, revoked or expired, alike.
pub async fn link(pool: &PgPool, token: &str, view: bool) -> Result<LinkGrant, AppError> {
    // Ours are 43 characters; anything much longer is no token of ours.
    if token.is_empty() || token.len() > 128 {
        return Err(no_such_link());
    }
    let live =
        "token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())";
    let found = if view {
        format!(
            "WITH l AS (UPDATE public_links SET views = views + 1, last_viewed_at = now()
                        WHERE {live} RETURNING session_id)"
        )
    } else {
        format!("WITH l AS (SELECT session_id FROM public_links WHERE {live})")
    };
    sqlx::query_as(&format!(
        "{found}
         SELECT s.uuid AS session, s.id AS session_id, s.name, o.username AS owner, s.language
         FROM l JOIN code_sessions s ON s.id = l.session_id JOIN users o ON o.id = s.user_id"
    ))
    .bind(login::token_hash(token))
    .fetch_optional(pool)
    .await?
    .ok_or_else(no_such_link)
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
    /// A review request changed (its pages refresh; its reviewer may have changed).
    Review(Uuid),
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

/// A review request as the access decision sees it.
#[derive(Debug, Clone)]
pub struct ReviewRef {
    pub id: i64,
    pub uuid: Uuid,
    pub status: Status,
    pub priority: Priority,
    pub submitted_by: i64,
    pub assigned_to: Option<i64>,
}

/// What a login may do with one review request: `grant.role` is its role there
/// (`review_role`), `grant.session` the reviewed session.
#[derive(Debug, Clone)]
pub struct ReviewGrant {
    pub grant: Grant,
    pub review: ReviewRef,
}

impl ReviewGrant {
    pub fn require(&self, need: Capability) -> Result<(), AppError> {
        self.grant.require(need)
    }

    pub fn level(&self) -> i16 {
        self.grant.login.user.reviewer_level
    }

    pub fn assigned(&self) -> bool {
        self.review.assigned_to == Some(self.grant.login.id)
    }
}

/// A login's role on a review request, from its role on the session and its
/// reviewer level: the submitting side (editors and up) acts for the request and
/// never reviews it; the assigned reviewer and seniors review it; other reviewers
/// may see an unclaimed pending one in the queue; viewers read it; nobody else
/// has it.
pub fn review_role(session_role: Option<Role>, me: i64, level: i16, r: &ReviewRef) -> Option<Role> {
    if let Some(role) = session_role.filter(|r| r.submits()) {
        return Some(role);
    }
    if me != r.submitted_by {
        if r.assigned_to == Some(me) || level >= 2 {
            return Some(Role::Reviewer);
        }
        if level >= 1 && r.status == Status::Pending && r.assigned_to.is_none() {
            return Some(Role::Candidate);
        }
    }
    session_role
}

pub fn no_such_review() -> AppError {
    AppError::not_found("no such review")
}

/// How a call names a review request: by its id, or by one of its comments.
#[derive(Debug, Clone, Copy)]
pub enum ReviewKey {
    Id(Uuid),
    Comment(Uuid),
}

#[derive(sqlx::FromRow)]
struct ReviewRow {
    #[sqlx(flatten)]
    row: Row,
    session_uuid: Option<Uuid>,
    review_id: Option<i64>,
    review_uuid: Option<Uuid>,
    status: Option<Status>,
    priority: Option<Priority>,
    submitted_by: Option<i64>,
    assigned_to: Option<i64>,
}

async fn resolve_review(
    pool: &PgPool,
    token_hash: &[u8],
    key: ReviewKey,
) -> Result<Option<ReviewRow>, AppError> {
    let (id, comment) = match key {
        ReviewKey::Id(u) => (Some(u), None),
        ReviewKey::Comment(u) => (None, Some(u)),
    };
    Ok(sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS}, a.last_used_at < now() - interval '1 hour' AS stale,
                a.expires_at, s.id AS session_id, s.uuid AS session_uuid, s.user_id AS owner_id,
                s.language, r.role, q.id AS review_id, q.uuid AS review_uuid, q.status,
                q.priority, q.submitted_by, q.assigned_to
         FROM auth_sessions a
         JOIN users u ON u.id = a.user_id
         LEFT JOIN review_requests q ON q.id = COALESCE(
             (SELECT id FROM review_requests WHERE uuid = $2),
             (SELECT review_id FROM review_comments WHERE uuid = $3))
         LEFT JOIN code_sessions s ON s.id = q.session_id
         LEFT JOIN session_roles r ON r.session_id = s.id AND r.user_id = a.user_id
         WHERE a.token_hash = $1 AND a.expires_at > now()"
    ))
    .bind(token_hash)
    .bind(id)
    .bind(comment)
    .fetch_optional(pool)
    .await?)
}

impl Resolved for ReviewRow {
    fn stale(&self) -> bool {
        self.row.stale
    }
}

impl ReviewRow {
    fn grant(self, token_hash: Vec<u8>, need: Capability) -> Result<ReviewGrant, AppError> {
        let login = self.row.login(token_hash);
        let review = match (
            self.review_id,
            self.review_uuid,
            self.status,
            self.priority,
            self.submitted_by,
        ) {
            (Some(id), Some(uuid), Some(status), Some(priority), Some(submitted_by)) => {
                Some(ReviewRef {
                    id,
                    uuid,
                    status,
                    priority,
                    submitted_by,
                    assigned_to: self.assigned_to,
                })
            }
            _ => None,
        };
        let (Some(review), Some(session), Some(session_id), Some(owner_id), Some(language)) = (
            review,
            self.session_uuid,
            self.row.session_id,
            self.row.owner_id,
            self.row.language,
        ) else {
            return Err(no_such_review());
        };
        let level = login.user.reviewer_level;
        let role =
            review_role(self.row.role, login.id, level, &review).ok_or_else(no_such_review)?;
        let grant = Grant {
            login,
            session,
            session_id,
            owner_id,
            language,
            role,
        };
        grant.require(need)?;
        Ok(ReviewGrant { grant, review })
    }
}

/// The caller's grant on a review request, which must allow `need`: 401 without
/// a login, 404 without a role there, 403 without the capability.
pub async fn review(key: ReviewKey, need: Capability) -> Result<(AppState, ReviewGrant), AppError> {
    let state = AppState::current()?;
    let pool = state.pool.clone();
    let (row, hash) = request(&state, |hash| async move {
        resolve_review(&pool, &hash, key).await
    })
    .await?
    .ok_or_else(sign_in_first)?;
    let grant = row.grant(hash, need)?;
    Ok((state, grant))
}

/// The grant on a review request of a request outside the server functions.
pub async fn review_in(
    pool: &PgPool,
    headers: &http::HeaderMap,
    review: Uuid,
    need: Capability,
) -> Result<ReviewGrant, AppError> {
    recheck_review(pool, &token_hash_in(headers)?, review, need).await
}

/// The grant on a review request of a login known by its token's hash.
pub async fn recheck_review(
    pool: &PgPool,
    token_hash: &[u8],
    review: Uuid,
    need: Capability,
) -> Result<ReviewGrant, AppError> {
    let row = resolve_review(pool, token_hash, ReviewKey::Id(review))
        .await?
        .ok_or_else(sign_in_first)?;
    row.grant(token_hash.to_vec(), need)
}
