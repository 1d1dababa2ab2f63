//! History upkeep in the background: the contents of new versions are packed as
//! deltas within a second or so of being saved, and the retention sweep runs now
//! and then. Several servers may share the work (rows are locked, not waited for).

use app::server::blobs;
use app::server::retention::{self, Retention};
use sqlx::PgPool;
use std::time::Duration;
use tokio::time::Instant;

/// How often the packer looks for new contents when it has found none.
const PACK_EVERY: Duration = Duration::from_secs(1);
/// Contents packed per transaction.
const PACK_BATCH: i64 = 64;

pub fn start(pool: PgPool, retention: Retention, sweep_every: Duration) {
    tokio::spawn(async move {
        let mut next_sweep = Instant::now() + sweep_every.min(Duration::from_secs(60));
        while !pool.is_closed() {
            match blobs::pack(&pool, PACK_BATCH).await {
                // More may be waiting: no pause.
                Ok(n) if n as i64 == PACK_BATCH => continue,
                Ok(_) => {}
                Err(e) if pool.is_closed() => tracing::debug!("packing stopped: {e}"),
                Err(e) => tracing::warn!("packing history: {e}"),
            }
            if Instant::now() >= next_sweep {
                if let Err(e) = retention::sweep(&pool, retention).await {
                    tracing::warn!("history retention sweep: {e}");
                }
                next_sweep = Instant::now() + sweep_every;
            }
            tokio::time::sleep(PACK_EVERY).await;
        }
    });
}
