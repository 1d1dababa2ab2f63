//! Upkeep in the background: the contents of new versions are packed as deltas,
//! and the search index copy follows the files, within a second or so of each
//! save; the history retention sweep and the sweep of expired logins and idle
//! guests run now and then. Several servers may share the work (rows are locked,
//! not waited for).

use app::server::retention::{self, Retention};
use app::server::state::{FileChange, WorkspaceHooks};
use app::server::{auth, blobs, search};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How often the work is looked for when there was none.
const EVERY: Duration = Duration::from_secs(1);
/// Items per transaction.
const BATCH: i64 = 64;
/// Files copied into the search index between two refreshes of its statistics.
const ANALYZE_AFTER: usize = 1000;

/// What the sweeps keep and how often they run.
pub struct Sweeps {
    pub retention: Retention,
    pub every: Duration,
    /// Guests idle this long go, with their sessions.
    pub guest_idle_days: i64,
    /// Stops the sandboxes of swept sessions.
    pub hooks: Arc<dyn WorkspaceHooks>,
}

pub fn start(pool: PgPool, sweeps: Sweeps) {
    let sweep_every = sweeps.every;
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
                if let Err(e) = retention::sweep(&pool, sweeps.retention).await {
                    tracing::warn!("history retention sweep: {e}");
                }
                sweep_logins(&pool, &sweeps).await;
                next_sweep = now + sweep_every;
            }
            tokio::time::sleep(EVERY).await;
        }
    });
}

async fn sweep_logins(pool: &PgPool, sweeps: &Sweeps) {
    match auth::sweep(pool, sweeps.guest_idle_days).await {
        Ok(swept) => {
            if swept.logins + swept.guests > 0 {
                tracing::info!(logins = swept.logins, guests = swept.guests, "swept logins");
            }
            for s in swept.sessions {
                sweeps.hooks.changed(s, FileChange::SessionDeleted).await;
            }
        }
        Err(e) => tracing::warn!("sweeping logins: {e}"),
    }
}
