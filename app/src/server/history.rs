//! File history: the versions of a file (they follow it across renames), reading
//! and restoring one, and what was deleted, brought back with its history. The
//! versions themselves are kept by the database (a trigger on workspace_items),
//! whatever made the change.

use super::access::Grant;
use super::blobs;
use super::content::{self, Body};
use super::files::{self, Revive, Writer};
use super::state::{AppState, FileChange};
use crate::paths;
use crate::wire::files::{Encoding, ItemKind, Saved, TreeItem};
use crate::wire::history::{
    DeletedItem, FileHistory, PrunedVersions, Source, Version, VersionContent,
};
use crate::AppError;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

/// The identity of the file at `path` now.
async fn file_key(pool: &PgPool, sid: i64, path: &str) -> Result<i64, AppError> {
    let found: Option<(i64, ItemKind)> = sqlx::query_as(
        "SELECT file_key, kind FROM workspace_items WHERE session_id = $1 AND full_path = $2",
    )
    .bind(sid)
    .bind(path)
    .fetch_optional(pool)
    .await?;
    match found {
        Some((key, ItemKind::File)) => Ok(key),
        Some(_) => Err(AppError::invalid(format!("{path} is a folder"))),
        None => Err(files::no_file(path)),
    }
}

/// The versions of the file at `path`, newest first (its creation last), and
/// what the retention sweep dropped of it.
pub async fn list(pool: &PgPool, sid: i64, path: &str) -> Result<FileHistory, AppError> {
    let path = paths::validate(path)?;
    let key = file_key(pool, sid, &path).await?;
    let versions: Vec<Version> = sqlx::query_as(
        "SELECT v.version, v.hash, v.size, u.username AS author, v.source, v.created_at, v.path
         FROM file_versions v LEFT JOIN users u ON u.id = v.author_id
         WHERE v.session_id = $1 AND v.file_key = $2 ORDER BY v.id DESC",
    )
    .bind(sid)
    .bind(key)
    .fetch_all(pool)
    .await?;
    let pruned: Vec<PrunedVersions> = sqlx::query_as(
        "SELECT versions, oldest, newest, reason, pruned_at FROM history_pruned
         WHERE session_id = $1 AND file_key = $2 ORDER BY pruned_at DESC",
    )
    .bind(sid)
    .bind(key)
    .fetch_all(pool)
    .await?;
    Ok(FileHistory { versions, pruned })
}

/// The content of version `version` of the file at `path`.
pub async fn read(
    pool: &PgPool,
    sid: i64,
    path: &str,
    version: i32,
) -> Result<VersionContent, AppError> {
    let (path, hash, body) = version_body(pool, sid, path, version).await?;
    let (content, encoding) = match body {
        Body::Text(t) => (t, None),
        Body::Binary { bytes, .. } => (content::base64(&bytes), Some(Encoding::Base64)),
    };
    Ok(VersionContent {
        path,
        version,
        content,
        hash,
        encoding,
    })
}

/// The path, hash and content of a version.
async fn version_body(
    pool: &PgPool,
    sid: i64,
    path: &str,
    version: i32,
) -> Result<(String, String, Body), AppError> {
    let path = paths::validate(path)?;
    let key = file_key(pool, sid, &path).await?;
    let hash: String = sqlx::query_scalar(
        "SELECT hash FROM file_versions WHERE session_id = $1 AND file_key = $2 AND version = $3
         ORDER BY id DESC LIMIT 1",
    )
    .bind(sid)
    .bind(key)
    .bind(version)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::not_found(format!("{path} has no version {version}")))?;
    let mut db = pool.acquire().await?;
    let bytes = blobs::content(&mut db, sid, &hash, &mut blobs::Cache::default()).await?;
    let body = Body::from_bytes(&path, bytes);
    Ok((path, hash, body))
}

/// Makes version `version` the current content, as a new version, through the
/// usual save (409 when the file is no longer at `base_hash`).
pub async fn restore(
    state: &AppState,
    g: &Grant,
    path: &str,
    version: i32,
    base_hash: &str,
) -> Result<Saved, AppError> {
    let (path, _, body) = version_body(&state.pool, g.session_id, path, version).await?;
    let w = Writer::of(g, Source::Restore);
    files::save_as(state, g, &path, body, base_hash, w).await
}

/// Deletes each of `roots` with everything below it, recording all of it as one
/// deletion so it can be brought back. How many items went.
pub async fn delete(
    tx: &mut Transaction<'_, Postgres>,
    sid: i64,
    roots: &[String],
    w: Writer,
) -> Result<u64, AppError> {
    if roots.is_empty() {
        return Ok(0);
    }
    let done = sqlx::query(
        "WITH gone AS (
             DELETE FROM workspace_items i USING unnest($2::text[]) AS r(root)
             WHERE i.session_id = $1 AND (i.full_path = r.root OR starts_with(i.full_path, r.root || '/'))
             RETURNING r.root, i.full_path, i.kind, i.file_key, i.content_hash, i.size_bytes)
         INSERT INTO deleted_items (session_id, batch, root, path, kind, file_key, hash, size, source, deleted_by)
         SELECT $1, $3, root, full_path, kind, file_key, content_hash, size_bytes, $4, $5 FROM gone",
    )
    .bind(sid)
    .bind(roots)
    .bind(Uuid::new_v4())
    .bind(w.source)
    .bind(w.by)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// What was deleted, newest first; files inside a deleted folder are listed too.
pub async fn deleted(pool: &PgPool, sid: i64) -> Result<Vec<DeletedItem>, AppError> {
    Ok(sqlx::query_as(
        "SELECT d.path, d.kind, d.size, d.root, u.username AS deleted_by, d.source, d.deleted_at
         FROM deleted_items d LEFT JOIN users u ON u.id = d.deleted_by
         WHERE d.session_id = $1 ORDER BY d.deleted_at DESC, d.path COLLATE \"C\"",
    )
    .bind(sid)
    .fetch_all(pool)
    .await?)
}

#[derive(sqlx::FromRow)]
struct Gone {
    id: i64,
    path: String,
    kind: ItemKind,
    file_key: i64,
    hash: Option<String>,
    size: i64,
}

/// Brings back the deleted `path` (a file, or a folder with what was in it when
/// it went), with its history, at `path` or at `to`: 409 if that path is taken.
pub async fn undelete(
    state: &AppState,
    g: &Grant,
    path: &str,
    to: Option<&str>,
) -> Result<Vec<TreeItem>, AppError> {
    let path = paths::validate(path)?;
    let to = match to {
        Some(t) => paths::validate(t)?,
        None => path.clone(),
    };
    let (sid, uuid) = (g.session_id, g.session);
    let mut tx = state.pool.begin().await?;
    // The latest deletion of `path`, and what went with it below it.
    let items: Vec<Gone> = sqlx::query_as(
        "WITH last AS (SELECT batch FROM deleted_items WHERE session_id = $1 AND path = $2
                       ORDER BY deleted_at DESC, id DESC LIMIT 1)
         SELECT d.id, d.path, d.kind, d.file_key, d.hash, d.size FROM deleted_items d, last
         WHERE d.session_id = $1 AND d.batch = last.batch
           AND (d.path = $2 OR starts_with(d.path, $2 || '/'))
         ORDER BY d.path COLLATE \"C\" FOR UPDATE OF d",
    )
    .bind(sid)
    .bind(&path)
    .fetch_all(&mut *tx)
    .await?;
    if items.is_empty() {
        return Err(AppError::not_found(format!(
            "{path} is not among the deleted"
        )));
    }
    let taken: Option<String> = sqlx::query_scalar(
        "SELECT full_path FROM workspace_items WHERE session_id = $1 AND full_path = $2",
    )
    .bind(sid)
    .bind(&to)
    .fetch_optional(&mut *tx)
    .await?;
    if taken.is_some() {
        return Err(AppError::conflict(format!("{to} already exists")));
    }
    let size: i64 = items.iter().map(|i| i.size).sum();
    files::check_room(state, sid, None, size as usize).await?;
    let w = Writer::of(g, Source::Restore);
    let mut cache = blobs::Cache::default();
    let mut restored = Vec::new();
    let mut changes = Vec::new();
    for item in &items {
        let target = format!("{to}{}", &item.path[path.len()..]);
        let parent = files::ensure_parents(&mut tx, sid, uuid, &target).await?;
        match item.kind {
            ItemKind::Folder => {
                let key = revive(&mut tx, sid, item.file_key)
                    .await?
                    .map(|r| r.file_key);
                files::insert_folder(&mut tx, sid, uuid, parent, &target, key)
                    .await?
                    .ok_or_else(|| AppError::conflict(format!("{target} already exists")))?;
                changes.push(FileChange::Folder {
                    path: target.clone(),
                });
                restored.push(TreeItem {
                    path: target,
                    kind: ItemKind::Folder,
                    size: 0,
                    hash: None,
                    version: 1,
                    media_type: None,
                });
            }
            ItemKind::File => {
                let hash = item.hash.as_deref().unwrap_or_default();
                let bytes = blobs::content(&mut tx, sid, hash, &mut cache).await?;
                let body = Body::from_bytes(&target, bytes);
                let revive = revive(&mut tx, sid, item.file_key).await?;
                let made =
                    files::insert_file(&mut tx, sid, uuid, parent, &target, &body, w, revive)
                        .await?;
                changes.push(FileChange::Written {
                    path: target,
                    hash: hash.to_string(),
                    bytes: body.into_bytes(),
                });
                restored.push(made);
            }
        }
    }
    let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    sqlx::query("DELETE FROM deleted_items WHERE id = ANY($1)")
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    for change in changes {
        state.hooks.changed(uuid, change).await;
    }
    Ok(restored)
}

/// The identity `file_key` comes back with, and its last version: unless another
/// item of the workspace holds it now (a checkpoint's restore brought the file
/// back meanwhile), which leaves the newcomer a new identity.
pub async fn revive(
    tx: &mut Transaction<'_, Postgres>,
    sid: i64,
    file_key: i64,
) -> Result<Option<Revive>, AppError> {
    let (live, version): (bool, i32) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM workspace_items WHERE session_id = $1 AND file_key = $2),
                COALESCE((SELECT max(version) FROM file_versions WHERE session_id = $1 AND file_key = $2), 0)",
    )
    .bind(sid)
    .bind(file_key)
    .fetch_one(&mut **tx)
    .await?;
    Ok((!live).then_some(Revive { file_key, version }))
}
