//! Writing many files at once (the sandbox's changes, an upload): the folders
//! they need made on the way, parents before children, and every file in one
//! statement, inserted or replaced.

use super::content::Body;
use super::digest::sha256_hex;
use super::files::{self, Writer};
use sqlx::{Postgres, Transaction};
use std::collections::BTreeMap;
use uuid::Uuid;

/// One file (with its content) or folder (`None`) to record.
#[derive(Debug)]
pub struct Put {
    pub path: String,
    pub body: Option<Body>,
}

/// Inserts or updates `items` with their folders. A file already at a path takes
/// the new content (a new version, when it differs); the caller has made sure no
/// folder stands where a file goes.
pub async fn put_many(
    tx: &mut Transaction<'_, Postgres>,
    sid: i64,
    uuid: Uuid,
    items: &[Put],
    w: Writer,
) -> Result<(), sqlx::Error> {
    if items.is_empty() {
        return Ok(());
    }
    let mut folders: BTreeMap<String, i64> = sqlx::query_as::<_, (String, i64)>(
        "SELECT full_path, id FROM workspace_items WHERE session_id = $1 AND kind = 'folder'",
    )
    .bind(sid)
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .collect();
    // Every folder needed: those put and the parents of every item.
    let mut wanted: Vec<String> = Vec::new();
    for it in items {
        let mut p = it.path.as_str();
        if it.body.is_none() {
            wanted.push(p.to_string());
        }
        while let Some((parent, _)) = p.rsplit_once('/') {
            wanted.push(parent.to_string());
            p = parent;
        }
    }
    wanted.sort_by_key(|p| (p.matches('/').count(), p.clone()));
    wanted.dedup();
    for path in wanted {
        if folders.contains_key(&path) {
            continue;
        }
        let parent = parent_id(&folders, &path);
        let id = match files::insert_folder(tx, sid, uuid, parent, &path, None).await? {
            Some(id) => id,
            // Made by another request meanwhile.
            None => {
                sqlx::query_scalar(
                    "SELECT id FROM workspace_items WHERE session_id = $1 AND full_path = $2",
                )
                .bind(sid)
                .bind(&path)
                .fetch_one(&mut **tx)
                .await?
            }
        };
        folders.insert(path, id);
    }
    // One statement for all files: parallel arrays, unnested by Postgres.
    #[derive(Default)]
    struct Columns<'a> {
        parent: Vec<Option<i64>>,
        name: Vec<&'a str>,
        content: Vec<Option<&'a str>>,
        data: Vec<Option<&'a [u8]>>,
        media_type: Vec<Option<&'a str>>,
        hash: Vec<String>,
        size: Vec<i64>,
        path: Vec<&'a str>,
    }
    let mut cols = Columns::default();
    for (path, body) in items
        .iter()
        .filter_map(|i| Some((&i.path, i.body.as_ref()?)))
    {
        cols.parent.push(parent_id(&folders, path));
        cols.name.push(crate::paths::name(path));
        cols.content.push(body.text());
        cols.data.push(body.data());
        cols.media_type.push(body.media_type());
        cols.hash.push(sha256_hex(body.as_bytes()));
        cols.size.push(body.len() as i64);
        cols.path.push(path);
    }
    if cols.path.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO workspace_items
             (session_id, session_uuid, parent_id, name, kind, content, data, media_type,
              content_hash, size_bytes, full_path, changed_by, change_source)
         SELECT $1, $2, p, n, 'file', c, d, m, h, sz, f, $11, $12
         FROM UNNEST($3::int8[], $4::text[], $5::text[], $6::bytea[], $7::text[], $8::text[],
                     $9::int8[], $10::text[])
              AS t(p, n, c, d, m, h, sz, f)
         ON CONFLICT ON CONSTRAINT workspace_items_path_key DO UPDATE
         SET content = EXCLUDED.content, data = EXCLUDED.data, media_type = EXCLUDED.media_type,
             content_hash = EXCLUDED.content_hash, size_bytes = EXCLUDED.size_bytes,
             version = workspace_items.version + 1, updated_at = now(),
             changed_by = EXCLUDED.changed_by, change_source = EXCLUDED.change_source
         WHERE workspace_items.content_hash IS DISTINCT FROM EXCLUDED.content_hash",
    )
    .bind(sid)
    .bind(uuid)
    .bind(&cols.parent)
    .bind(&cols.name)
    .bind(&cols.content)
    .bind(&cols.data)
    .bind(&cols.media_type)
    .bind(&cols.hash)
    .bind(&cols.size)
    .bind(&cols.path)
    .bind(w.by)
    .bind(w.source)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn parent_id(folders: &BTreeMap<String, i64>, path: &str) -> Option<i64> {
    let (parent, _) = path.rsplit_once('/')?;
    folders.get(parent).copied()
}
