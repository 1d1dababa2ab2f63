//! The two-way sync between a session's files in Postgres and in its sandbox.
//!
//! Postgres is the source of truth: opening a session makes the sandbox match
//! it, writing only what differs. Changes made in the sandbox flow back in one
//! transaction after each command and on file-watcher events. Detection compares
//! size and mtime against the manifest of the last sync, and hashes only what
//! moved. Text and binary files both sync (binary ones as bytes with a media
//! type). A file over the per-file limit, or that would take the workspace past
//! its limit, is never copied to Postgres (whatever Postgres holds for its path
//! stays as it was) and is never overwritten or deleted in the sandbox by a
//! sync: it lives there only, and the pull names it. Symbolic links are
//! neither followed nor synced.

use crate::runner::{Entry, EntryKind, FsOp, Runner, RunnerError, SessionRef};
use app::server::content::Body;
use app::server::files::Writer;
use app::server::upsert::{put_many, Put};
use app::server::{digest::sha256_hex, history};
use app::wire::history::Source;

use sqlx::PgPool;
use std::collections::{HashMap, HashSet};

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
    /// files that live only in the sandbox (over the size limit).
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

/// Contents move between the sandbox and Postgres this many bytes at a time (or
/// one file, when it is larger), so a sync's memory does not grow with the
/// workspace.
const BATCH_BYTES: u64 = 8 << 20;

/// `items` in runs of at most `BATCH_BYTES` by `size` (a larger item alone).
fn batches<T>(items: &[T], size: impl Fn(&T) -> u64) -> Vec<&[T]> {
    let mut out = Vec::new();
    let (mut start, mut sum) = (0, 0);
    for (i, it) in items.iter().enumerate() {
        let n = size(it);
        if i > start && sum + n > BATCH_BYTES {
            out.push(&items[start..i]);
            (start, sum) = (i, 0);
        }
        sum += n;
    }
    if start < items.len() {
        out.push(&items[start..]);
    }
    out
}

/// Reads the files of `entries` (one batch) from the sandbox: hash and content,
/// `None` for one gone or over `max`. A file the scan saw over `max` is not asked
/// for at all (a pod's tar would carry all of it).
async fn read_files(
    runner: &dyn Runner,
    s: SessionRef,
    entries: &[&Entry],
    max: u64,
) -> Result<Vec<(String, Option<(String, Body)>)>, SyncError> {
    let (within, over): (Vec<&Entry>, Vec<&Entry>) = entries.iter().partition(|e| e.size <= max);
    let mut out: Vec<_> = over.into_iter().map(|e| (e.path.clone(), None)).collect();
    if !within.is_empty() {
        let paths = within.iter().map(|e| e.path.clone()).collect();
        out.extend(
            runner
                .read(s, paths, max)
                .await?
                .into_iter()
                .map(|(p, bytes)| {
                    let body = bytes.map(|b| (sha256_hex(&b), Body::from_bytes(&p, b)));
                    (p, body)
                }),
        );
    }
    Ok(out)
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
    let db: Vec<(String, String, Option<String>, i64)> = sqlx::query_as(
        "SELECT full_path, kind, content_hash, size_bytes FROM workspace_items WHERE session_id = $1",
    )
    .bind(s.id)
    .fetch_all(pool)
    .await?;
    let scan = runner.scan(s).await?;
    let unknown: Vec<&Entry> = scan
        .iter()
        .filter(|e| e.kind == EntryKind::File && manifest.unchanged(e).is_none())
        .collect();
    // Only their hashes are needed: contents are dropped batch by batch.
    let mut read: HashMap<String, String> = HashMap::new();
    for batch in batches(&unknown, |e| e.size) {
        for (p, r) in read_files(runner, s, batch, max).await? {
            if let Some((h, _)) = r {
                read.insert(p, h);
            }
        }
    }
    // The sandbox's view: path -> (kind, Some(hash) for files within the limit).
    let mut sandbox: HashMap<&str, (EntryKind, Option<String>)> = HashMap::new();
    for e in &scan {
        let h = match (e.kind, manifest.unchanged(e)) {
            (EntryKind::Folder, _) => None,
            (_, Some(k)) => k.hash.clone(),
            _ => read.get(&e.path).cloned(),
        };
        sandbox.insert(&e.path, (e.kind, h));
    }
    let sandbox_only = |path: &str| matches!(sandbox.get(path), Some((EntryKind::File, None)));

    let in_db: HashSet<&str> = db.iter().map(|(p, ..)| p.as_str()).collect();
    let mut ops = Vec::new();
    let mut to_fetch: Vec<(&str, u64)> = Vec::new();
    for (path, kind, h, size) in &db {
        match (kind.as_str(), sandbox.get(path.as_str())) {
            ("folder", Some((EntryKind::Folder, _))) => {}
            ("folder", _) if sandbox_only(path) => {}
            ("folder", _) => ops.push(FsOp::Mkdir { path: path.clone() }),
            (_, Some((EntryKind::File, have))) if have == h => {}
            _ if sandbox_only(path) => {}
            _ => to_fetch.push((path, *size as u64)),
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

    // Removals and folders go with the first batch of files (one call when it
    // all fits in one), the other files a batch at a time.
    let mut count = ops.len();
    let mut pending = ops;
    let mut written = Vec::new();
    let mut hashes: HashMap<String, String> = HashMap::new();
    let parts = batches(&to_fetch, |(_, size)| *size);
    for batch in &parts {
        let paths: Vec<&str> = batch.iter().map(|(p, _)| *p).collect();
        let contents: Vec<(String, Vec<u8>, String)> = sqlx::query_as(
            "SELECT full_path, COALESCE(data, convert_to(content, 'UTF8')), content_hash
             FROM workspace_items
             WHERE session_id = $1 AND kind = 'file' AND full_path = ANY($2)",
        )
        .bind(s.id)
        .bind(&paths)
        .fetch_all(pool)
        .await?;
        for (path, content, hash) in contents {
            hashes.insert(path.clone(), hash);
            pending.push(FsOp::Write { path, content });
            count += 1;
        }
        written.extend(runner.apply(s, std::mem::take(&mut pending)).await?);
    }
    if parts.is_empty() {
        written = runner.apply(s, pending).await?;
    }
    tracing::debug!(ms = started.elapsed().as_millis() as u64, "sandbox filled");

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
    for (path, kind, ..) in &db {
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

/// The limits a pull keeps to: each file's size, the workspace's total.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub file: u64,
    pub workspace: u64,
}

/// What a pull did: the paths that changed in Postgres, and the files that
/// stayed in the sandbox only because the workspace had no room for them.
#[derive(Debug, Default)]
pub struct Pulled {
    pub changed: Vec<String>,
    pub not_kept: Vec<String>,
}

/// Brings what changed in the sandbox since the last sync into Postgres, in one
/// transaction, as the terminal's changes (`by`: the user whose command ended,
/// when one did).
pub async fn pull(
    runner: &dyn Runner,
    pool: &PgPool,
    s: SessionRef,
    limits: Limits,
    manifest: &mut Manifest,
    by: Option<i64>,
) -> Result<Pulled, SyncError> {
    let max = limits.file;
    let scan = runner.scan(s).await?;
    let seen: HashSet<&str> = scan.iter().map(|e| e.path.as_str()).collect();
    let moved: Vec<&Entry> = scan
        .iter()
        .filter(|e| match manifest.unchanged(e) {
            None => true,
            // Not kept for want of room last time: tried again, as room may have been made.
            Some(k) => e.kind == EntryKind::File && k.hash.is_none() && e.size <= max,
        })
        .collect();
    let mut folders = Vec::new();
    let mut retype = Vec::new();
    for e in &moved {
        let before = manifest.0.get(&e.path);
        if before
            .is_some_and(|k| k.kind != e.kind && (k.kind == EntryKind::Folder || k.hash.is_some()))
        {
            retype.push(e.path.clone());
        }
        if e.kind == EntryKind::Folder && before.is_none_or(|k| k.kind != EntryKind::Folder) {
            folders.push(Put {
                path: e.path.clone(),
                body: None,
            });
        }
    }
    // Files over the limit stay in the sandbox, unread.
    let files: Vec<&Entry> = moved
        .iter()
        .copied()
        .filter(|e| e.kind == EntryKind::File && e.size <= max)
        .collect();
    let deleted: Vec<String> = manifest
        .0
        .iter()
        .filter(|(p, k)| {
            !seen.contains(p.as_str()) && (k.kind == EntryKind::Folder || k.hash.is_some())
        })
        .map(|(p, _)| p.clone())
        .collect();

    let mut not_kept = Vec::new();
    let mut changed: Vec<String> = folders.iter().map(|f| f.path.clone()).collect();
    // Hashes of what was read, for the manifest.
    let mut read_hashes: HashMap<String, String> = HashMap::new();
    if !files.is_empty() || !folders.is_empty() || !deleted.is_empty() || !retype.is_empty() {
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
        // Room is decided on the sizes the scan saw, before anything is read.
        let (fits, refused) = fit(&mut tx, s.id, &files, limits.workspace).await?;
        not_kept = refused;
        put_many(&mut tx, s.id, s.uuid, &folders, w).await?;
        for batch in batches(&fits, |e| e.size) {
            let scanned: HashMap<&str, u64> =
                batch.iter().map(|e| (e.path.as_str(), e.size)).collect();
            let mut puts = Vec::new();
            for (path, read) in read_files(runner, s, batch, max).await? {
                // Gone, or grown since the scan: left for the next sync (its
                // modification time has moved too).
                let Some((h, body)) =
                    read.filter(|(_, b)| Some(&(b.len() as u64)) <= scanned.get(path.as_str()))
                else {
                    continue;
                };
                read_hashes.insert(path.clone(), h.clone());
                if Some(&h) != manifest.0.get(&path).and_then(|k| k.hash.as_ref()) {
                    puts.push(Put {
                        path,
                        body: Some(body),
                    });
                }
            }
            put_many(&mut tx, s.id, s.uuid, &puts, w).await?;
            changed.extend(puts.into_iter().map(|u| u.path));
        }
        tx.commit().await?;
    }

    // Record what was seen, keeping Postgres' hashes for sandbox-only files.
    changed.extend(deleted.iter().cloned());
    for p in &deleted {
        manifest.forget(p);
    }
    for e in &moved {
        let hash = match e.kind {
            EntryKind::Folder => None,
            // Not kept: the sandbox's own, like a file over the limit.
            EntryKind::File if not_kept.contains(&e.path) => None,
            EntryKind::File => match read_hashes.get(&e.path) {
                Some(h) => Some(h.clone()),
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
    changed.sort();
    changed.dedup();
    Ok(Pulled { changed, not_kept })
}

/// The files the workspace has room for (`room` bytes in all, counting what
/// Postgres holds besides them), in order, and the paths of the others.
async fn fit<'a>(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    sid: i64,
    files: &[&'a Entry],
    room: u64,
) -> Result<(Vec<&'a Entry>, Vec<String>), sqlx::Error> {
    if files.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let paths: Vec<&str> = files.iter().map(|e| e.path.as_str()).collect();
    let others: i64 = sqlx::query_scalar(
        "SELECT COALESCE(sum(size_bytes), 0)::int8 FROM workspace_items
         WHERE session_id = $1 AND NOT (full_path = ANY($2))",
    )
    .bind(sid)
    .bind(&paths)
    .fetch_one(&mut **tx)
    .await?;
    let mut left = room as i64 - others;
    let (mut fits, mut refused) = (Vec::new(), Vec::new());
    for e in files {
        if e.size as i64 <= left {
            left -= e.size as i64;
            fits.push(*e);
        } else {
            refused.push(e.path.clone());
        }
    }
    Ok((fits, refused))
}

#[cfg(test)]
mod tests {
    use super::{batches, BATCH_BYTES};

    #[test]
    fn batches_stay_within_their_bytes_and_keep_every_item_in_order() {
        const MIB: u64 = 1 << 20;
        let sizes = [3 * MIB, 3 * MIB, 3 * MIB, 20 * MIB, 1, 1, 7 * MIB, 2 * MIB];
        let parts = batches(&sizes, |s| *s);
        let sums: Vec<u64> = parts.iter().map(|p| p.iter().sum()).collect();
        // A file larger than a batch goes alone; no other batch passes the bound.
        assert_eq!(sums, [6 * MIB, 3 * MIB, 20 * MIB, 7 * MIB + 2, 2 * MIB]);
        assert!(parts
            .iter()
            .all(|p| p.len() == 1 || p.iter().sum::<u64>() <= BATCH_BYTES));
        assert_eq!(parts.concat(), sizes);
        assert!(batches(&[] as &[u64], |s| *s).is_empty());
    }
}
