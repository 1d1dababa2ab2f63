//! Open sockets and streams follow their access. Each one holds a [`Watch`] of
//! its login on its session; changes of access announced on the Postgres channel
//! (by this replica or another: sharing, sign-out, a deleted session) poke the
//! watches they concern, which re-check with the access module, and so does the
//! login's expiry. What lost access closes within a second.

use app::server::access::{self, Change, Grant};
use app::wire::access::Capability;
use app::{AppError, ErrorCode};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use uuid::Uuid;

/// After a failed re-check (the database unreachable), try again after this long.
const RETRY: Duration = Duration::from_secs(1);
/// The expiry timer never fires more often than this, whatever the clocks say.
const MIN_EXPIRY_WAIT: Duration = Duration::from_secs(1);

struct Entry {
    session: Uuid,
    review: Option<Uuid>,
    user: i64,
    token_hash: Vec<u8>,
    poke: Arc<Notify>,
}

pub struct Watchers {
    pool: PgPool,
    next: AtomicU64,
    open: Mutex<HashMap<u64, Entry>>,
}

/// What a re-check found.
pub enum Verdict {
    /// Still allowed; the grant as it is now (the role may have changed).
    Kept(Grant),
    /// No longer allowed: why, as the API would answer.
    Lost(AppError),
}

pub struct Watch {
    watchers: Arc<Watchers>,
    id: u64,
    poke: Arc<Notify>,
    token_hash: Vec<u8>,
    session: Uuid,
    /// A review request's page: access is re-checked on the request, not the session.
    review: Option<Uuid>,
    need: Capability,
    expires_at: DateTime<Utc>,
    /// A re-check is due: set before one starts, cleared once it is done, so a
    /// `changed` dropped halfway (a `select!` took another branch) redoes it.
    due: bool,
}

impl Watchers {
    pub fn new(pool: PgPool) -> Arc<Self> {
        Arc::new(Self {
            pool,
            next: AtomicU64::new(1),
            open: Default::default(),
        })
    }

    /// Watches `grant`, which must keep allowing `need`.
    pub fn watch(self: &Arc<Self>, grant: &Grant, need: Capability) -> Watch {
        self.follow(grant, None, need)
    }

    /// Watches a reader of review request `review`.
    pub fn watch_review(self: &Arc<Self>, grant: &Grant, review: Uuid, need: Capability) -> Watch {
        self.follow(grant, Some(review), need)
    }

    fn follow(self: &Arc<Self>, grant: &Grant, review: Option<Uuid>, need: Capability) -> Watch {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let poke = Arc::new(Notify::new());
        self.open.lock().expect("lock").insert(
            id,
            Entry {
                session: grant.session,
                review,
                user: grant.login.id,
                token_hash: grant.login.token_hash.clone(),
                poke: poke.clone(),
            },
        );
        Watch {
            watchers: self.clone(),
            id,
            poke,
            token_hash: grant.login.token_hash.clone(),
            session: grant.session,
            review,
            need,
            expires_at: grant.login.expires_at,
            due: false,
        }
    }

    /// How many sockets and streams are watched (for tests and figures).
    pub fn count(&self) -> usize {
        self.open.lock().expect("lock").len()
    }

    /// Pokes the watches `change` concerns; `None` pokes them all.
    fn poke(&self, change: Option<&Change>) {
        for e in self.open.lock().expect("lock").values() {
            let concerned = match change {
                None => true,
                Some(Change::Session(s)) => e.session == *s,
                Some(Change::User(u)) => e.user == *u,
                Some(Change::Token(t)) => hex::encode(&e.token_hash) == *t,
                Some(Change::Review(r)) => e.review == Some(*r),
            };
            if concerned {
                e.poke.notify_one();
            }
        }
    }

    /// Follows the channel until the server stops: pokes the watches each change
    /// concerns, then hands the change to `then`. A lost connection may have lost
    /// announcements: every watch re-checks once it is back.
    pub fn start(self: &Arc<Self>, then: impl Fn(&Change) + Send + 'static) {
        let me = Arc::downgrade(self);
        let pool = self.pool.clone();
        tokio::spawn(async move {
            let mut listener = None;
            loop {
                if me.strong_count() == 0 {
                    break;
                }
                let l = match &mut listener {
                    Some(l) => l,
                    None => match subscribe(&pool).await {
                        Ok(l) => {
                            if let Some(me) = me.upgrade() {
                                me.poke(None);
                            }
                            listener.insert(l)
                        }
                        Err(e) => {
                            tracing::warn!("cannot follow access changes: {e}");
                            tokio::time::sleep(RETRY).await;
                            continue;
                        }
                    },
                };
                match l.try_recv().await {
                    Ok(Some(n)) => {
                        let Some(me) = me.upgrade() else { break };
                        match serde_json::from_str::<Change>(n.payload()) {
                            Ok(change) => {
                                me.poke(Some(&change));
                                then(&change);
                            }
                            Err(e) => tracing::warn!("unreadable access change: {e}"),
                        }
                    }
                    // The connection dropped: subscribe again, then re-check everything.
                    Ok(None) | Err(_) => listener = None,
                }
            }
        });
    }
}

async fn subscribe(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut l = PgListener::connect_with(pool).await?;
    l.listen(access::CHANNEL).await?;
    Ok(l)
}

impl Watch {
    /// Waits for a change of this access (or the login's expiry) and re-checks
    /// it. Cancel-safe: a re-check cut short is done at the next call.
    pub async fn changed(&mut self) -> Verdict {
        loop {
            if !self.due {
                let wait = (self.expires_at - Utc::now())
                    .to_std()
                    .unwrap_or_default()
                    .max(MIN_EXPIRY_WAIT);
                tokio::select! {
                    _ = self.poke.notified() => {}
                    _ = tokio::time::sleep(wait) => {}
                }
                self.due = true;
            }
            let pool = &self.watchers.pool;
            let checked = match self.review {
                Some(r) => access::recheck_review(pool, &self.token_hash, r, self.need)
                    .await
                    .map(|rg| rg.grant),
                None => access::recheck(pool, &self.token_hash, self.session, self.need).await,
            };
            self.due = false;
            match checked {
                Ok(g) => {
                    self.expires_at = g.login.expires_at;
                    return Verdict::Kept(g);
                }

                Err(e) if lost(&e) => return Verdict::Lost(e),
                Err(e) => {
                    tracing::warn!(session = %self.session, "re-checking access: {e}");
                    tokio::time::sleep(RETRY).await;
                    self.due = true;
                }
            }
        }
    }
}

fn lost(e: &AppError) -> bool {
    matches!(
        e.error,
        ErrorCode::Unauthorized | ErrorCode::NotFound | ErrorCode::Forbidden
    )
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.watchers.open.lock().expect("lock").remove(&self.id);
    }
}
