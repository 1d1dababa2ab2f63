//! The command history of a session's terminals: each command the shell
//! integration saw end makes the sandbox sync back, is recorded in Postgres (plain
//! text, capped) and is announced to the session's pages.

use crate::news::News;
use crate::runner::SessionRef;
use crate::sync::Kick;
use crate::terminal::{osc, Finished};
use app::server::commands::{self, Ended};
use app::wire::events::Event;
use sqlx::PgPool;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Follows the commands of one running sandbox until its terminals are gone.
pub async fn follow(
    pool: PgPool,
    news: Arc<News>,
    session: SessionRef,
    mut done: mpsc::UnboundedReceiver<Finished>,
    sync: mpsc::Sender<Kick>,
) {
    while let Some(f) = done.recv().await {
        // Waits if watcher kicks fill the queue: a command's sync is never dropped.
        let _ = sync.send(Kick::Now(f.opener)).await;
        let output = osc::plain_text(&f.output);
        let ended = Ended {
            command: &f.command,
            output: &output,
            truncated: f.truncated,
            exit_code: f.exit_code,
            started_at: f.started_at,
            finished_at: f.finished_at,
        };
        match commands::record(&pool, session.id, ended).await {
            Ok(()) => news.tell(
                session.uuid,
                Event::Command {
                    exit_code: f.exit_code,
                },
            ),
            Err(e) => tracing::warn!("recording a command: {e}"),
        }
    }
}
