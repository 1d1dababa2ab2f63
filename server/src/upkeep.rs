//! History and search upkeep in the background: the contents of new versions are
//! packed as deltas, and the search index copy follows the files, within a second
//! or so of each save; the retention sweep runs now and then. Several servers may share the work (rows
//! are locked, not waited for).

use app::server::retention::{self, Retention};
use app::server::{blobs, search};
use sqlx::PgPool;
use std::time::Duration;
use tokio::time::Instant;

/// How often the work is looked for when there was none.
const EVERY: Duration = Duration::from_secs(1);
/// Items per transaction.
const BATCH: i64 = 64;
/// Files copied into the search index between two refreshes of its statistics.
const ANALYZE_AFTER: usize = 1000;

pub fn start(pool: PgPool, retention: Retention, sweep_every: Duration) {
    tokio::spawn(async move {
        let mut cache = blobs::Cache::default();
        let mut next_sweep = Instant::now() + sweep_every.min(Duration::from_secs(60));
        let mut copied_since_analyze = 0;
        while !pool.is_closed() {
            let packed = blobs::pack(&pool, BATCH, &mut cache).await;
            let indexed = search::index(&pool, BATCH * 8).await;
            if let Ok(n) = indexed {
                copied_since_analyze += n;
            }
            if copied_since_analyze >= ANALYZE_AFTER {
                copied_since_analyze = 0;
                if let Err(e) = search::analyze(&pool).await {
                    tracing::warn!("refreshing the search index's statistics: {e}");
                }
            }
            match (&packed, &indexed) {
                // More may be waiting: no pause.
                (Ok(p), Ok(i)) if *p as i64 == BATCH || *i as i64 == BATCH * 8 => continue,
                _ if pool.is_closed() => break,
                (Err(e), _) => tracing::warn!("packing history: {e}"),
                (_, Err(e)) => tracing::warn!("indexing for search: {e}"),
                _ => {}
            }
            let now = Instant::now();
            if now >= next_sweep {
                if let Err(e) = retention::sweep(&pool, retention).await {
                    tracing::warn!("history retention sweep: {e}");
                }
                next_sweep = now + sweep_every;
            }
            tokio::time::sleep(EVERY).await;
        }
    });
}
