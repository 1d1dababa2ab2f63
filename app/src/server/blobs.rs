//! Contents of file versions, stored once per session and hash, as zstd frames
//! compressed with their predecessor's content as the dictionary, so a long series
//! of small edits costs a few bytes each. A save makes its delta at once (the
//! content it replaces is at hand); any other change comes in raw (the database
//! trigger's copy of a new version) and the packer compresses it soon after.
//! Every `MAX_DEPTH` deltas a self-contained frame starts a new chain, so reading
//! any version decodes at most that many frames.

use crate::AppError;
use sqlx::{PgPool, Postgres, Transaction};
use std::collections::HashMap;

/// Longest chain of deltas before a self-contained frame.
pub const MAX_DEPTH: i32 = 32;
/// zstd's level: measured on a 124 KB file with one line changed, level 3 makes
/// a 628-byte delta in 0.28 ms (level 1: 2.8 KB; level 6: 1 KB in 0.6 ms).
const LEVEL: i32 = 3;
/// Decoded contents a cache keeps, in bytes.
const CACHE_BYTES: usize = 32 << 20;

#[derive(sqlx::FromRow)]
struct Stored {
    encoding: String,
    base: Option<String>,
    size: i64,
    data: Vec<u8>,
}

/// Decoded contents by hash: consecutive versions are each other's dictionaries,
/// so the packer keeps one across rounds. Bounded: the oldest entries go first.
#[derive(Default)]
pub struct Cache {
    entries: HashMap<(i64, String), std::sync::Arc<Vec<u8>>>,
    order: std::collections::VecDeque<(i64, String)>,
    bytes: usize,
}

/// A cache shared by the requests of a server: the contents last saved or read,
/// so that a save finds the content it replaces without reading it back.
#[derive(Clone, Default)]
pub struct Contents(std::sync::Arc<std::sync::Mutex<Cache>>);

impl Contents {
    pub fn remember(&self, sid: i64, hash: &str, content: &[u8]) {
        let mut cache = self.0.lock().expect("cache lock");
        cache.put(sid, hash, content.to_vec());
    }

    /// A delta of `content` against the content of `base`, when that is at hand
    /// (remembered, or still the current content of `path`).
    pub async fn delta(
        &self,
        pool: &PgPool,
        sid: i64,
        path: &str,
        base: &str,
        content: &[u8],
    ) -> Option<Vec<u8>> {
        let known = self.0.lock().expect("cache lock").get(sid, base);
        let dict = match known {
            Some(d) => d,
            None => {
                let current: Vec<u8> = sqlx::query_scalar(
                    "SELECT COALESCE(data, convert_to(content, 'UTF8')) FROM workspace_items
                     WHERE session_id = $1 AND full_path = $2 AND content_hash = $3",
                )
                .bind(sid)
                .bind(path)
                .bind(base)
                .fetch_optional(pool)
                .await
                .ok()??;
                std::sync::Arc::new(current)
            }
        };
        compress(content, Some(&dict)).ok()
    }
}

impl Cache {
    fn get(&self, sid: i64, hash: &str) -> Option<std::sync::Arc<Vec<u8>>> {
        self.entries.get(&(sid, hash.to_string())).cloned()
    }

    fn put(&mut self, sid: i64, hash: &str, content: Vec<u8>) -> std::sync::Arc<Vec<u8>> {
        let key = (sid, hash.to_string());
        if let Some(c) = self.entries.get(&key) {
            return c.clone();
        }
        self.bytes += content.len();
        let content = std::sync::Arc::new(content);
        self.entries.insert(key.clone(), content.clone());
        self.order.push_back(key);
        while self.bytes > CACHE_BYTES && self.order.len() > 1 {
            if let Some(old) = self.order.pop_front() {
                if let Some(c) = self.entries.remove(&old) {
                    self.bytes -= c.len();
                }
            }
        }
        content
    }
}

/// The content of blob `hash` of session `sid`.
pub async fn content(
    db: &mut sqlx::PgConnection,
    sid: i64,
    hash: &str,
    cache: &mut Cache,
) -> Result<Vec<u8>, AppError> {
    // The chain back to a self-contained frame, newest first.
    let mut chain: Vec<(String, Stored)> = Vec::new();
    let mut next = Some(hash.to_string());
    while let Some(h) = next {
        if cache.get(sid, &h).is_some() {
            next = Some(h);
            break;
        }
        let stored: Stored = sqlx::query_as(
            "SELECT encoding, base, size, data FROM blobs WHERE session_id = $1 AND hash = $2",
        )
        .bind(sid)
        .bind(&h)
        .fetch_optional(&mut *db)
        .await?
        .ok_or_else(|| AppError::internal(format!("blob {h} of session {sid} is missing")))?;
        next = stored.base.clone();
        chain.push((h, stored));
        // A guard against a broken table, far past any chain the packer makes.
        if chain.len() > 4 * MAX_DEPTH as usize {
            return Err(AppError::internal(format!("blob {hash}: chain too long")));
        }
    }
    let mut dict = next.and_then(|h| cache.get(sid, &h));
    for (h, stored) in chain.into_iter().rev() {
        let bytes = decode(&stored, dict.as_deref().map(Vec::as_slice))?;
        dict = Some(cache.put(sid, &h, bytes));
    }
    Ok(dict.map(|d| d.as_ref().clone()).unwrap_or_default())
}

fn decode(stored: &Stored, dict: Option<&[u8]>) -> Result<Vec<u8>, AppError> {
    let capacity = stored.size as usize;
    let out = match (stored.encoding.as_str(), dict) {
        ("raw", _) => return Ok(stored.data.clone()),
        ("zstd", _) => zstd::bulk::decompress(&stored.data, capacity),
        ("delta", Some(dict)) => zstd::bulk::Decompressor::with_dictionary(dict)
            .and_then(|mut d| d.decompress(&stored.data, capacity)),
        (other, _) => return Err(AppError::internal(format!("blob encoding {other}"))),
    };
    out.map_err(AppError::internal)
}

fn compress(content: &[u8], dict: Option<&[u8]>) -> Result<Vec<u8>, AppError> {
    match dict {
        Some(dict) => zstd::bulk::Compressor::with_dictionary(LEVEL, dict)
            .and_then(|mut c| c.compress(content)),
        None => zstd::bulk::compress(content, LEVEL),
    }
    .map_err(AppError::internal)
}

/// The encoding chosen for a content: a delta against `base` when there is one
/// and its chain has room, else a self-contained frame.
struct Packed {
    encoding: &'static str,
    base: Option<String>,
    depth: i32,
    data: Vec<u8>,
}

async fn pack_one(
    tx: &mut Transaction<'_, Postgres>,
    sid: i64,
    content: &[u8],
    base: Option<(String, i32)>,
    cache: &mut Cache,
) -> Result<Packed, AppError> {
    if let Some((base, depth)) = base.filter(|(_, d)| *d < MAX_DEPTH) {
        let dict = self::content(tx, sid, &base, cache).await?;
        let data = compress(content, Some(&dict))?;
        return Ok(Packed {
            encoding: "delta",
            base: Some(base),
            depth: depth + 1,
            data,
        });
    }
    Ok(Packed {
        encoding: "zstd",
        base: None,
        depth: 0,
        data: compress(content, None)?,
    })
}

/// Packs up to `limit` raw contents (oldest first), each against the content of
/// the version before its first appearance. Another server packing at the same
/// time takes other rows. Returns how many were packed.
pub async fn pack(pool: &PgPool, limit: i64, cache: &mut Cache) -> Result<usize, AppError> {
    let mut tx = pool.begin().await?;
    let raw: Vec<(i64, String, Vec<u8>)> = sqlx::query_as(
        "SELECT session_id, hash, data FROM blobs WHERE encoding = 'raw'
         ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    let mut packed_count = 0;
    for (sid, hash, data) in &raw {
        // The predecessor of this content's first version, if its blob is there.
        let base: Option<(String, i32, String)> = sqlx::query_as(
            "SELECT b.hash, b.depth, b.encoding FROM file_versions first
             JOIN LATERAL (SELECT hash FROM file_versions p
                           WHERE p.session_id = first.session_id AND p.file_key = first.file_key
                             AND p.id < first.id ORDER BY p.id DESC LIMIT 1) prev ON true
             JOIN blobs b ON b.session_id = first.session_id AND b.hash = prev.hash
             WHERE first.session_id = $1 AND first.hash = $2 AND prev.hash <> $2
             ORDER BY first.id LIMIT 1",
        )
        .bind(sid)
        .bind(hash)
        .fetch_optional(&mut *tx)
        .await?;
        // A base still raw is packed first (it is older): its depth is not known yet.
        if base
            .as_ref()
            .is_some_and(|(_, _, encoding)| encoding == "raw")
        {
            continue;
        }
        // Saves have made deltas of it already, counting from its depth 0: it
        // starts a chain and stays at 0.
        let based_on: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM blobs WHERE session_id = $1 AND base = $2)",
        )
        .bind(sid)
        .bind(hash)
        .fetch_one(&mut *tx)
        .await?;
        let base = base
            .filter(|_| !based_on)
            .map(|(hash, depth, _)| (hash, depth));
        let packed = pack_one(&mut tx, *sid, data, base, cache).await?;
        cache.put(*sid, hash, data.clone());
        packed_count += 1;
        sqlx::query(
            "UPDATE blobs SET encoding = $3, base = $4, depth = $5, data = $6
             WHERE session_id = $1 AND hash = $2",
        )
        .bind(sid)
        .bind(hash)
        .bind(packed.encoding)
        .bind(&packed.base)
        .bind(packed.depth)
        .bind(&packed.data)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(packed_count)
}

/// Re-encodes the blobs based on `hash` so that it can be dropped: each becomes a
/// delta of `hash`'s own base (or self-contained when it has none).
pub async fn unbase(
    tx: &mut Transaction<'_, Postgres>,
    sid: i64,
    hash: &str,
    cache: &mut Cache,
) -> Result<(), AppError> {
    let base: Option<(String, i32)> = sqlx::query_as(
        "SELECT b.hash, b.depth FROM blobs x JOIN blobs b ON b.session_id = x.session_id AND b.hash = x.base
         WHERE x.session_id = $1 AND x.hash = $2",
    )
    .bind(sid)
    .bind(hash)
    .fetch_optional(&mut **tx)
    .await?;
    let dependents: Vec<String> =
        sqlx::query_scalar("SELECT hash FROM blobs WHERE session_id = $1 AND base = $2")
            .bind(sid)
            .bind(hash)
            .fetch_all(&mut **tx)
            .await?;
    for d in dependents {
        let content = content(tx, sid, &d, cache).await?;
        let packed = pack_one(tx, sid, &content, base.clone(), cache).await?;
        sqlx::query(
            "UPDATE blobs SET encoding = $3, base = $4, depth = $5, data = $6
             WHERE session_id = $1 AND hash = $2",
        )
        .bind(sid)
        .bind(&d)
        .bind(packed.encoding)
        .bind(&packed.base)
        .bind(packed.depth)
        .bind(&packed.data)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
