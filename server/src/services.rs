//! What the routes need besides the API's state, wired together once: the
//! sandboxes, the runs in them, the news of each session, and the watches that
//! close sockets and streams when access ends.

use crate::access_watch::Watchers;
use crate::caps::{Caps, Sockets};
use crate::news::News;
use crate::runner::Runner;
use crate::runs::{RunSettings, Runs};
use crate::sandboxes::Sandboxes;
use app::server::access::Change;
use app::wire::events::Event;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct Services {
    pub pool: PgPool,
    pub sandboxes: Arc<Sandboxes>,
    pub news: Arc<News>,
    pub watchers: Arc<Watchers>,
    pub runs: Arc<Runs>,
    /// Each user's open terminal sockets and events streams, within their cap.
    pub sockets: Arc<Sockets>,
    /// The assistant's answers in flight (the API state's own, set by `routes::app`).
    pub assistant: Arc<app::server::assistant::Assistant>,
}

impl Services {
    /// Sandboxes run by `runner`, and the following of access changes: a change of
    /// a session's sharing is told to its pages, and its terminals whose openers
    /// lost the right to run are closed.
    pub fn start(
        runner: Arc<dyn Runner>,
        pool: PgPool,
        max_file_bytes: usize,
        max_workspace_bytes: usize,
        idle: Duration,
        run_settings: RunSettings,
        caps: Caps,
    ) -> Self {
        let news = Arc::new(News::default());
        let sandboxes = Sandboxes::new(
            runner,
            pool.clone(),
            news.clone(),
            max_file_bytes,
            max_workspace_bytes,
            idle,
            caps,
        );
        let watchers = Watchers::new(pool.clone());
        let (n, s) = (news.clone(), sandboxes.clone());
        watchers.start(move |change| match *change {
            Change::Session(session) => {
                n.tell(session, Event::Sharing);
                let s = s.clone();
                tokio::spawn(async move { s.close_revoked(session).await });
            }
            Change::Review(review) => n.tell(review, Event::Review),
            Change::User(_) | Change::Token(_) => {}
        });
        Self {
            runs: Runs::new(sandboxes.clone(), pool.clone(), run_settings),
            sockets: Sockets::new(caps.sockets_per_user),
            assistant: Default::default(),
            pool,
            sandboxes,
            news,
            watchers,
        }
    }
}
