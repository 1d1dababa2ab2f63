//! Checkpoints: named snapshots of a whole workspace (every path with its kind,
//! identity and content hash; the contents are the history's blobs, kept while
//! the checkpoint exists). Restoring one makes the workspace match it after an
//! automatic checkpoint of how it was, so a restore can itself be undone.

use super::access::Grant;
use super::blobs;
use super::content::Body;
use super::files::{self, Writer};
use super::history;
use super::state::{AppState, FileChange};
use crate::wire::files::ItemKind;
use crate::wire::history::{Checkpoint, CheckpointDiff, Restored, Source};
use crate::AppError;
use sqlx::{PgPool, Postgres, Transaction};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

const SELECT: &str = "SELECT c.uuid AS id, c.label, c.auto, u.username AS author, c.created_at,
        (SELECT count(*) FROM checkpoint_items i WHERE i.checkpoint_id = c.id AND i.kind = 'file') AS files
    FROM checkpoints c LEFT JOIN users u ON u.id = c.created_by";

pub fn validate_label(label: &str) -> Result<String, AppError> {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 200 || label.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "a checkpoint's label has 1 to 200 characters and no control characters",
        ));
    }
    Ok(label.to_string())
}

/// Snapshots the workspace as it is in `tx`.
pub async fn create(
    tx: &mut Transaction<'_, Postgres>,
    g: &Grant,
    label: &str,
    auto: bool,
) -> Result<Checkpoint, AppError> {
    let id = Uuid::new_v4();
    sqlx::query(
        "WITH c AS (INSERT INTO checkpoints (uuid, session_id, label, auto, created_by)
                    VALUES ($1, $2, $3, $4, $5) RETURNING id)
         INSERT INTO checkpoint_items (checkpoint_id, session_id, path, kind, file_key, hash)
         SELECT c.id, $2, full_path, kind, file_key, content_hash FROM workspace_items, c
         WHERE session_id = $2",
    )
    .bind(id)
    .bind(g.session_id)
    .bind(label)
    .bind(auto)
    .bind(g.login.id)
    .execute(&mut **tx)
    .await?;
    Ok(sqlx::query_as(&format!("{SELECT} WHERE c.uuid = $1"))
        .bind(id)
        .fetch_one(&mut **tx)
        .await?)
}

/// The session's checkpoints, newest first.
pub async fn list(pool: &PgPool, sid: i64) -> Result<Vec<Checkpoint>, AppError> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} WHERE c.session_id = $1 ORDER BY c.created_at DESC, c.id DESC"
    ))
    .bind(sid)
    .fetch_all(pool)
    .await?)
}

#[derive(sqlx::FromRow)]
struct Item {
    path: String,
    kind: ItemKind,
    file_key: i64,
    hash: Option<String>,
}

async fn items_of(
    db: &mut sqlx::PgConnection,
    sid: i64,
    checkpoint: Uuid,
) -> Result<Vec<Item>, AppError> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT id FROM checkpoints WHERE session_id = $1 AND uuid = $2")
            .bind(sid)
            .bind(checkpoint)
            .fetch_optional(&mut *db)
            .await?;
    let id = found.ok_or_else(|| AppError::not_found("no such checkpoint"))?;
    Ok(sqlx::query_as(
        "SELECT path, kind, file_key, hash FROM checkpoint_items WHERE checkpoint_id = $1
         ORDER BY path COLLATE \"C\"",
    )
    .bind(id)
    .fetch_all(&mut *db)
    .await?)
}

async fn items_now(db: &mut sqlx::PgConnection, sid: i64) -> Result<Vec<Item>, AppError> {
    Ok(sqlx::query_as(
        "SELECT full_path AS path, kind, file_key, content_hash AS hash FROM workspace_items
         WHERE session_id = $1 ORDER BY full_path COLLATE \"C\"",
    )
    .bind(sid)
    .fetch_all(&mut *db)
    .await?)
}

/// The files of `then` against those of `now`.
fn compare(then: &[Item], now: &[Item]) -> CheckpointDiff {
    let files = |items: &[Item]| -> BTreeMap<String, Option<String>> {
        items
            .iter()
            .filter(|i| i.kind == ItemKind::File)
            .map(|i| (i.path.clone(), i.hash.clone()))
            .collect()
    };
    let (then, now) = (files(then), files(now));
    CheckpointDiff {
        added: now
            .keys()
            .filter(|p| !then.contains_key(*p))
            .cloned()
            .collect(),
        removed: then
            .keys()
            .filter(|p| !now.contains_key(*p))
            .cloned()
            .collect(),
        changed: now
            .iter()
            .filter(|(p, h)| then.get(*p).is_some_and(|t| t != *h))
            .map(|(p, _)| p.clone())
            .collect(),
    }
}

pub async fn diff(pool: &PgPool, sid: i64, checkpoint: Uuid) -> Result<CheckpointDiff, AppError> {
    let mut db = pool.acquire().await?;
    let then = items_of(&mut db, sid, checkpoint).await?;
    let now = items_now(&mut db, sid).await?;
    Ok(compare(&then, &now))
}

/// Makes the workspace what it was at `checkpoint`, after checkpointing how it
/// is now (the returned `undo`).
pub async fn restore(state: &AppState, g: &Grant, checkpoint: Uuid) -> Result<Restored, AppError> {
    let (sid, uuid) = (g.session_id, g.session);
    let mut tx = state.pool.begin().await?;
    // One restore of a session at a time: the workspace is read, then rewritten.
    sqlx::query("SELECT id FROM code_sessions WHERE id = $1 FOR UPDATE")
        .bind(sid)
        .execute(&mut *tx)
        .await?;
    let then = items_of(&mut tx, sid, checkpoint).await?;
    let now = items_now(&mut tx, sid).await?;
    let diff = compare(&then, &now);
    let label: String = sqlx::query_scalar("SELECT label FROM checkpoints WHERE uuid = $1")
        .bind(checkpoint)
        .fetch_one(&mut *tx)
        .await?;
    let undo = create(&mut tx, g, &format!("Before restoring “{label}”"), true).await?;
    let w = Writer::of(g, Source::Restore);
    let mut changes = Vec::new();

    // What is not in the checkpoint, or is there as another kind, goes (recoverable).
    let wanted: BTreeMap<&str, &Item> = then.iter().map(|i| (i.path.as_str(), i)).collect();
    let extra: BTreeSet<&str> = now
        .iter()
        .filter(|i| wanted.get(i.path.as_str()).is_none_or(|t| t.kind != i.kind))
        .map(|i| i.path.as_str())
        .collect();
    let roots: Vec<String> = extra
        .iter()
        .filter(|p| {
            !extra
                .iter()
                .any(|a| crate::paths::is_within(p, a) && a != *p)
        })
        .map(|p| p.to_string())
        .collect();
    history::delete(&mut tx, sid, &roots, w).await?;
    changes.extend(roots.into_iter().map(|path| FileChange::Deleted { path }));

    // Then what differs or is missing comes back, parents first.
    let present: BTreeMap<&str, &Item> = now
        .iter()
        .filter(|i| !extra.contains(i.path.as_str()))
        .map(|i| (i.path.as_str(), i))
        .collect();
    let mut cache = blobs::Cache::default();
    for item in &then {
        let here = present.get(item.path.as_str());
        match (item.kind, here) {
            (ItemKind::Folder, Some(_)) => {}
            (ItemKind::Folder, None) => {
                let parent = files::ensure_parents(&mut tx, sid, uuid, &item.path).await?;
                let key = history::revive(&mut tx, sid, item.file_key).await?;
                let key = key.map(|r| r.file_key);
                files::insert_folder(&mut tx, sid, uuid, parent, &item.path, key).await?;
                changes.push(FileChange::Folder {
                    path: item.path.clone(),
                });
            }
            (ItemKind::File, Some(now)) if now.hash == item.hash => {}
            (ItemKind::File, here) => {
                let hash = item.hash.clone().unwrap_or_default();
                let bytes = blobs::content(&mut tx, sid, &hash, &mut cache).await?;
                let body = Body::from_bytes(&item.path, bytes);
                match here {
                    Some(now) => {
                        let base = now.hash.clone().unwrap_or_default();
                        let new = files::NewContent {
                            body: &body,
                            base_hash: &base,
                            delta: None,
                            room: None,
                        };
                        files::set_content(&mut *tx, sid, &item.path, new, w).await?;
                    }
                    None => {
                        let parent = files::ensure_parents(&mut tx, sid, uuid, &item.path).await?;
                        let revive = history::revive(&mut tx, sid, item.file_key).await?;
                        files::insert_file(
                            &mut tx, sid, uuid, parent, &item.path, &body, w, revive,
                        )
                        .await?;
                    }
                }
                changes.push(FileChange::Written {
                    path: item.path.clone(),
                    hash,
                    bytes: body.into_bytes(),
                });
            }
        }
    }
    tx.commit().await?;
    for change in changes {
        state.hooks.changed(uuid, change).await;
    }
    Ok(Restored {
        diff,
        undo: undo.id,
    })
}
