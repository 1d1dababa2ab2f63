//! Users' own model keys: saved sealed (sealing.rs), listed by provider, label
//! and last four characters, deleted; opened only to make a request. Keys are
//! their user's account data, reached by the caller's own id alone.

use super::{sealing::Sealer, Assistant};
use crate::wire::assistant::{KeyInfo, ModelProvider};
use crate::AppError;
use sqlx::PgPool;
use uuid::Uuid;

/// Keys one user may keep.
pub const MAX_KEYS: i64 = 20;

/// A key ready for a request.
pub struct Usable {
    pub provider: ModelProvider,
    pub base_url: String,
    pub model: String,
    pub key: String,
}

fn bound_to(uuid: Uuid, user: i64) -> String {
    format!("{uuid}:{user}")
}

pub struct NewKey {
    pub provider: String,
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub label: String,
    pub key: String,
}

pub async fn set(
    pool: &PgPool,
    assistant: &Assistant,
    user: i64,
    new: NewKey,
) -> Result<KeyInfo, AppError> {
    let provider = ModelProvider::parse(new.provider.trim()).map_err(AppError::invalid)?;
    let label = new.label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(AppError::invalid(
            "a label of 1 to 100 characters is needed",
        ));
    }
    let key = new.key.trim();
    if key.len() < 8 || key.len() > 1000 || key.chars().any(char::is_whitespace) {
        return Err(AppError::invalid(
            "the key must be 8 to 1000 characters without spaces",
        ));
    }
    let model = new
        .model
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .unwrap_or(provider.default_model());
    if model.len() > 200 {
        return Err(AppError::invalid("the model's name is too long"));
    }
    let base_url = new
        .base_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    assistant
        .egress
        .check(base_url.unwrap_or(provider.default_base_url()))
        .await?;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM ai_keys WHERE user_id = $1")
        .bind(user)
        .fetch_one(pool)
        .await?;
    if count >= MAX_KEYS {
        return Err(AppError::too_many(format!(
            "you keep {MAX_KEYS} keys already: delete one first"
        )));
    }
    let uuid = Uuid::new_v4();
    let sealed = assistant.sealer.seal(key, &bound_to(uuid, user));
    let last4: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let info = sqlx::query_as(
        "INSERT INTO ai_keys (uuid, user_id, provider, base_url, model, label, last4, key_id, sealed)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         RETURNING uuid AS id, provider, base_url, model, label, last4, created_at",
    )
    .bind(uuid)
    .bind(user)
    .bind(provider)
    .bind(base_url)
    .bind(model)
    .bind(label)
    .bind(last4)
    .bind(sealed.key_id)
    .bind(sealed.bytes)
    .fetch_one(pool)
    .await?;
    Ok(info)
}

pub async fn list(pool: &PgPool, user: i64) -> Result<Vec<KeyInfo>, AppError> {
    Ok(sqlx::query_as(
        "SELECT uuid AS id, provider, base_url, model, label, last4, created_at
         FROM ai_keys WHERE user_id = $1 ORDER BY created_at DESC, id DESC",
    )
    .bind(user)
    .fetch_all(pool)
    .await?)
}

fn no_such_key() -> AppError {
    AppError::not_found("no such key")
}

pub async fn delete(pool: &PgPool, user: i64, id: Uuid) -> Result<(), AppError> {
    let gone = sqlx::query("DELETE FROM ai_keys WHERE uuid = $1 AND user_id = $2")
        .bind(id)
        .bind(user)
        .execute(pool)
        .await?
        .rows_affected();
    if gone == 0 {
        return Err(no_such_key());
    }
    Ok(())
}

/// The user's key `id`, or their newest one; `None` when they keep none.
pub async fn usable(
    pool: &PgPool,
    sealer: &Sealer,
    user: i64,
    id: Option<Uuid>,
) -> Result<Option<Usable>, AppError> {
    type Row = (Uuid, ModelProvider, Option<String>, String, String, Vec<u8>);
    let row: Option<Row> = sqlx::query_as(
        "SELECT uuid, provider, base_url, model, key_id, sealed FROM ai_keys
         WHERE user_id = $1 AND ($2::uuid IS NULL OR uuid = $2)
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(user)
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let Some((uuid, provider, base_url, model, key_id, sealed)) = row else {
        return match id {
            Some(_) => Err(no_such_key()),
            None => Ok(None),
        };
    };
    let key = sealer
        .open(&key_id, &sealed, &bound_to(uuid, user))
        .map_err(|e| AppError::internal(format!("key {uuid}: {e}")))?;
    Ok(Some(Usable {
        provider,
        base_url: base_url.unwrap_or_else(|| provider.default_base_url().into()),
        model,
        key,
    }))
}

/// Seals every key with the server's current key (after a rotation); returns
/// how many were moved.
pub async fn reseal(pool: &PgPool, sealer: &Sealer) -> Result<u64, AppError> {
    let rows: Vec<(i64, Uuid, i64, String, Vec<u8>)> =
        sqlx::query_as("SELECT id, uuid, user_id, key_id, sealed FROM ai_keys WHERE key_id <> $1")
            .bind(sealer.current_id())
            .fetch_all(pool)
            .await?;
    let mut moved = 0;
    for (id, uuid, user, key_id, sealed) in rows {
        let bound = bound_to(uuid, user);
        let key = sealer
            .open(&key_id, &sealed, &bound)
            .map_err(|e| AppError::internal(format!("key {uuid}: {e}")))?;
        let again = sealer.seal(&key, &bound);
        moved += sqlx::query(
            "UPDATE ai_keys SET key_id = $2, sealed = $3 WHERE id = $1 AND key_id = $4",
        )
        .bind(id)
        .bind(again.key_id)
        .bind(again.bytes)
        .bind(key_id)
        .execute(pool)
        .await?
        .rows_affected();
    }
    Ok(moved)
}
