//! The history's retention, enforced by a periodic sweep: every version is kept
//! for `full_days`, then one a day; deleted items are recoverable for `full_days`;
//! a session whose history grows past `max_session_bytes` loses its oldest
//! versions first. The newest version of every file, a checkpoint's contents and
//! the versions `file_version_kept` names (a review's) are never dropped. What
//! goes is recorded in `history_pruned` for the user and logged.

use super::blobs;
use crate::AppError;
use sqlx::PgPool;

#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub full_days: i64,
    pub max_session_bytes: i64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub versions: u64,
    pub deleted_items: u64,
    pub blobs: u64,
}

/// Records what `dropped` (a CTE of deleted versions with session_id, file_key,
/// path, created_at) took, under `reason`; returns how many versions went.
const RECORD: &str =
    "INSERT INTO history_pruned (session_id, file_key, path, versions, oldest, newest, reason)
     SELECT session_id, file_key, (array_agg(path ORDER BY created_at DESC))[1], count(*),
            min(created_at), max(created_at), $REASON
     FROM dropped GROUP BY session_id, file_key";

/// Versions that may go: not the newest of their file, not kept for a review.
const DROPPABLE: &str = "NOT file_version_kept(v.id)
     AND v.id <> (SELECT max(n.id) FROM file_versions n
                  WHERE n.session_id = v.session_id AND n.file_key = v.file_key)";

pub async fn sweep(pool: &PgPool, r: Retention) -> Result<Swept, AppError> {
    let mut swept = Swept::default();
    let days = r.full_days as i32;

    // Deleted items past the retention, with the versions only they held on to.
    let (items, versions): (i64, i64) = sqlx::query_as(&format!(
        "WITH expired AS (
             DELETE FROM deleted_items WHERE deleted_at < now() - make_interval(days => $1)
             RETURNING session_id, file_key, path),
         dropped AS (
             DELETE FROM file_versions v USING (SELECT DISTINCT session_id, file_key FROM expired) e
             WHERE v.session_id = e.session_id AND v.file_key = e.file_key
               AND NOT file_version_kept(v.id)
               AND NOT EXISTS (SELECT 1 FROM workspace_items i
                               WHERE i.session_id = e.session_id AND i.file_key = e.file_key)
               AND NOT EXISTS (SELECT 1 FROM deleted_items d
                               WHERE d.session_id = e.session_id AND d.file_key = e.file_key
                                 AND d.deleted_at >= now() - make_interval(days => $1))
             RETURNING v.session_id, v.file_key, v.path, v.created_at),
         recorded AS ({})
         SELECT (SELECT count(*) FROM expired), (SELECT count(*) FROM dropped)",
        RECORD.replace("$REASON", "'deleted'")
    ))
    .bind(days)
    .fetch_one(pool)
    .await?;
    swept.deleted_items += items as u64;
    swept.versions += versions as u64;

    // Past the full retention, one version a day.
    let thinned: i64 = sqlx::query_scalar(&format!(
        "WITH ranked AS (
             SELECT id, row_number() OVER (
                 PARTITION BY session_id, file_key, date_trunc('day', created_at AT TIME ZONE 'UTC')
                 ORDER BY id DESC) AS nth
             FROM file_versions WHERE created_at < now() - make_interval(days => $1)),
         dropped AS (
             DELETE FROM file_versions v USING ranked r
             WHERE v.id = r.id AND r.nth > 1 AND {DROPPABLE}
             RETURNING v.session_id, v.file_key, v.path, v.created_at),
         recorded AS ({})
         SELECT count(*) FROM dropped",
        RECORD.replace("$REASON", "'thinned'")
    ))
    .bind(days)
    .fetch_one(pool)
    .await?;
    swept.versions += thinned as u64;
    swept.blobs += collect(pool).await?;

    // Over the size limit: the oldest versions go first, a batch at a time.
    let over: Vec<i64> = sqlx::query_scalar(
        "SELECT session_id FROM blobs GROUP BY session_id HAVING sum(octet_length(data)) > $1",
    )
    .bind(r.max_session_bytes)
    .fetch_all(pool)
    .await?;
    for sid in over {
        loop {
            let stored: i64 = sqlx::query_scalar(
                "SELECT COALESCE(sum(octet_length(data)), 0)::int8 FROM blobs WHERE session_id = $1",
            )
            .bind(sid)
            .fetch_one(pool)
            .await?;
            if stored <= r.max_session_bytes {
                break;
            }
            let dropped: i64 = sqlx::query_scalar(&format!(
                "WITH oldest AS (
                     SELECT v.id FROM file_versions v WHERE v.session_id = $1 AND {DROPPABLE}
                     ORDER BY v.created_at, v.id LIMIT 50),
                 dropped AS (
                     DELETE FROM file_versions v USING oldest o WHERE v.id = o.id
                     RETURNING v.session_id, v.file_key, v.path, v.created_at),
                 recorded AS ({})
                 SELECT count(*) FROM dropped",
                RECORD.replace("$REASON", "'quota'")
            ))
            .bind(sid)
            .fetch_one(pool)
            .await?;
            swept.versions += dropped as u64;
            let freed = collect(pool).await?;
            swept.blobs += freed;
            if dropped == 0 {
                tracing::warn!(
                    session_id = sid,
                    stored,
                    "history over its limit with nothing left to drop"
                );
                break;
            }
        }
    }
    if swept != Swept::default() {
        tracing::info!(
            versions = swept.versions,
            deleted_items = swept.deleted_items,
            blobs = swept.blobs,
            "history pruned"
        );
    }
    Ok(swept)
}

/// Drops the contents nothing refers to any more (no version, deleted item or
/// checkpoint), re-encoding what was compressed against them first.
async fn collect(pool: &PgPool) -> Result<u64, AppError> {
    let orphans: Vec<(i64, String)> = sqlx::query_as(
        "SELECT b.session_id, b.hash FROM blobs b
         WHERE NOT EXISTS (SELECT 1 FROM file_versions v WHERE v.session_id = b.session_id AND v.hash = b.hash)
           AND NOT EXISTS (SELECT 1 FROM deleted_items d WHERE d.session_id = b.session_id AND d.hash = b.hash)
           AND NOT EXISTS (SELECT 1 FROM checkpoint_items c WHERE c.session_id = b.session_id AND c.hash = b.hash)
         ORDER BY b.session_id, b.created_at DESC",
    )
    .fetch_all(pool)
    .await?;
    let mut tx = pool.begin().await?;
    let mut cache = blobs::Cache::default();
    for (sid, hash) in &orphans {
        blobs::unbase(&mut tx, *sid, hash, &mut cache).await?;
        sqlx::query("DELETE FROM blobs WHERE session_id = $1 AND hash = $2")
            .bind(sid)
            .bind(hash)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(orphans.len() as u64)
}
