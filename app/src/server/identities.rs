//! Accounts at providers linked to ours. A sign-in is started here (its flow
//! stored, its `state` sent to the browser in a cookie) and finished here: the
//! `state` the provider sends back must be the browser's own and a flow not yet
//! used, ten minutes old at most. Then the identity signs in, makes an account,
//! or is linked to the signed-in user who started the flow. An identity whose
//! email is an existing account's is never linked by that alone: the person
//! signs in to that account first and links from the settings.

use super::access::{self, Login};
use super::auth;
use super::digest::sha256;
use super::login::{self, UserRow, USER_COLUMNS};
use super::providers::Profile;
use super::state::AppState;
use crate::error::constraint_of;
use crate::wire::auth::{rules, Identity, SignInMethods};
use crate::AppError;

/// The cookie that binds a flow to the browser that started it.
const FLOW_COOKIE: &str = "webide_signin";
const FLOW_SECS: i64 = 600;

/// Where the browser goes once a callback is done.
pub enum Landing {
    SignedIn,
    Linked(String),
}

/// Starts a sign-in with `provider` (or, with `link`, adding it to the caller's
/// account): the URL to send the browser to.
pub async fn start(provider: &str, link: bool, origin: &str) -> Result<String, AppError> {
    let state = AppState::current()?;
    let providers = &state.settings.providers;
    let p = providers.get(provider)?;
    let link_user = if link {
        Some(access::caller().await?.1.id)
    } else {
        None
    };
    let a = providers
        .authorize(p, &providers.redirect_uri(origin))
        .await?;
    sqlx::query("DELETE FROM sign_in_flows WHERE made_at < now() - make_interval(secs => $1)")
        .bind(FLOW_SECS as f64)
        .execute(&state.pool)
        .await?;
    sqlx::query(
        "INSERT INTO sign_in_flows (state_hash, provider, verifier, nonce, link_user)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(sha256(a.state.as_bytes()).to_vec())
    .bind(&p.id)
    .bind(&a.verifier)
    .bind(&a.nonce)
    .bind(link_user)
    .execute(&state.pool)
    .await?;
    login::send_cookie(&state, FLOW_COOKIE, &a.state, FLOW_SECS, true);
    Ok(a.url)
}

/// What a provider sends the browser back with.
#[derive(Debug, Default)]
pub struct Callback {
    pub state: String,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub iss: Option<String>,
}

/// Finishes a sign-in the provider sent back; `origin` as given to `start`.
pub async fn finish(cb: Callback, origin: &str) -> Result<Landing, AppError> {
    let state = AppState::current()?;
    let parts = leptos::prelude::use_context::<http::request::Parts>();
    let cookie = parts.and_then(|p| login::cookie_in(&p.headers, FLOW_COOKIE));
    login::send_cookie(&state, FLOW_COOKIE, "", 0, true);
    // A callback this browser did not start (a forged or stolen `state`) ends here.
    if cookie.as_deref() != Some(cb.state.as_str()) || cb.state.is_empty() {
        return Err(AppError::forbidden(
            "this sign-in was not started in this browser; start again",
        ));
    }
    let flow: Option<(String, String, String, Option<i64>, bool)> = sqlx::query_as(
        "DELETE FROM sign_in_flows WHERE state_hash = $1
         RETURNING provider, verifier, nonce, link_user,
                   made_at > now() - make_interval(secs => $2)",
    )
    .bind(sha256(cb.state.as_bytes()).to_vec())
    .bind(FLOW_SECS as f64)
    .fetch_optional(&state.pool)
    .await?;
    let Some((provider, verifier, nonce, link_user, _)) = flow.filter(|f| f.4) else {
        return Err(AppError::forbidden(
            "this sign-in was already used or has expired; start again",
        ));
    };
    let providers = &state.settings.providers;
    let p = providers.get(&provider)?;
    if let Some(error) = cb.error {
        let said = cb.error_description.unwrap_or(error);
        return Err(AppError::unauthorized(format!(
            "{} did not sign you in: {said}",
            p.name
        )));
    }
    let code = cb
        .code
        .ok_or_else(|| AppError::bad_request("the provider sent no code back"))?;
    let profile = providers
        .finish(
            p,
            &providers.redirect_uri(origin),
            code,
            verifier,
            nonce,
            cb.iss.as_deref(),
        )
        .await?;
    match link_user {
        Some(user) => {
            link(&state, user, &profile).await?;
            Ok(Landing::Linked(p.name.clone()))
        }
        None => {
            sign_in(&state, &profile).await?;
            Ok(Landing::SignedIn)
        }
    }
}

/// The user an identity belongs to, if it is linked.
async fn owner(state: &AppState, profile: &Profile) -> Result<Option<i64>, AppError> {
    Ok(
        sqlx::query_scalar("SELECT user_id FROM identities WHERE provider = $1 AND subject = $2")
            .bind(&profile.provider)
            .bind(&profile.subject)
            .fetch_optional(&state.pool)
            .await?,
    )
}

/// Signs in through a linked identity, or makes an account for a new one (a
/// signed-in guest becomes it, keeping their sessions).
async fn sign_in(state: &AppState, profile: &Profile) -> Result<(), AppError> {
    if let Some(user) = owner(state, profile).await? {
        sqlx::query("UPDATE identities SET email = $3 WHERE provider = $1 AND subject = $2")
            .bind(&profile.provider)
            .bind(&profile.subject)
            .bind(&profile.email)
            .execute(&state.pool)
            .await?;
        tracing::info!(provider = %profile.provider, user, "signed in with a provider");
        return auth::start_login(state, user).await;
    }
    if let Some(email) = &profile.email {
        let taken: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($1))",
        )
        .bind(email)
        .fetch_one(&state.pool)
        .await?;
        if taken {
            return Err(AppError::conflict(format!(
                "an account with the email {email} already exists. Sign in to it, then link \
                 this provider in Settings"
            )));
        }
    }
    let (_, current) = access::caller_if_any().await?;
    let guest = current.filter(|c| c.user.is_guest).map(|c| c.id);
    if guest.is_none() {
        auth::limit_signups(state, "register").await?;
    }
    let username = free_username(state, profile).await?;
    let mut tx = state.pool.begin().await?;
    let sql = match guest {
        Some(_) => format!(
            "UPDATE users u SET username = $2, email = $3, display_name = $4,
                    avatar_url = $5, is_guest = false, updated_at = now()
             WHERE id = $1 RETURNING {USER_COLUMNS}"
        ),
        None => format!(
            "INSERT INTO users AS u (username, email, display_name, avatar_url)
             VALUES ($1, $2, $3, $4) RETURNING {USER_COLUMNS}"
        ),
    };
    let mut made = sqlx::query_as::<_, UserRow>(&sql);
    if let Some(id) = guest {
        made = made.bind(id);
    }
    let made = made
        .bind(&username)
        .bind(&profile.email)
        .bind(profile.name.as_deref().map(|n| clip(n, 200)))
        .bind(
            profile
                .avatar
                .as_deref()
                .filter(|u| u.len() <= 2000 && u.starts_with("https://")),
        )
        .fetch_one(&mut *tx)
        .await;
    let user = made.map_err(|e| match constraint_of(&e) {
        Some("users_username_key") => AppError::conflict("that username was just taken; try again"),
        Some("users_email_key") => AppError::conflict("an account with that email already exists"),
        _ => e.into(),
    })?;
    insert_identity(&mut tx, user.id, profile).await?;
    tx.commit().await?;
    tracing::info!(provider = %profile.provider, user = %user.username, "account made with a provider");
    auth::start_login(state, user.id).await
}

/// Links an identity to `user`, who started the flow signed in.
async fn link(state: &AppState, user: i64, profile: &Profile) -> Result<(), AppError> {
    match owner(state, profile).await? {
        Some(u) if u == user => return Ok(()),
        Some(_) => {
            return Err(AppError::conflict(
                "that account at the provider is linked to another user here",
            ))
        }
        None => {}
    }
    let mut tx = state.pool.begin().await?;
    insert_identity(&mut tx, user, profile).await?;
    tx.commit().await?;
    tracing::info!(provider = %profile.provider, user, "provider linked");
    Ok(())
}

async fn insert_identity(
    tx: &mut sqlx::PgConnection,
    user: i64,
    profile: &Profile,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO identities (user_id, provider, subject, email) VALUES ($1, $2, $3, $4)",
    )
    .bind(user)
    .bind(&profile.provider)
    .bind(&profile.subject)
    .bind(&profile.email)
    .execute(tx)
    .await
    .map_err(|e| match constraint_of(&e) {
        Some("identities_user_id_provider_key") => AppError::conflict(
            "another account at this provider is linked already; unlink it first",
        ),
        Some("identities_provider_subject_key") => {
            AppError::conflict("that account at the provider is linked to another user here")
        }
        _ => e.into(),
    })?;
    Ok(())
}

fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// A username from what the provider calls the person, made valid and free.
async fn free_username(state: &AppState, profile: &Profile) -> Result<String, AppError> {
    let wanted = [
        profile.login.as_deref(),
        profile.email.as_deref().and_then(|e| e.split('@').next()),
        profile.name.as_deref(),
    ];
    let mut base: String = wanted
        .into_iter()
        .flatten()
        .map(|w| {
            w.chars()
                .filter_map(|c| match c {
                    c if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') => Some(c),
                    ' ' => Some('-'),
                    _ => None,
                })
                .take(28)
                .collect::<String>()
        })
        .find(|w| w.len() >= 3 && rules::username(w).is_ok())
        .unwrap_or_else(|| "user".into());
    if base.len() < 3 {
        base.push_str("-me");
    }
    let taken: Vec<String> = sqlx::query_scalar(
        "SELECT lower(username) FROM users WHERE lower(username) LIKE lower($1) || '%'",
    )
    .bind(base.replace('%', "").replace('_', "\\_"))
    .fetch_all(&state.pool)
    .await?;
    let free = |n: &String| !taken.contains(&n.to_lowercase());
    Ok(std::iter::once(base.clone())
        .chain((2..1000).map(|i| format!("{base}{i}")))
        .find(free)
        .unwrap_or_else(|| format!("{base}-{}", uuid::Uuid::new_v4().simple())[..32].to_string()))
}

/// How the caller can sign in.
pub async fn methods(state: &AppState, me: &Login) -> Result<SignInMethods, AppError> {
    let password: bool =
        sqlx::query_scalar("SELECT password_hash IS NOT NULL FROM users WHERE id = $1")
            .bind(me.id)
            .fetch_one(&state.pool)
            .await?;
    let rows: Vec<(String, Option<String>, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
        "SELECT provider, email, linked_at FROM identities WHERE user_id = $1 ORDER BY linked_at",
    )
    .bind(me.id)
    .fetch_all(&state.pool)
    .await?;
    let offered = state.settings.providers.offered();
    let name_of = |id: &str| {
        offered
            .iter()
            .find(|p| p.id == id)
            .map_or_else(|| id.to_string(), |p| p.name.clone())
    };
    let identities: Vec<Identity> = rows
        .into_iter()
        .map(|(provider, email, linked_at)| Identity {
            provider_name: name_of(&provider),
            provider,
            email,
            linked_at,
        })
        .collect();
    let linkable = offered
        .into_iter()
        .filter(|p| !identities.iter().any(|i| i.provider == p.id))
        .collect();
    Ok(SignInMethods {
        password,
        identities,
        linkable,
    })
}

/// Unlinks the caller's identity at `provider`, unless it is their last way to
/// sign in (the user row is locked, so two unlinks at once cannot both pass).
pub async fn unlink(
    state: &AppState,
    me: &Login,
    provider: &str,
) -> Result<SignInMethods, AppError> {
    let mut tx = state.pool.begin().await?;
    let password: bool =
        sqlx::query_scalar("SELECT password_hash IS NOT NULL FROM users WHERE id = $1 FOR UPDATE")
            .bind(me.id)
            .fetch_one(&mut *tx)
            .await?;
    let linked: Vec<String> =
        sqlx::query_scalar("SELECT provider FROM identities WHERE user_id = $1")
            .bind(me.id)
            .fetch_all(&mut *tx)
            .await?;
    if !linked.iter().any(|p| p == provider) {
        return Err(AppError::not_found(format!(
            "no {provider} account is linked"
        )));
    }
    if !password && linked.len() == 1 {
        return Err(AppError::conflict(
            "this is your only way to sign in: set a password or link another provider first",
        ));
    }
    sqlx::query("DELETE FROM identities WHERE user_id = $1 AND provider = $2")
        .bind(me.id)
        .bind(provider)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(provider, user = %me.user.username, "provider unlinked");
    methods(state, me).await
}

/// `s` for a URL's query.
pub fn encode(s: &str) -> String {
    openidconnect::url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Sends the browser back to where it came from with why a sign-in failed: the
/// settings for a signed-in user (linking), else the sign-in page. Where to.
pub async fn failed(e: AppError) -> String {
    tracing::info!("sign-in with a provider refused: {}", e.message);
    let signed_in = matches!(access::caller_if_any().await, Ok((_, Some(l))) if !l.user.is_guest);
    let page = if signed_in { "/settings" } else { "/login" };
    let to = format!("{page}?error={}", encode(&e.message));
    login::send_to(&to);
    to
}
