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

/// Reads the files of `entries` whose metadata the manifest does not vouch for;
/// returns their hash and content (`None` when over `max`).
async fn read_changed(
    runner: &dyn Runner,
    s: SessionRef,
    entries: &[&Entry],
    max: u64,
) -> Result<HashMap<String, Option<(String, Body)>>, SyncError> {
    let paths: Vec<String> = entries.iter().map(|e| e.path.clone()).collect();
    if paths.is_empty() {
        return Ok(HashMap::new());
    }
    let read = runner.read(s, paths, max).await?;
    Ok(read
        .into_iter()
        .map(|(p, bytes)| {
            let body = bytes.map(|b| (sha256_hex(&b), Body::from_bytes(&p, b)));
            (p, body)
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
    // The sandbox's view: path -> (kind, Some(hash) for files within the limit).
    let mut sandbox: HashMap<&str, (EntryKind, Option<String>)> = HashMap::new();
    for e in &scan {
        let h = match (e.kind, manifest.unchanged(e)) {
            (EntryKind::Folder, _) => None,
            (_, Some(k)) => k.hash.clone(),
            _ => read
                .get(&e.path)
                .and_then(|r| r.as_ref())
                .map(|(h, _)| h.clone()),
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

    let contents: Vec<(String, Vec<u8>, String)> = if to_fetch.is_empty() {
        Vec::new()
    } else {
        sqlx::query_as(
            "SELECT full_path, COALESCE(data, convert_to(content, 'UTF8')), content_hash
             FROM workspace_items
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
        ops.push(FsOp::Write { path, content });
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
    let files: Vec<&Entry> = moved
        .iter()
        .copied()
        .filter(|e| e.kind == EntryKind::File)
        .collect();
    let mut read = read_changed(runner, s, &files, max).await?;

    let mut upserts = Vec::new();
    // Hashes of what was read, for the manifest once the contents went into `upserts`.
    let read_hashes: HashMap<String, String> = read
        .iter()
        .filter_map(|(p, r)| Some((p.clone(), r.as_ref()?.0.clone())))
        .collect();
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
                    upserts.push(Put {
                        path: e.path.clone(),
                        body: None,
                    });
                }
            }
            EntryKind::File => {
                let Some((h, body)) = read.remove(&e.path).flatten() else {
                    continue;
                };
                if Some(&h) != before.and_then(|k| k.hash.as_ref()) {
                    upserts.push(Put {
                        path: e.path.clone(),
                        body: Some(body),
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

    let mut not_kept = Vec::new();
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
        not_kept = fit(&mut tx, s.id, &mut upserts, limits.workspace).await?;
        put_many(&mut tx, s.id, s.uuid, &upserts, w).await?;
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
    changed.extend(upserts.into_iter().map(|u| u.path));
    changed.sort();
    changed.dedup();
    Ok(Pulled { changed, not_kept })
}

/// Keeps in `upserts` the files the workspace has room for (`room` bytes in all,
/// counting what Postgres holds besides them), in path order; returns the others.
async fn fit(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    sid: i64,
    upserts: &mut Vec<Put>,
    room: u64,
) -> Result<Vec<String>, sqlx::Error> {
    let files: Vec<&str> = upserts
        .iter()
        .filter(|u| u.body.is_some())
        .map(|u| u.path.as_str())
        .collect();
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let others: i64 = sqlx::query_scalar(
        "SELECT COALESCE(sum(size_bytes), 0)::int8 FROM workspace_items
         WHERE session_id = $1 AND NOT (full_path = ANY($2))",
    )
    .bind(sid)
    .bind(&files)
    .fetch_one(&mut **tx)
    .await?;
    let mut left = room as i64 - others;
    let mut refused = Vec::new();
    upserts.retain(|u| {
        let Some(body) = &u.body else { return true };
        let size = body.len() as i64;
        if size <= left {
            left -= size;
            true
        } else {
            refused.push(u.path.clone());
            false
        }
    });
    Ok(refused)
}
