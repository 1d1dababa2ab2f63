//! Public links' rows: made with a fresh token (only its hash is kept), listed
//! for the session's managers, revoked. Reading through a link is decided in
//! `access::link`.

use super::{access::Grant, login, state::AppState};
use crate::wire::links::{validate_expiry, CreatedLink, Link};
use crate::AppError;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine;
use sqlx::PgPool;
use uuid::Uuid;

/// A new link to the grant's session, expiring after `expires_in_secs` if given.
pub async fn create(
    state: &AppState,
    g: &Grant,
    expires_in_secs: Option<i64>,
) -> Result<CreatedLink, AppError> {
    let expiry = validate_expiry(expires_in_secs, state.settings.max_link_secs)?;
    let mut raw = [0u8; 32];
    OsRng.fill_bytes(&mut raw);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let id = Uuid::new_v4();
    let expires_at = sqlx::query_scalar(
        "INSERT INTO public_links (uuid, session_id, token_hash, created_by, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
         RETURNING expires_at",
    )
    .bind(id)
    .bind(g.session_id)
    .bind(login::token_hash(&token))
    .bind(g.login.id)
    .bind(expiry.map(|s| s as f64))
    .fetch_one(&state.pool)
    .await?;
    let url = format!("{}/p/{token}", origin(state));
    Ok(CreatedLink {
        id,
        token,
        url,
        expires_at,
    })
}

/// The session's links that still answer or have expired, newest first.
pub async fn list(pool: &PgPool, sid: i64) -> Result<Vec<Link>, AppError> {
    Ok(sqlx::query_as(
        "SELECT l.uuid AS id, l.created_at, l.expires_at, u.username AS created_by, l.views,
                l.last_viewed_at, COALESCE(l.expires_at <= now(), false) AS expired
         FROM public_links l LEFT JOIN users u ON u.id = l.created_by
         WHERE l.session_id = $1 AND l.revoked_at IS NULL
         ORDER BY l.created_at DESC, l.id DESC",
    )
    .bind(sid)
    .fetch_all(pool)
    .await?)
}

/// Revokes link `id` of the session: from now on it answers 404.
pub async fn revoke(pool: &PgPool, sid: i64, id: Uuid) -> Result<(), AppError> {
    let done = sqlx::query(
        "UPDATE public_links SET revoked_at = now()
         WHERE uuid = $1 AND session_id = $2 AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(sid)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::not_found("no such link in this session"));
    }
    Ok(())
}

/// Where the request came to: the links' URLs point there.
fn origin(state: &AppState) -> String {
    let host = leptos::prelude::use_context::<http::request::Parts>().and_then(|p| {
        p.headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_string)
    });
    match host {
        Some(h) if state.settings.secure_cookies => format!("https://{h}"),
        Some(h) => format!("http://{h}"),
        None => String::new(),
    }
}
