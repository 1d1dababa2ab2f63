//! Which server replicas are using each session's sandbox, kept in Postgres so
//! every replica sees it: one replica's idle cull must never stop a sandbox (delete
//! its pod, end its control group) that a terminal on another replica is using.
//! A replica renews its rows while it holds sandboxes; a row not renewed for
//! `STALE_SECS` is a replica that is gone. Holding and the last release take the
//! session's advisory lock, so a sandbox is never stopped while another replica
//! starts using it.

use sqlx::{PgPool, Postgres, Transaction};
use std::future::Future;
use uuid::Uuid;

/// This replica's row for a session goes.
const LET_GO: &str = "DELETE FROM sandbox_holders WHERE session_id = $1 AND replica = $2";

/// A holder not renewed for this long is taken for gone (renewals come every
/// culling round, a few seconds).
pub const STALE_SECS: i32 = 30;

pub struct Holders {
    pool: PgPool,
    /// This server process, for as long as it runs.
    replica: Uuid,
}

async fn lock(tx: &mut Transaction<'_, Postgres>, session: i64) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(4, hashtext($1::text))")
        .bind(session)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Holders {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            replica: Uuid::new_v4(),
        }
    }

    /// Records this replica as using the session's sandbox. Fails once the
    /// session is deleted (its rows go with it), so no sandbox is started for it.
    pub async fn hold(&self, session: i64) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        lock(&mut tx, session).await?;
        sqlx::query(
            "INSERT INTO sandbox_holders (session_id, replica) VALUES ($1, $2)
             ON CONFLICT (session_id, replica) DO UPDATE SET seen_at = now()",
        )
        .bind(session)
        .bind(self.replica)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// Takes back a hold whose sandbox did not start (what the start left is
    /// for the next try to find).
    pub async fn unhold(&self, session: i64) -> Result<(), sqlx::Error> {
        sqlx::query(LET_GO)
            .bind(session)
            .bind(self.replica)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Tells the others this replica still uses these sandboxes.
    pub async fn renew(&self, sessions: &[i64]) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE sandbox_holders SET seen_at = now() WHERE replica = $1 AND session_id = ANY($2)",
        )
        .bind(self.replica)
        .bind(sessions)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Lets go of the session's sandbox: `last` (stopping it) runs only when no
    /// other live replica holds it, under the session's lock; otherwise `mine`
    /// (freeing what only this replica had for it). Says whether it was the last.
    pub async fn release(
        &self,
        session: i64,
        last: impl Future<Output = ()>,
        mine: impl Future<Output = ()>,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        lock(&mut tx, session).await?;
        sqlx::query(LET_GO)
            .bind(session)
            .bind(self.replica)
            .execute(&mut *tx)
            .await?;
        let others: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM sandbox_holders WHERE session_id = $1
               AND seen_at > now() - $2 * interval '1 second')",
        )
        .bind(session)
        .bind(STALE_SECS)
        .fetch_one(&mut *tx)
        .await?;
        if others {
            mine.await;
        } else {
            last.await;
        }
        tx.commit().await?;
        Ok(!others)
    }

    /// Forgets the rows of replicas gone for a while.
    pub async fn sweep(&self) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(
            "DELETE FROM sandbox_holders WHERE seen_at < now() - $1 * interval '1 second'",
        )
        .bind(STALE_SECS * 4)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}
