//! Files and folders of a session's workspace, addressed by path. Every save names
//! the hash it was based on; a save from a stale base is refused with 409 and the
//! current version, never applied silently.

#[cfg(feature = "ssr")]
use crate::state::FileChange;
use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "text", rename_all = "lowercase"))]
pub enum ItemKind {
    File,
    Folder,
}

/// One entry of the tree; `hash` is `None` for folders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct TreeItem {
    pub path: String,
    pub kind: ItemKind,
    pub size: i64,
    pub hash: Option<String>,
    pub version: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct FileContent {
    pub path: String,
    pub content: String,
    pub hash: String,
    pub version: i32,
    pub size: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Saved {
    pub path: String,
    pub hash: String,
    pub version: i32,
}

/// Every file and folder of the session, sorted by path.
#[server(prefix = "/api", endpoint = "files/tree", input = Json)]
pub async fn tree(session: Uuid) -> Result<Vec<TreeItem>, AppError> {
    let (state, sid) = ssr::session(session).await?;
    Ok(sqlx::query_as(&format!(
        "SELECT {} FROM workspace_items WHERE session_id = $1 ORDER BY full_path COLLATE \"C\"",
        ssr::TREE_COLUMNS
    ))
    .bind(sid)
    .fetch_all(&state.pool)
    .await?)
}

#[server(prefix = "/api", endpoint = "files/read", input = Json)]
pub async fn read(session: Uuid, path: String) -> Result<FileContent, AppError> {
    let (state, sid) = ssr::session(session).await?;
    let path = crate::paths::validate(&path)?;
    ssr::current(&state.pool, sid, &path)
        .await?
        .ok_or_else(|| ssr::no_file(&path))
}

/// The files among `paths` (at most [`MAX_READ_MANY`]), for a client keeping a
/// copy of the workspace; paths that are missing or folders are left out.
#[server(prefix = "/api", endpoint = "files/contents", input = Json)]
pub async fn contents(session: Uuid, paths: Vec<String>) -> Result<Vec<FileContent>, AppError> {
    if paths.len() > MAX_READ_MANY {
        return Err(AppError::invalid(format!(
            "at most {MAX_READ_MANY} files per request; {} asked",
            paths.len()
        )));
    }
    let (state, sid) = ssr::session(session).await?;
    Ok(sqlx::query_as(
        "SELECT full_path AS path, content, content_hash AS hash, version, size_bytes AS size
         FROM workspace_items
         WHERE session_id = $1 AND kind = 'file' AND full_path = ANY($2)
         ORDER BY full_path COLLATE \"C\"",
    )
    .bind(sid)
    .bind(&paths)
    .fetch_all(&state.pool)
    .await?)
}

pub const MAX_READ_MANY: usize = 1000;

/// Creates a file (with `content`, empty by default) or a folder; missing parent
/// folders are created too.
#[server(prefix = "/api", endpoint = "files/create", input = Json)]
pub async fn create(
    session: Uuid,
    path: String,
    kind: ItemKind,
    content: Option<String>,
) -> Result<TreeItem, AppError> {
    ssr::create(session, path, kind, content).await
}

/// Saves `content` if the file still has `base_hash`; 409 with the current version otherwise.
#[server(prefix = "/api", endpoint = "files/save", input = Json)]
pub async fn save(
    session: Uuid,
    path: String,
    content: String,
    base_hash: String,
) -> Result<Saved, AppError> {
    ssr::save(session, path, content, base_hash).await
}

/// Renames or moves a file or a folder with everything in it.
#[server(prefix = "/api", endpoint = "files/move", input = Json)]
pub async fn move_item(session: Uuid, from: String, to: String) -> Result<TreeItem, AppError> {
    ssr::move_item(session, from, to).await
}

/// Deletes a file, or a folder with everything in it.
#[server(prefix = "/api", endpoint = "files/delete", input = Json)]
pub async fn delete(session: Uuid, path: String) -> Result<(), AppError> {
    let (state, sid) = ssr::session(session).await?;
    let path = crate::paths::validate(&path)?;
    let done = sqlx::query("DELETE FROM workspace_items WHERE session_id = $1 AND full_path = $2")
        .bind(sid)
        .bind(&path)
        .execute(&state.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(ssr::no_file(&path));
    }
    state
        .hooks
        .changed(session, FileChange::Deleted { path })
        .await;
    Ok(())
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::{FileContent, ItemKind, Saved, TreeItem};
    use crate::state::{AppState, FileChange};
    use crate::{api::sessions, error::constraint_of, paths, AppError};
    use sha2::{Digest, Sha256};
    use sqlx::{PgPool, Postgres, Transaction};
    use uuid::Uuid;

    pub const TREE_COLUMNS: &str =
        "full_path AS path, kind, size_bytes AS size, content_hash AS hash, version";

    pub fn no_file(path: &str) -> AppError {
        AppError::not_found(format!("{path}: no such file or folder"))
    }

    pub fn hash(content: &str) -> String {
        hex::encode(Sha256::digest(content.as_bytes()))
    }

    /// The state and the id of `uuid`, which the signed-in user must own.
    pub async fn session(uuid: Uuid) -> Result<(AppState, i64), AppError> {
        let (state, me) = sessions::ssr::caller().await?;
        let id = sessions::ssr::owned_id(&state.pool, uuid, me.id).await?;
        Ok((state, id))
    }

    pub async fn current(
        pool: &PgPool,
        sid: i64,
        path: &str,
    ) -> Result<Option<FileContent>, AppError> {
        // One read: folders come back with empty content and are refused here.
        #[derive(sqlx::FromRow)]
        struct Item {
            kind: ItemKind,
            #[sqlx(flatten)]
            file: FileContent,
        }
        let item: Option<Item> = sqlx::query_as(
            "SELECT kind, full_path AS path, COALESCE(content, '') AS content,
                    COALESCE(content_hash, '') AS hash, version, size_bytes AS size
             FROM workspace_items WHERE session_id = $1 AND full_path = $2",
        )
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

    /// Refuses content over the per-file limit, or that would take the workspace over its limit.
    async fn check_size(
        state: &AppState,
        sid: i64,
        replacing: Option<&str>,
        size: usize,
    ) -> Result<(), AppError> {
        let s = &state.settings;
        if size > s.max_file_bytes {
            return Err(AppError::too_large(format!(
                "a file may hold at most {} bytes; this one has {size}",
                s.max_file_bytes
            )));
        }
        let others: i64 = sqlx::query_scalar(
            "SELECT COALESCE(sum(size_bytes), 0)::int8 FROM workspace_items
             WHERE session_id = $1 AND full_path IS DISTINCT FROM $2",
        )
        .bind(sid)
        .bind(replacing)
        .fetch_one(&state.pool)
        .await?;
        if others as usize + size > s.max_workspace_bytes {
            return Err(AppError::too_large(format!(
                "the workspace may hold at most {} bytes",
                s.max_workspace_bytes
            )));
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

    pub async fn insert_file(
        tx: &mut Transaction<'_, Postgres>,
        sid: i64,
        uuid: Uuid,
        parent: Option<i64>,
        path: &str,
        content: &str,
    ) -> Result<TreeItem, AppError> {
        sqlx::query_as(&format!(
            "INSERT INTO workspace_items
                 (session_id, session_uuid, parent_id, name, kind, content, content_hash, size_bytes, full_path)
             VALUES ($1, $2, $3, $4, 'file', $5, $6, $7, $8) RETURNING {TREE_COLUMNS}"
        ))
        .bind(sid)
        .bind(uuid)
        .bind(parent)
        .bind(paths::name(path))
        .bind(content)
        .bind(hash(content))
        .bind(content.len() as i64)
        .bind(path)
        .fetch_one(&mut **tx)
        .await
        .map_err(taken(path))
    }

    async fn insert_folder(
        tx: &mut Transaction<'_, Postgres>,
        sid: i64,
        uuid: Uuid,
        parent: Option<i64>,
        path: &str,
    ) -> Result<(i64, TreeItem), AppError> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO workspace_items (session_id, session_uuid, parent_id, name, kind, full_path)
             VALUES ($1, $2, $3, $4, 'folder', $5) RETURNING id",
        )
        .bind(sid)
        .bind(uuid)
        .bind(parent)
        .bind(paths::name(path))
        .bind(path)
        .fetch_one(&mut **tx)
        .await
        .map_err(taken(path))?;
        let item = TreeItem {
            path: path.to_string(),
            kind: ItemKind::Folder,
            size: 0,
            hash: None,
            version: 1,
        };
        Ok((id, item))
    }

    /// The id of the folder that will hold `path`, creating missing folders on the way.
    async fn ensure_parents(
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
            let found: Option<(i64, ItemKind)> = sqlx::query_as(
                "SELECT id, kind FROM workspace_items WHERE session_id = $1 AND full_path = $2",
            )
            .bind(sid)
            .bind(&prefix)
            .fetch_optional(&mut **tx)
            .await?;
            id = Some(match found {
                Some((fid, ItemKind::Folder)) => fid,
                Some((_, ItemKind::File)) => {
                    return Err(AppError::conflict(format!(
                        "{prefix} is a file, not a folder"
                    )))
                }
                None => insert_folder(tx, sid, uuid, id, &prefix).await?.0,
            });
        }
        Ok(id)
    }

    pub async fn create(
        uuid: Uuid,
        path: String,
        kind: ItemKind,
        content: Option<String>,
    ) -> Result<TreeItem, AppError> {
        let (state, sid) = session(uuid).await?;
        let path = paths::validate(&path)?;
        if kind == ItemKind::Folder && content.is_some() {
            return Err(AppError::invalid("a folder has no content"));
        }
        let content = content.unwrap_or_default();
        check_size(&state, sid, None, content.len()).await?;
        let mut tx = state.pool.begin().await?;
        let parent = ensure_parents(&mut tx, sid, uuid, &path).await?;
        let item = match kind {
            ItemKind::File => insert_file(&mut tx, sid, uuid, parent, &path, &content).await?,
            ItemKind::Folder => insert_folder(&mut tx, sid, uuid, parent, &path).await?.1,
        };
        tx.commit().await?;
        let change = match kind {
            ItemKind::File => FileChange::Written {
                hash: hash(&content),
                path,
                content,
            },
            ItemKind::Folder => FileChange::Folder { path },
        };
        state.hooks.changed(uuid, change).await;
        Ok(item)
    }

    pub async fn save(
        uuid: Uuid,
        path: String,
        content: String,
        base_hash: String,
    ) -> Result<Saved, AppError> {
        let (state, sid) = session(uuid).await?;
        let path = paths::validate(&path)?;
        check_size(&state, sid, Some(&path), content.len()).await?;
        // Compare-and-set in one statement: only a save based on the current hash lands.
        let saved: Option<Saved> = sqlx::query_as(
            "UPDATE workspace_items
             SET content = $3, content_hash = $4, size_bytes = $5, version = version + 1, updated_at = now()
             WHERE session_id = $1 AND full_path = $2 AND kind = 'file' AND content_hash = $6
             RETURNING full_path AS path, content_hash AS hash, version",
        )
        .bind(sid)
        .bind(&path)
        .bind(&content)
        .bind(hash(&content))
        .bind(content.len() as i64)
        .bind(&base_hash)
        .fetch_optional(&state.pool)
        .await?;
        if let Some(saved) = saved {
            let change = FileChange::Written {
                path,
                content,
                hash: saved.hash.clone(),
            };
            state.hooks.changed(uuid, change).await;
            return Ok(saved);
        }
        match current(&state.pool, sid, &path).await? {
            None => Err(no_file(&path)),
            Some(now) => Err(AppError::stale(now)),
        }
    }

    pub async fn move_item(uuid: Uuid, from: String, to: String) -> Result<TreeItem, AppError> {
        let (state, sid) = session(uuid).await?;
        let from = paths::validate(&from)?;
        let to = paths::validate(&to)?;
        if from == to {
            return Err(AppError::invalid("the item is already there"));
        }
        if paths::is_within(&to, &from) {
            return Err(AppError::invalid(format!("cannot move {from} into itself")));
        }
        let mut tx = state.pool.begin().await?;
        let exists: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM workspace_items WHERE session_id = $1 AND full_path = $2 FOR UPDATE",
        )
        .bind(sid)
        .bind(&from)
        .fetch_optional(&mut *tx)
        .await?;
        let (id,) = exists.ok_or_else(|| no_file(&from))?;
        let parent = ensure_parents(&mut tx, sid, uuid, &to).await?;
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
            .changed(uuid, FileChange::Moved { from, to })
            .await;
        Ok(moved)
    }
}
