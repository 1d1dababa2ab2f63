//! `GET /ai/stream/{message}`: an assistant answer as server-sent events, from
//! its start whoever connects when, then its end. An answer streaming on this
//! replica is followed as it grows; one streaming elsewhere is followed through
//! its row (written every fraction of a second); an ended one is sent whole. Only
//! its author reads it, and the stream ends if they lose the session.

use crate::access_watch::{Verdict, Watch};
use crate::services::Services;
use app::server::access;
use app::server::assistant::{chat, live::Snapshot};
use app::wire::access::Capability;
use app::wire::assistant::{AnswerEvent, AnswerStatus};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::sync::watch;
use uuid::Uuid;

/// How often an answer streaming on another replica is read again.
const POLL: Duration = Duration::from_millis(300);

pub async fn events(
    State(services): State<Services>,
    Path(answer): Path<Uuid>,
    headers: HeaderMap,
) -> Response {
    let grant = match access::answer_in(&services.pool, &headers, answer, Capability::Read).await {
        Ok(g) => g,
        Err(e) => return e.into_response(),
    };
    let feed = Follow {
        watch: services.watchers.watch(&grant, Capability::Read),
        reader: Reader {
            live: services.assistant.live.follow(answer),
            services,
            answer,
            sent: 0,
            queue: VecDeque::new(),
            over: false,
        },
    };
    crate::sse::respond(feed)
}

struct Follow {
    reader: Reader,
    watch: Watch,
}

struct Reader {
    services: Services,
    answer: Uuid,
    live: Option<watch::Receiver<Snapshot>>,
    /// Bytes of the text already sent.
    sent: usize,
    queue: VecDeque<AnswerEvent>,
    over: bool,
}

impl Reader {
    /// Queues what `text` and `end` add to what was sent.
    fn catch_up(&mut self, text: &str, end: Option<(AnswerStatus, Option<String>)>) {
        if text.len() > self.sent {
            self.queue.push_back(AnswerEvent::Text {
                at: self.sent,
                text: text[self.sent..].to_string(),
            });
            self.sent = text.len();
        }
        if let Some((status, error)) = end {
            self.queue.push_back(AnswerEvent::End { status, error });
            self.over = true;
        }
    }

    /// Waits for more of the answer.
    async fn more(&mut self) {
        if let Some(live) = &mut self.live {
            let snapshot = live.borrow_and_update().clone();
            if snapshot.text.len() > self.sent || snapshot.end.is_some() {
                return self.catch_up(&snapshot.text, snapshot.end);
            }
            if live.changed().await.is_ok() {
                return;
            }
            // The answer ended and left the table: its row has the end.
            self.live = None;
        }
        match chat::stored(&self.services.pool, self.answer).await {
            Ok((text, AnswerStatus::Streaming, _, stale)) => {
                if stale {
                    let error = Some("the answer stopped coming".to_string());
                    self.catch_up(&text, Some((AnswerStatus::Failed, error)));
                } else if text.len() > self.sent {
                    self.catch_up(&text, None);
                } else {
                    tokio::time::sleep(POLL).await;
                }
            }
            Ok((text, status, error, _)) => self.catch_up(&text, Some((status, error))),
            Err(e) => {
                self.queue.push_back(AnswerEvent::End {
                    status: AnswerStatus::Failed,
                    error: Some(e.message),
                });
                self.over = true;
            }
        }
    }
}

impl crate::sse::Feed for Follow {
    type Event = AnswerEvent;

    async fn next(&mut self) -> Option<AnswerEvent> {
        loop {
            if let Some(e) = self.reader.queue.pop_front() {
                return Some(e);
            }
            if self.reader.over {
                return None;
            }
            tokio::select! {
                _ = self.reader.more() => {}
                verdict = self.watch.changed() => {
                    if let Verdict::Lost(e) = verdict {
                        self.reader.over = true;
                        return Some(AnswerEvent::Revoked { message: e.message });
                    }
                }
            }
        }
    }
}
