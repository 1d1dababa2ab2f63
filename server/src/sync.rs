//! The two-way sync between a session's files in Postgres and in its sandbox.
//!
//! Postgres is the source of truth: opening a session makes the sandbox match
//! it, writing only what differs. Changes made in the sandbox flow back in one
//! transaction after each command and on file-watcher events. Detection compares
//! size and mtime against the manifest of the last sync, and hashes only what
//! moved. A file that is not valid UTF-8 (or holds NUL bytes) or is over the per-file limit is never
//! copied to Postgres (whatever Postgres holds for its path stays as it was) and
//! is never overwritten or deleted in the sandbox by a sync: it lives there only.
//! Symbolic links are neither followed nor synced.

use crate::runner::{Entry, EntryKind, FsOp, Runner, RunnerError, SessionRef};
use app::server::files::{self, Writer};
use app::server::{digest::sha256_hex, history};
use app::wire::history::Source;

use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap, HashSet};

/// What asks for a sync back.
#[derive(Debug, Clone, Copy)]
pub enum Kick {
    /// A command ended, in a terminal this user opened: sync now.
    Now(i64),
    /// The watcher saw something: sync after the debounce.
    Soon,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Known {
    kind: EntryKind,
    size: u64,
    mtime_ns: i128,
    /// The content's hash when it is in Postgres; `None` for folders and for
    /// files that live only in the sandbox.
    hash: Option<String>,
}

/// What the last sync saw, path by path.
#[derive(Debug, Default)]
pub struct Manifest(HashMap<String, Known>);

impl Manifest {
    /// Records a file the server itself wrote with content of `hash`.
    pub fn wrote(&mut self, entry: &Entry, hash: String) {
        self.0.insert(
            entry.path.clone(),
            Known {
                kind: EntryKind::File,
                size: entry.size,
                mtime_ns: entry.mtime_ns,
                hash: Some(hash),
            },
        );
    }

    pub fn forget(&mut self, path: &str) {
        let prefix = format!("{path}/");
        self.0.retain(|p, _| p != path && !p.starts_with(&prefix));
    }

    pub fn moved(&mut self, from: &str, to: &str) {
        let prefix = format!("{from}/");
        let moved: Vec<_> = self
            .0
            .keys()
            .filter(|p| *p == from || p.starts_with(&prefix))
            .cloned()
            .collect();
        for p in moved {
            let known = self.0.remove(&p).expect("listed above");
            self.0.insert(format!("{to}{}", &p[from.len()..]), known);
        }
    }

    pub fn folder(&mut self, path: &str) {
        self.0.insert(
            path.to_string(),
            Known {
                kind: EntryKind::Folder,
                size: 0,
                mtime_ns: 0,
                hash: None,
            },
        );
    }

    fn unchanged(&self, e: &Entry) -> Option<&Known> {
        self.0
            .get(&e.path)
            .filter(|k| k.kind == e.kind && k.size == e.size && k.mtime_ns == e.mtime_ns)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Runner(#[from] RunnerError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    App(#[from] app::AppError),
}

/// Reads the files of `entries` whose metadata the manifest does not vouch for;
/// returns their hash and text (`None` when binary or over `max`).
async fn read_changed(
    runner: &dyn Runner,
    s: SessionRef,
    entries: &[&Entry],
    max: u64,
) -> Result<HashMap<String, Option<(String, String)>>, SyncError> {
    let paths: Vec<String> = entries.iter().map(|e| e.path.clone()).collect();
    if paths.is_empty() {
        return Ok(HashMap::new());
    }
    let read = runner.read(s, paths, max).await?;
    Ok(read
        .into_iter()
        .map(|(p, bytes)| {
            let text = bytes.and_then(|b| {
                let h = sha256_hex(&b);
                // Postgres text cannot hold NUL: such files count as binary.
                String::from_utf8(b)
                    .ok()
                    .filter(|t| !t.contains('\0'))
                    .map(|t| (h, t))
            });
            (p, text)
        })
        .collect())
}

/// Makes the sandbox match Postgres, writing only what differs. Returns how many
/// operations it took.
pub async fn push_all(
    runner: &dyn Runner,
    pool: &PgPool,
    s: SessionRef,
    max: u64,
    manifest: &mut Manifest,
) -> Result<usize, SyncError> {
    let started = std::time::Instant::now();
    let db: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT full_path, kind, content_hash FROM workspace_items WHERE session_id = $1",
    )
    .bind(s.id)
    .fetch_all(pool)
    .await?;
    let scan = runner.scan(s).await?;
    let unknown: Vec<&Entry> = scan
        .iter()
        .filter(|e| e.kind == EntryKind::File && manifest.unchanged(e).is_none())
        .collect();
    let read = read_changed(runner, s, &unknown, max).await?;
    // The sandbox's view: path -> (kind, Some(hash) for syncable text files).
    let mut sandbox: HashMap<&str, (EntryKind, Option<String>)> = HashMap::new();
    for e in &scan {
        let h = match (e.kind, manifest.unchanged(e)) {
            (EntryKind::Folder, _) => None,
            (_, Some(k)) => k.hash.clone(),
            _ => read.get(&e.path).cloned().flatten().map(|(h, _)| h),
        };
        sandbox.insert(&e.path, (e.kind, h));
    }
    let sandbox_only = |path: &str| matches!(sandbox.get(path), Some((EntryKind::File, None)));

    let in_db: HashSet<&str> = db.iter().map(|(p, _, _)| p.as_str()).collect();
    let mut ops = Vec::new();
    let mut to_fetch = Vec::new();
    for (path, kind, h) in &db {
        match (kind.as_str(), sandbox.get(path.as_str())) {
            ("folder", Some((EntryKind::Folder, _))) => {}
            ("folder", _) if sandbox_only(path) => {}
            ("folder", _) => ops.push(FsOp::Mkdir { path: path.clone() }),
            (_, Some((EntryKind::File, have))) if have == h => {}
            _ if sandbox_only(path) => {}
            _ => to_fetch.push(path.clone()),
        }
    }
    // Deepest first, so a folder is empty by the time it is considered.
    let mut extra: Vec<&Entry> = scan
        .iter()
        .filter(|e| !in_db.contains(e.path.as_str()))
        .collect();
    extra.sort_by_key(|e| std::cmp::Reverse(e.path.matches('/').count()));
    let mut kept: HashSet<String> = HashSet::new();
    for e in extra {
        let keep = match e.kind {
            EntryKind::File => sandbox_only(&e.path),
            EntryKind::Folder => kept.iter().any(|k| k.starts_with(&format!("{}/", e.path))),
        };
        if keep {
            kept.insert(e.path.clone());
        } else {
            ops.insert(
                0,
                FsOp::Remove {
                    path: e.path.clone(),
                },
            );
        }
    }

    let contents: Vec<(String, String, String)> = if to_fetch.is_empty() {
        Vec::new()
    } else {
        sqlx::query_as(
            "SELECT full_path, content, content_hash FROM workspace_items
             WHERE session_id = $1 AND kind = 'file' AND full_path = ANY($2)",
        )
        .bind(s.id)
        .bind(&to_fetch)
        .fetch_all(pool)
        .await?
    };
    let hashes: HashMap<String, String> = contents
        .iter()
        .map(|(p, _, h)| (p.clone(), h.clone()))
        .collect();
    for (path, content, _) in contents {
        ops.push(FsOp::Write {
            path,
            content: content.into_bytes(),
        });
    }
    let count = ops.len();
    let fetched = started.elapsed();
    let written = runner.apply(s, ops).await?;
    tracing::debug!(
        fetch_ms = fetched.as_millis() as u64,
        write_ms = (started.elapsed() - fetched).as_millis() as u64,
        "sandbox filled"
    );

    // The manifest now describes the sandbox as the database sees it.
    manifest.0.clear();
    for e in &scan {
        let h = sandbox.get(e.path.as_str()).and_then(|(_, h)| h.clone());
        let known = Known {
            kind: e.kind,
            size: e.size,
            mtime_ns: e.mtime_ns,
            hash: h,
        };
        manifest.0.insert(e.path.clone(), known);
    }
    for (path, kind, _) in &db {
        if kind == "folder" && !sandbox_only(path) {
            manifest.folder(path);
        }
    }
    for e in &written {
        manifest.wrote(e, hashes[&e.path].clone());
    }
    let removed: Vec<String> = manifest
        .0
        .keys()
        .filter(|p| !in_db.contains(p.as_str()) && !kept.contains(*p))
        .cloned()
        .collect();
    for p in removed {
        manifest.0.remove(&p);
    }
    Ok(count)
}

/// One file or folder to record in Postgres.
struct Upsert {
    path: String,
    kind: EntryKind,
    text: Option<(String, String)>,
}

/// Brings what changed in the sandbox since the last sync into Postgres, in one
/// transaction, as the terminal's changes (`by`: the user whose command ended,
/// when one did). Returns the paths that changed there.
pub async fn pull(
    runner: &dyn Runner,
    pool: &PgPool,
    s: SessionRef,
    max: u64,
    manifest: &mut Manifest,
    by: Option<i64>,
) -> Result<Vec<String>, SyncError> {
    let scan = runner.scan(s).await?;
    let seen: HashSet<&str> = scan.iter().map(|e| e.path.as_str()).collect();
    let moved: Vec<&Entry> = scan
        .iter()
        .filter(|e| manifest.unchanged(e).is_none())
        .collect();
    let files: Vec<&Entry> = moved
        .iter()
        .copied()
        .filter(|e| e.kind == EntryKind::File)
        .collect();
    let read = read_changed(runner, s, &files, max).await?;

    let mut upserts = Vec::new();
    let mut retype = Vec::new();
    for e in &moved {
        let before = manifest.0.get(&e.path);
        if before
            .is_some_and(|k| k.kind != e.kind && (k.kind == EntryKind::Folder || k.hash.is_some()))
        {
            retype.push(e.path.clone());
        }
        match e.kind {
            EntryKind::Folder => {
                if before.is_none_or(|k| k.kind != EntryKind::Folder) {
                    upserts.push(Upsert {
                        path: e.path.clone(),
                        kind: e.kind,
                        text: None,
                    });
                }
            }
            EntryKind::File => {
                let text = read.get(&e.path).cloned().flatten();
                let same = text.as_ref().map(|(h, _)| h) == before.and_then(|k| k.hash.as_ref());
                if text.is_some() && !same {
                    upserts.push(Upsert {
                        path: e.path.clone(),
                        kind: e.kind,
                        text,
                    });
                }
            }
        }
    }
    let deleted: Vec<String> = manifest
        .0
        .iter()
        .filter(|(p, k)| {
            !seen.contains(p.as_str()) && (k.kind == EntryKind::Folder || k.hash.is_some())
        })
        .map(|(p, _)| p.clone())
        .collect();

    if !upserts.is_empty() || !deleted.is_empty() || !retype.is_empty() {
        let w = Writer {
            by,
            source: Source::Terminal,
        };
        let mut tx = pool.begin().await?;
        let mut gone = deleted.clone();
        gone.extend(retype.iter().cloned());
        // Deleted with what is below, recoverable as one deletion each.
        let roots: Vec<String> = gone
            .iter()
            .filter(|p| !gone.iter().any(|a| app::paths::is_within(p, a) && a != *p))
            .cloned()
            .collect();
        history::delete(&mut tx, s.id, &roots, w).await?;
        write_items(&mut tx, s, &upserts, w).await?;
        tx.commit().await?;
    }

    // Record what was seen, keeping Postgres' hashes for sandbox-only files.
    let mut changed: Vec<String> = deleted.clone();
    for p in &deleted {
        manifest.forget(p);
    }
    for e in &moved {
        let hash = match e.kind {
            EntryKind::Folder => None,
            EntryKind::File => match read.get(&e.path).cloned().flatten() {
                Some((h, _)) => Some(h),
                None => manifest.0.get(&e.path).and_then(|k| k.hash.clone()),
            },
        };
        manifest.0.insert(
            e.path.clone(),
            Known {
                kind: e.kind,
                size: e.size,
                mtime_ns: e.mtime_ns,
                hash,
            },
        );
    }
    changed.extend(upserts.into_iter().map(|u| u.path));
    changed.sort();
    changed.dedup();
    Ok(changed)
}

/// Inserts or updates `items` with their folders, parents before children.
async fn write_items(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    s: SessionRef,
    items: &[Upsert],
    w: Writer,
) -> Result<(), sqlx::Error> {
    if items.is_empty() {
        return Ok(());
    }
    let mut folders: BTreeMap<String, Option<i64>> = sqlx::query_as::<_, (String, i64)>(
        "SELECT full_path, id FROM workspace_items WHERE session_id = $1 AND kind = 'folder'",
    )
    .bind(s.id)
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .map(|(p, id)| (p, Some(id)))
    .collect();
    // Every folder needed: those synced and the parents of every item.
    let mut wanted: Vec<String> = Vec::new();
    for it in items {
        let mut p = it.path.as_str();
        if it.kind == EntryKind::Folder {
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
        if folders.get(&path).is_some_and(Option::is_some) {
            continue;
        }
        let parent = parent_id(&folders, &path);
        let id = match files::insert_folder(tx, s.id, s.uuid, parent, &path, None).await? {
            Some(id) => id,
            // Made through the API meanwhile.
            None => {
                sqlx::query_scalar(
                    "SELECT id FROM workspace_items WHERE session_id = $1 AND full_path = $2",
                )
                .bind(s.id)
                .bind(&path)
                .fetch_one(&mut **tx)
                .await?
            }
        };
        folders.insert(path, Some(id));
    }
    let files: Vec<&Upsert> = items.iter().filter(|i| i.kind == EntryKind::File).collect();
    if files.is_empty() {
        return Ok(());
    }
    // One statement for all files: parallel arrays, unnested by Postgres.
    #[derive(Default)]
    struct Columns<'a> {
        parent: Vec<Option<i64>>,
        name: Vec<&'a str>,
        content: Vec<&'a str>,
        hash: Vec<&'a str>,
        size: Vec<i64>,
        path: Vec<&'a str>,
    }
    let mut cols = Columns::default();
    for f in &files {
        let (h, text) = f.text.as_ref().expect("files carry text");
        cols.parent.push(parent_id(&folders, &f.path));
        cols.name.push(app::paths::name(&f.path));
        cols.content.push(text);
        cols.hash.push(h);
        cols.size.push(text.len() as i64);
        cols.path.push(&f.path);
    }
    sqlx::query(
        "INSERT INTO workspace_items
             (session_id, session_uuid, parent_id, name, kind, content, content_hash, size_bytes,
              full_path, changed_by, change_source)
         SELECT $1, $2, p, n, 'file', c, h, sz, f, $9, $10
         FROM UNNEST($3::int8[], $4::text[], $5::text[], $6::text[], $7::int8[], $8::text[])
              AS t(p, n, c, h, sz, f)
         ON CONFLICT ON CONSTRAINT workspace_items_path_key DO UPDATE
         SET content = EXCLUDED.content, content_hash = EXCLUDED.content_hash,
             size_bytes = EXCLUDED.size_bytes, version = workspace_items.version + 1,
             updated_at = now(), changed_by = EXCLUDED.changed_by,
             change_source = EXCLUDED.change_source
         WHERE workspace_items.content_hash IS DISTINCT FROM EXCLUDED.content_hash",
    )
    .bind(s.id)
    .bind(s.uuid)
    .bind(&cols.parent)
    .bind(&cols.name)
    .bind(&cols.content)
    .bind(&cols.hash)
    .bind(&cols.size)
    .bind(&cols.path)
    .bind(w.by)
    .bind(w.source)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn parent_id(folders: &BTreeMap<String, Option<i64>>, path: &str) -> Option<i64> {
    let (parent, _) = path.rsplit_once('/')?;
    folders.get(parent).copied().flatten()
}
