//! Files and folders of a workspace, addressed by path. Every save names the hash
//! it was based on; a save from a stale base is refused with 409 and the current
//! version, never applied silently. Changes are mirrored into the session's
//! sandbox and announced to its pages through the state's hooks, once committed.

use super::access::Grant;
use super::content::Body;
use super::digest::sha256_hex;
use super::history;
use super::state::{AppState, FileChange};
use crate::error::constraint_of;
use crate::paths;
use crate::wire::files::{Encoding, FileContent, ItemKind, Saved, TreeItem, MAX_READ_MANY_BYTES};
use crate::wire::history::Source;
use crate::AppError;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

/// Who writes, and how: recorded with the version a write makes.
#[derive(Debug, Clone, Copy)]
pub struct Writer {
    pub by: Option<i64>,
    pub source: Source,
}

impl Writer {
    /// The caller of this request: the IDE's own page, or another API client.
    pub fn caller(g: &Grant) -> Self {
        Self::of(g, request_source())
    }

    pub fn of(g: &Grant, source: Source) -> Self {
        Self {
            by: Some(g.login.id),
            source,
        }
    }
}

/// A save from the IDE's page is an editor's: browsers say where a request comes
/// from, other clients (curl, scripts) do not.
fn request_source() -> Source {
    let from_page = leptos::prelude::use_context::<http::request::Parts>().is_some_and(|p| {
        p.headers
            .get("sec-fetch-site")
            .is_some_and(|v| v == "same-origin")
    });
    if from_page {
        Source::Editor
    } else {
        Source::Api
    }
}

/// A file coming back with its identity (an undelete, a checkpoint's restore):
/// its history goes on after `version`.
#[derive(Debug, Clone, Copy)]
pub struct Revive {
    pub file_key: i64,
    pub version: i32,
}

const TREE_COLUMNS: &str =
    "full_path AS path, kind, size_bytes AS size, content_hash AS hash, version, media_type";

/// A file's content as `FileContent` carries it: binary files in base64 (Postgres'
/// own encoding breaks lines, which JSON clients would not expect).
const CONTENT_COLUMNS: &str = "full_path AS path,
    COALESCE(content, translate(encode(data, 'base64'), E'\n', ''), '') AS content,
    COALESCE(content_hash, '') AS hash, version, size_bytes AS size,
    CASE WHEN data IS NOT NULL THEN 'base64' END AS encoding, media_type";

pub fn no_file(path: &str) -> AppError {
    AppError::not_found(format!("{path}: no such file or folder"))
}

/// Every file and folder of the session, sorted by path.
pub async fn tree(pool: &PgPool, sid: i64) -> Result<Vec<TreeItem>, AppError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {TREE_COLUMNS} FROM workspace_items WHERE session_id = $1
         ORDER BY full_path COLLATE \"C\""
    ))
    .bind(sid)
    .fetch_all(pool)
    .await?)
}

/// The file at `path`; 422 for a folder.
pub async fn current(pool: &PgPool, sid: i64, path: &str) -> Result<Option<FileContent>, AppError> {
    // One read: folders come back with empty content and are refused here.
    #[derive(sqlx::FromRow)]
    struct Item {
        kind: ItemKind,
        #[sqlx(flatten)]
        file: FileContent,
    }
    let item: Option<Item> = sqlx::query_as(&format!(
        "SELECT kind, {CONTENT_COLUMNS}
         FROM workspace_items WHERE session_id = $1 AND full_path = $2"
    ))
    .bind(sid)
    .bind(path)
    .fetch_optional(pool)
    .await?;
    match item {
        None => Ok(None),
        Some(Item {
            kind: ItemKind::Folder,
            ..
        }) => Err(AppError::invalid(format!("{path} is a folder"))),
        Some(Item { file, .. }) => Ok(Some(file)),
    }
}

/// The files among `paths`; missing paths and folders are left out. An answer
/// carries at most `MAX_READ_MANY_BYTES` of files, unless it is one file.
pub async fn contents(
    pool: &PgPool,
    sid: i64,
    paths: &[String],
) -> Result<Vec<FileContent>, AppError> {
    if paths.len() > 1 {
        let bytes: i64 = sqlx::query_scalar(
            "SELECT COALESCE(sum(size_bytes), 0)::int8 FROM workspace_items
             WHERE session_id = $1 AND kind = 'file' AND full_path = ANY($2)",
        )
        .bind(sid)
        .bind(paths)
        .fetch_one(pool)
        .await?;
        if bytes > MAX_READ_MANY_BYTES {
            return Err(AppError::too_large(format!(
                "these files hold {bytes} bytes, more than one answer carries \
                 ({MAX_READ_MANY_BYTES}): ask for fewer at once"
            )));
        }
    }
    Ok(sqlx::query_as(&format!(
        "SELECT {CONTENT_COLUMNS} FROM workspace_items
         WHERE session_id = $1 AND kind = 'file' AND full_path = ANY($2)
         ORDER BY full_path COLLATE \"C\""
    ))
    .bind(sid)
    .bind(paths)
    .fetch_all(pool)
    .await?)
}

/// Refuses content over the per-file limit, or that would take the workspace over its limit.
pub async fn check_size(
    state: &AppState,
    sid: i64,
    replacing: Option<&str>,
    size: usize,
) -> Result<(), AppError> {
    check_file_size(state, size)?;
    check_room(state, sid, replacing, size).await
}

fn check_file_size(state: &AppState, size: usize) -> Result<(), AppError> {
    let max = state.settings.max_file_bytes;
    if size > max {
        return Err(AppError::too_large(format!(
            "a file may hold at most {max} bytes; this one has {size}"
        )));
    }
    Ok(())
}

fn workspace_full(state: &AppState) -> AppError {
    AppError::too_large(format!(
        "the workspace may hold at most {} bytes",
        state.settings.max_workspace_bytes
    ))
}

/// Refuses `size` more bytes (replacing the file at `replacing`) that would take
/// the workspace over its limit.
pub async fn check_room(
    state: &AppState,
    sid: i64,
    replacing: Option<&str>,
    size: usize,
) -> Result<(), AppError> {
    let s = &state.settings;
    let others: i64 = sqlx::query_scalar(
        "SELECT COALESCE(sum(size_bytes), 0)::int8 FROM workspace_items
         WHERE session_id = $1 AND full_path IS DISTINCT FROM $2",
    )
    .bind(sid)
    .bind(replacing)
    .fetch_one(&state.pool)
    .await?;
    if others as usize + size > s.max_workspace_bytes {
        return Err(workspace_full(state));
    }
    Ok(())
}

fn taken(path: &str) -> impl Fn(sqlx::Error) -> AppError + '_ {
    move |e| match constraint_of(&e) {
        Some("workspace_items_name_key" | "workspace_items_path_key") => {
            AppError::conflict(format!("{path} already exists"))
        }
        _ => e.into(),
    }
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_file(
    tx: &mut Transaction<'_, Postgres>,
    sid: i64,
    uuid: Uuid,
    parent: Option<i64>,
    path: &str,
    body: &Body,
    w: Writer,
    revive: Option<Revive>,
) -> Result<TreeItem, AppError> {
    sqlx::query_as(&format!(
        "INSERT INTO workspace_items
             (session_id, session_uuid, parent_id, name, kind, content, content_hash, size_bytes,
              full_path, changed_by, change_source, file_key, version, data, media_type)
         VALUES ($1, $2, $3, $4, 'file', $5, $6, $7, $8, $9, $10,
                 COALESCE($11, nextval('file_keys')), COALESCE($12, 1), $13, $14)
         RETURNING {TREE_COLUMNS}"
    ))
    .bind(sid)
    .bind(uuid)
    .bind(parent)
    .bind(paths::name(path))
    .bind(body.text())
    .bind(sha256_hex(body.as_bytes()))
    .bind(body.len() as i64)
    .bind(path)
    .bind(w.by)
    .bind(w.source)
    .bind(revive.map(|r| r.file_key))
    .bind(revive.map(|r| r.version + 1))
    .bind(body.data())
    .bind(body.media_type())
    .fetch_one(&mut **tx)
    .await
    .map_err(taken(path))
}

/// Inserts the folder `path` under `parent` (with its old identity when it comes
/// back); its id, or none when the path is taken (perhaps by another request
/// making the same folder at the same time).
pub async fn insert_folder(
    tx: &mut Transaction<'_, Postgres>,
    sid: i64,
    uuid: Uuid,
    parent: Option<i64>,
    path: &str,
    file_key: Option<i64>,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO workspace_items (session_id, session_uuid, parent_id, name, kind, full_path, file_key)
         VALUES ($1, $2, $3, $4, 'folder', $5, COALESCE($6, nextval('file_keys')))
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(sid)
    .bind(uuid)
    .bind(parent)
    .bind(paths::name(path))
    .bind(path)
    .bind(file_key)
    .fetch_optional(&mut **tx)
    .await
}

/// The id of the folder at `path`; 409 when a file is there.
pub async fn folder_id(
    tx: &mut Transaction<'_, Postgres>,
    sid: i64,
    path: &str,
) -> Result<Option<i64>, AppError> {
    let found: Option<(i64, ItemKind)> = sqlx::query_as(
        "SELECT id, kind FROM workspace_items WHERE session_id = $1 AND full_path = $2",
    )
    .bind(sid)
    .bind(path)
    .fetch_optional(&mut **tx)
    .await?;
    match found {
        Some((id, ItemKind::Folder)) => Ok(Some(id)),
        Some((_, ItemKind::File)) => Err(AppError::conflict(format!(
            "{path} is a file, not a folder"
        ))),
        None => Ok(None),
    }
}

/// The id of the folder that will hold `path`, creating missing folders on the way.
pub async fn ensure_parents(
    tx: &mut Transaction<'_, Postgres>,
    sid: i64,
    uuid: Uuid,
    path: &str,
) -> Result<Option<i64>, AppError> {
    let Some(parent) = paths::parent(path) else {
        return Ok(None);
    };
    let mut id = None;
    let mut prefix = String::new();
    for segment in parent.split('/') {
        if !prefix.is_empty() {
            prefix.push('/');
        }
        prefix.push_str(segment);
        let here = match folder_id(tx, sid, &prefix).await? {
            Some(fid) => Some(fid),
            None => insert_folder(tx, sid, uuid, id, &prefix, None).await?,
        };
        // Made by another request meanwhile: it is there now.
        id = match here {
            Some(fid) => Some(fid),
            None => folder_id(tx, sid, &prefix).await?,
        };
    }
    Ok(id)
}

pub async fn create(
    state: &AppState,
    g: &Grant,
    path: &str,
    kind: ItemKind,
    content: Option<String>,
    encoding: Option<Encoding>,
) -> Result<TreeItem, AppError> {
    let path = paths::validate(path)?;
    if kind == ItemKind::Folder && content.is_some() {
        return Err(AppError::invalid("a folder has no content"));
    }
    let body = Body::decode(&path, content.unwrap_or_default(), encoding)?;
    check_size(state, g.session_id, None, body.len()).await?;
    let (sid, uuid) = (g.session_id, g.session);
    let mut tx = state.pool.begin().await?;
    let parent = ensure_parents(&mut tx, sid, uuid, &path).await?;
    let item = match kind {
        ItemKind::File => {
            let w = Writer::caller(g);
            insert_file(&mut tx, sid, uuid, parent, &path, &body, w, None).await?
        }
        ItemKind::Folder => {
            insert_folder(&mut tx, sid, uuid, parent, &path, None)
                .await?
                .ok_or_else(|| AppError::conflict(format!("{path} already exists")))?;
            TreeItem {
                path: path.clone(),
                kind,
                size: 0,
                hash: None,
                version: 1,
                media_type: None,
            }
        }
    };
    tx.commit().await?;
    let change = match kind {
        ItemKind::File => FileChange::Written {
            hash: sha256_hex(body.as_bytes()),
            path,
            bytes: body.into_bytes(),
        },
        ItemKind::Folder => FileChange::Folder { path },
    };
    state.hooks.changed(g.session, change).await;
    Ok(item)
}

/// A file's new content: the hash it is based on, the delta of it against that
/// base's content when it is at hand, and the room the workspace may take, when
/// the statement is to check it.
pub struct NewContent<'a> {
    pub body: &'a Body,
    pub base_hash: &'a str,
    pub delta: Option<&'a [u8]>,
    pub room: Option<usize>,
}

/// Sets the content of `path` if it still has `base_hash`: a compare-and-set in
/// one statement, so only a write based on the current version lands. With
/// `delta` (the content compressed against the base's), the version's content is
/// stored packed at once, when the base's chain has room; else the history keeps
/// a copy and the packer starts a new chain with it.
pub async fn set_content<'e>(
    db: impl sqlx::PgExecutor<'e>,
    sid: i64,
    path: &str,
    new: NewContent<'_>,
    w: Writer,
) -> Result<Option<Saved>, AppError> {
    let NewContent {
        body,
        base_hash,
        delta,
        room,
    } = new;
    Ok(sqlx::query_as(
        "WITH base AS (
             -- Locked so the packer leaves it as it is while a delta of it is made.
             SELECT hash, depth FROM blobs
             WHERE $9::bytea IS NOT NULL AND session_id = $1 AND hash = $6 AND depth < $10
             FOR SHARE),
         packed AS (
             INSERT INTO blobs (session_id, hash, size, encoding, base, depth, data)
             SELECT $1, $4, $5, 'delta', hash, depth + 1, $9 FROM base
             ON CONFLICT (session_id, hash) DO NOTHING)
         UPDATE workspace_items
         SET content = $3, content_hash = $4, size_bytes = $5, version = version + 1,
             updated_at = now(), changed_by = $7, change_source = $8, data = $12,
             media_type = $13
         WHERE session_id = $1 AND full_path = $2 AND kind = 'file' AND content_hash = $6
           AND ($11::int8 IS NULL OR $5 + (
               SELECT COALESCE(sum(size_bytes), 0) FROM workspace_items
               WHERE session_id = $1 AND full_path <> $2) <= $11)
         RETURNING full_path AS path, content_hash AS hash, version",
    )
    .bind(sid)
    .bind(path)
    .bind(body.text())
    .bind(sha256_hex(body.as_bytes()))
    .bind(body.len() as i64)
    .bind(base_hash)
    .bind(w.by)
    .bind(w.source)
    .bind(delta)
    .bind(super::blobs::MAX_DEPTH)
    .bind(room.map(|r| r as i64))
    .bind(body.data())
    .bind(body.media_type())
    .fetch_optional(db)
    .await?)
}

/// The file at `path`, remembered as the base of its next save.
pub async fn read(state: &AppState, sid: i64, path: &str) -> Result<FileContent, AppError> {
    let path = paths::validate(path)?;
    let file = current(&state.pool, sid, &path)
        .await?
        .ok_or_else(|| no_file(&path))?;
    if !file.is_binary() {
        state
            .contents
            .remember(sid, &file.hash, file.content.as_bytes());
    }
    Ok(file)
}

pub async fn save(
    state: &AppState,
    g: &Grant,
    path: &str,
    content: String,
    base_hash: &str,
) -> Result<Saved, AppError> {
    save_as(
        state,
        g,
        path,
        Body::Text(content),
        base_hash,
        Writer::caller(g),
    )
    .await
}

/// A save made as `w` (a restore, a replace): the same checks as any save.
pub async fn save_as(
    state: &AppState,
    g: &Grant,
    path: &str,
    body: Body,
    base_hash: &str,
    w: Writer,
) -> Result<Saved, AppError> {
    let path = paths::validate(path)?;
    check_file_size(state, body.len())?;
    let sid = g.session_id;
    let delta = state
        .contents
        .delta(&state.pool, sid, &path, base_hash, body.as_bytes())
        .await;
    let new = NewContent {
        body: &body,
        base_hash,
        delta: delta.as_deref(),
        // The workspace's room is checked by the save's own statement.
        room: Some(state.settings.max_workspace_bytes),
    };
    let saved = set_content(&state.pool, sid, &path, new, w).await?;
    if let Some(saved) = saved {
        state.contents.remember(sid, &saved.hash, body.as_bytes());
        let change = FileChange::Written {
            path,
            bytes: body.into_bytes(),
            hash: saved.hash.clone(),
        };
        state.hooks.changed(g.session, change).await;
        return Ok(saved);
    }
    match current(&state.pool, g.session_id, &path).await? {
        None => Err(no_file(&path)),
        Some(now) if now.hash != base_hash => Err(AppError::stale(now)),
        Some(_) => Err(workspace_full(state)),
    }
}

pub async fn move_item(
    state: &AppState,
    g: &Grant,
    from: &str,
    to: &str,
) -> Result<TreeItem, AppError> {
    let from = paths::validate(from)?;
    let to = paths::validate(to)?;
    if from == to {
        return Err(AppError::invalid("the item is already there"));
    }
    if paths::is_within(&to, &from) {
        return Err(AppError::invalid(format!("cannot move {from} into itself")));
    }
    let sid = g.session_id;
    let mut tx = state.pool.begin().await?;
    let exists: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM workspace_items WHERE session_id = $1 AND full_path = $2 FOR UPDATE",
    )
    .bind(sid)
    .bind(&from)
    .fetch_optional(&mut *tx)
    .await?;
    let (id,) = exists.ok_or_else(|| no_file(&from))?;
    let parent = ensure_parents(&mut tx, sid, g.session, &to).await?;
    let moved: TreeItem = sqlx::query_as(&format!(
        "UPDATE workspace_items SET name = $3, parent_id = $4, full_path = $5, updated_at = now()
         WHERE session_id = $1 AND id = $2 RETURNING {TREE_COLUMNS}"
    ))
    .bind(sid)
    .bind(id)
    .bind(paths::name(&to))
    .bind(parent)
    .bind(&to)
    .fetch_one(&mut *tx)
    .await
    .map_err(taken(&to))?;
    sqlx::query(
        "UPDATE workspace_items SET full_path = $3 || substr(full_path, length($2) + 1)
         WHERE session_id = $1 AND starts_with(full_path, $2 || '/')",
    )
    .bind(sid)
    .bind(&from)
    .bind(&to)
    .execute(&mut *tx)
    .await
    .map_err(taken(&to))?;
    tx.commit().await?;
    state
        .hooks
        .changed(g.session, FileChange::Moved { from, to })
        .await;
    Ok(moved)
}

/// Deletes a file, or a folder with everything in it; it stays recoverable.
pub async fn delete(state: &AppState, g: &Grant, path: &str) -> Result<(), AppError> {
    let path = paths::validate(path)?;
    let mut tx = state.pool.begin().await?;
    let roots = [path.clone()];
    if history::delete(&mut tx, g.session_id, &roots, Writer::caller(g)).await? == 0 {
        return Err(no_file(&path));
    }
    tx.commit().await?;
    state
        .hooks
        .changed(g.session, FileChange::Deleted { path })
        .await;
    Ok(())
}

/// Copies every file and folder of session `from` into the new session `sid`
/// in one statement (new ids, the same tree), as made by `by`.
pub async fn copy_all(
    tx: &mut Transaction<'_, Postgres>,
    from: i64,
    sid: i64,
    uuid: Uuid,
    by: i64,
    source: Source,
) -> Result<(), AppError> {
    // The CTE is read twice, so it is computed once: each item's new id is fixed
    // before its children look it up.
    sqlx::query(
        "WITH src AS (
             SELECT w.id, w.parent_id, w.name, w.kind, w.content, w.data, w.media_type,
                    w.full_path, w.size_bytes, w.content_hash,
                    nextval(pg_get_serial_sequence('workspace_items', 'id')) AS new_id
             FROM workspace_items w WHERE w.session_id = $1)
         INSERT INTO workspace_items (id, session_id, session_uuid, parent_id, name, kind, content,
             data, media_type, full_path, size_bytes, content_hash, changed_by, change_source)
         SELECT s.new_id, $2, $3, p.new_id, s.name, s.kind, s.content, s.data, s.media_type,
                s.full_path, s.size_bytes, s.content_hash, $4, $5
         FROM src s LEFT JOIN src p ON p.id = s.parent_id",
    )
    .bind(from)
    .bind(sid)
    .bind(uuid)
    .bind(by)
    .bind(source)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
