//! `GET /events/run/{id}`: a run's server-sent events. A run going on gives its
//! snapshot (output so far included), then its output as it comes, the end of
//! each batch case, and its result; an ended run gives its stored result. A
//! reader who loses access to the session is told and the stream ends.

use crate::access_watch::{Verdict, Watch};
use crate::services::Services;
use app::server::access;
use app::wire::access::Capability;
use app::wire::runs::RunEvent;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use tokio::sync::broadcast::{self, error::RecvError};
use uuid::Uuid;

pub async fn events(
    State(services): State<Services>,
    Path(run): Path<Uuid>,
    headers: HeaderMap,
) -> Response {
    let grant = match access::run_in(&services.pool, &headers, run, Capability::Read).await {
        Ok(g) => g,
        Err(e) => return e.into_response(),
    };
    let watch = services.watchers.watch(&grant, Capability::Read);
    let state = match services.runs.follow(run) {
        Some((snapshot, events)) => Follow {
            first: Some(RunEvent::Snapshot {
                run: Box::new(snapshot),
            }),
            events: Some(events),
            services,
            run,
            watch,
        },
        None => match app::server::runs::get(&services.pool, run).await {
            Ok(result) => Follow {
                first: Some(RunEvent::Done {
                    run: Box::new(result),
                }),
                events: None,
                services,
                run,
                watch,
            },
            Err(e) => return e.into_response(),
        },
    };
    crate::sse::respond(state)
}

struct Follow {
    first: Option<RunEvent>,
    events: Option<broadcast::Receiver<RunEvent>>,
    services: Services,
    run: Uuid,
    watch: Watch,
}

impl crate::sse::Feed for Follow {
    type Event = RunEvent;

    async fn next(&mut self) -> Option<RunEvent> {
        if let Some(first) = self.first.take() {
            if matches!(first, RunEvent::Done { .. }) {
                self.events = None;
            }
            return Some(first);
        }
        let events = self.events.as_mut()?;
        loop {
            tokio::select! {
                e = events.recv() => return match e {
                    Ok(e @ RunEvent::Done { .. }) => {
                        self.events = None;
                        Some(e)
                    }
                    Ok(e) => Some(e),
                    // Fell behind: start again from a fresh snapshot.
                    Err(RecvError::Lagged(_)) => match self.services.runs.follow(self.run) {
                        Some((snapshot, events)) => {
                            self.events = Some(events);
                            Some(RunEvent::Snapshot { run: Box::new(snapshot) })
                        }
                        None => {
                            self.events = None;
                            let done = app::server::runs::get(&self.services.pool, self.run).await;
                            done.ok().map(|run| RunEvent::Done { run: Box::new(run) })
                        }
                    },
                    Err(RecvError::Closed) => None,
                },
                verdict = self.watch.changed() => {
                    if let Verdict::Lost(e) = verdict {
                        self.events = None;
                        return Some(RunEvent::Revoked { message: e.message });
                    }
                }
            }
        }
    }
}
