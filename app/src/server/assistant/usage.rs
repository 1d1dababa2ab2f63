//! The log of requests made to models (who, where, which model, the tokens the
//! provider reported, latency, cost where known), the totals a user sees, and
//! the daily allowance of tokens with the server's default model.

use super::models::Used;
use crate::server::state::AppState;
use crate::wire::assistant::{Quota, UsageRow};
use crate::AppError;
use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;

/// One request as it ended.
pub struct Entry<'a> {
    pub user: i64,
    pub session: i64,
    pub message: i64,
    pub by_default: bool,
    pub provider: &'a str,
    pub model: &'a str,
    pub used: &'a Used,
    pub latency_ms: i64,
    pub outcome: &'a str,
}

pub async fn record(pool: &PgPool, e: Entry<'_>) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO ai_requests (user_id, session_id, message_id, by_default, provider, model,
                                  tokens_in, tokens_out, cost_usd, latency_ms, outcome)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(e.user)
    .bind(e.session)
    .bind(e.message)
    .bind(e.by_default)
    .bind(e.provider)
    .bind(e.model)
    .bind(e.used.tokens_in)
    .bind(e.used.tokens_out)
    .bind(e.used.cost_usd)
    .bind(e.latency_ms)
    .bind(e.outcome)
    .execute(pool)
    .await?;
    Ok(())
}

/// The start of the next UTC day: when daily allowances reset.
pub fn next_reset(now: DateTime<Utc>) -> DateTime<Utc> {
    (now.date_naive() + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
}

/// The user's allowance with the default model today.
pub async fn quota(pool: &PgPool, user: i64, daily_tokens: i64) -> Result<Quota, AppError> {
    let now = Utc::now();
    let resets_at = next_reset(now);
    let used: i64 = sqlx::query_scalar(
        "SELECT COALESCE(sum(COALESCE(tokens_in, 0) + COALESCE(tokens_out, 0)), 0)::int8
         FROM ai_requests WHERE user_id = $1 AND by_default AND created_at >= $2",
    )
    .bind(user)
    .bind(resets_at - Duration::days(1))
    .fetch_one(pool)
    .await?;
    Ok(Quota {
        daily_tokens,
        used_today: used,
        resets_at,
    })
}

/// The user's allowance with the server's default model, if there is one.
pub async fn default_quota(state: &AppState, user: i64) -> Result<Option<Quota>, AppError> {
    match &state.settings.assistant.default_model {
        Some(d) => Ok(Some(quota(&state.pool, user, d.daily_tokens).await?)),
        None => Ok(None),
    }
}

/// 429 when the allowance is used up, with the seconds until it resets.
pub fn check(quota: &Quota) -> Result<(), AppError> {
    if quota.used_today < quota.daily_tokens {
        return Ok(());
    }
    let wait = (quota.resets_at - Utc::now()).num_seconds().max(1) as u64;
    Err(AppError {
        retry_after: Some(wait),
        ..AppError::too_many(format!(
            "your daily allowance of {} tokens with the server's model is used up; it resets \
             at {} UTC (in {} h {} min); a key of your own (Settings → Assistant) is not limited",
            quota.daily_tokens,
            quota.resets_at.format("%Y-%m-%d %H:%M"),
            wait / 3600,
            wait % 3600 / 60
        ))
    })
}

/// The user's totals per provider and model, since `since` (or ever).
pub async fn totals(
    pool: &PgPool,
    user: i64,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<UsageRow>, AppError> {
    Ok(sqlx::query_as(
        "SELECT provider, model, by_default, count(*) AS requests,
                COALESCE(sum(tokens_in), 0)::int8 AS tokens_in,
                COALESCE(sum(tokens_out), 0)::int8 AS tokens_out,
                sum(cost_usd) AS cost_usd
         FROM ai_requests WHERE user_id = $1 AND ($2::timestamptz IS NULL OR created_at >= $2)
         GROUP BY provider, model, by_default ORDER BY provider, model, by_default",
    )
    .bind(user)
    .bind(since)
    .fetch_all(pool)
    .await?)
}
