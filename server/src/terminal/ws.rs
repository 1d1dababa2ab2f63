//! The terminal socket, `/ws/terminal/{session}?term=ID&cols=C&rows=R`, the
//! session's events stream, `/events/{session}`, and a review request's,
//! `/events/review/{review}`. Binary frames carry raw PTY bytes
//! both ways; text frames carry the typed messages of `wire::terminal`. Both take
//! their access decision from the access module (a terminal needs the run
//! capability, the stream the read one) and close as soon as it is lost.

use crate::access_watch::{Verdict, Watch};
use crate::runner::{SessionRef, TermSize};
use crate::services::Services;
use crate::terminal::Terminal;
use app::server::access::{self, Grant};
use app::wire::access::Capability;
use app::wire::events::Event;
use app::wire::files::tree_digest;
use app::wire::terminal::{Attach, ClientMsg, ServerMsg};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;
use tracing::Instrument;
use uuid::Uuid;

/// Output gathered into one frame when the socket has fallen behind.
const FRAME_BYTES: usize = 256 * 1024;
/// The close code of a socket whose access ended (the client does not reconnect).
pub const CLOSE_REVOKED: u16 = 4403;

/// The largest message a terminal socket takes from its client.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;

fn term_size(cols: Option<u16>, rows: Option<u16>) -> TermSize {
    let d = TermSize::default();
    TermSize {
        cols: cols.unwrap_or(d.cols).clamp(2, 1000),
        rows: rows.unwrap_or(d.rows).clamp(1, 500),
    }
}

/// The sandbox of the granted session: the owner's, whoever opens it.
pub fn sandbox_of(g: &Grant) -> SessionRef {
    SessionRef {
        uuid: g.session,
        id: g.session_id,
        user: g.owner_id,
        language: g.language,
    }
}

pub async fn terminal(
    ws: WebSocketUpgrade,
    State(services): State<Services>,
    Path(uuid): Path<Uuid>,
    Query(params): Query<Attach>,
    headers: HeaderMap,
) -> Response {
    let grant = match access::session_in(&services.pool, &headers, uuid, Capability::Run).await {
        Ok(g) => g,
        Err(e) => return e.into_response(),
    };
    let slot = match services.sockets.take(grant.login.id) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let watch = services.watchers.watch(&grant, Capability::Run);
    let span = tracing::info_span!("terminal", session = %uuid, user = grant.login.id);
    // Keystrokes, resizes and pastes are small: a larger message is refused, and
    // the buffers start small (axum's 128 KiB each would be most of an idle
    // session's memory). Output is flushed frame by frame anyway.
    ws.max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .on_upgrade(move |socket| {
            async move {
                let _slot = slot;
                serve(socket, services, grant, watch, params).await
            }
            .instrument(span)
        })
}

fn control(msg: &ServerMsg) -> Message {
    Message::Text(serde_json::to_string(msg).expect("plain enum").into())
}

async fn serve(
    mut socket: WebSocket,
    services: Services,
    grant: Grant,
    mut watch: Watch,
    params: Attach,
) {
    let size = term_size(params.cols, params.rows);
    let sandboxes = services.sandboxes.clone();
    // What the sandbox's start waits for (a pod being scheduled, an image pulled)
    // is shown in the terminal while it happens.
    let (said_tx, mut said) = tokio::sync::mpsc::unbounded_channel::<String>();
    let progress = move |m: &str| {
        let _ = said_tx.send(m.to_string());
    };
    let opening = async {
        match sandboxes.open(sandbox_of(&grant), &progress).await {
            Ok(live) => {
                sandboxes
                    .terminal(&live, params.term, size, grant.login.id)
                    .await
            }
            Err(e) => Err(e),
        }
    };
    tokio::pin!(opening);
    let opened = loop {
        tokio::select! {
            opened = &mut opening => break opened,
            Some(m) = said.recv() => {
                let line = format!("\x1b[2m[sandbox] {m}\x1b[0m\r\n");
                let _ = socket.send(Message::Binary(line.into_bytes().into())).await;
            }
        }
    };
    let (term, reattached) = match opened {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!("cannot open a terminal: {e}");
            let msg = ServerMsg::Error {
                message: e.to_string(),
            };
            let _ = socket.send(control(&msg)).await;
            let _ = socket.send(close(1011, "sandbox failed")).await;
            return;
        }
    };
    tracing::debug!(term = %term.id, reattached, "attached");
    attached(socket, &term, reattached, &mut watch).await;
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.to_string().into(),
    }))
}

/// Moves bytes between the socket and the terminal until one of them ends or
/// the caller's access does.
async fn attached(socket: WebSocket, term: &Arc<Terminal>, reattached: bool, watch: &mut Watch) {
    let attachment = term.attach();
    let hello = ServerMsg::Attached {
        term: term.id,
        reattached,
    };
    let (mut sink, mut stream) = socket.split();
    if sink.send(control(&hello)).await.is_err() {
        return term.detach(attachment.token);
    }
    if !attachment.replay.is_empty()
        && sink
            .send(Message::Binary(attachment.replay.into()))
            .await
            .is_err()
    {
        return term.detach(attachment.token);
    }
    let mut output = attachment.output;
    let mut exit = term.exited();
    // Two halves polled together in this task: typing into a shell that does not
    // read never holds its output back, and output never waits for typing.
    let typing = async {
        while let Some(Ok(msg)) = stream.next().await {
            match msg {
                Message::Binary(bytes) => term.write(&bytes).await,
                Message::Text(text) => match serde_json::from_str(&text) {
                    Ok(ClientMsg::Resize { cols, rows }) => {
                        term.resize(term_size(Some(cols), Some(rows)))
                    }
                    Ok(ClientMsg::Close) => term.kill(),
                    Err(e) => tracing::debug!("unknown control message: {e}"),
                },
                Message::Close(_) => break,
                _ => {}
            }
        }
    };
    let revoked = async {
        loop {
            if let Verdict::Lost(e) = watch.changed().await {
                return e;
            }
        }
    };
    let showing = async {
        tokio::pin!(revoked);
        loop {
            tokio::select! {
                chunk = output.recv() => {
                    // Closed: another socket took this terminal over.
                    let Some(chunk) = chunk else { break };
                    let frame = gather(chunk, &mut output);
                    if sink.send(Message::Binary(frame)).await.is_err() {
                        break;
                    }
                }
                // The shell's exit is the only change it ever sees.
                _ = exit.changed() => {
                    while let Ok(chunk) = output.try_recv() {
                        let _ = sink.send(Message::Binary(chunk)).await;
                    }
                    if let Some(message) = term.revoked() {
                        let _ = sink.send(control(&ServerMsg::Revoked { message })).await;
                        let _ = sink.send(close(CLOSE_REVOKED, "access ended")).await;
                        break;
                    }
                    let code = term.exit_code().unwrap_or(-1);
                    let _ = sink.send(control(&ServerMsg::Exit { code })).await;
                    let _ = sink.send(Message::Close(None)).await;
                    break;
                }
                e = &mut revoked => {
                    tracing::info!("access ended: {}", e.message);
                    let _ = sink.send(control(&ServerMsg::Revoked { message: e.message })).await;
                    let _ = sink.send(close(CLOSE_REVOKED, "access ended")).await;
                    break;
                }
            }
        }
    };
    tokio::select! {
        _ = typing => {}
        _ = showing => {}
    }
    term.detach(attachment.token);
}

/// The chunk, with whatever else is already queued, up to one frame.
fn gather(first: Bytes, queue: &mut tokio::sync::mpsc::Receiver<Bytes>) -> Bytes {
    if !queue.is_empty() {
        let mut buf = BytesMut::from(first);
        while buf.len() < FRAME_BYTES {
            match queue.try_recv() {
                Ok(more) => buf.extend_from_slice(&more),
                Err(_) => break,
            }
        }
        return buf.freeze();
    }
    first
}

/// Server-sent events for one session's open pages, for as long as the caller
/// may read it: a change of their role is told, a loss of access ends the stream.
pub async fn events(
    State(services): State<Services>,
    Path(uuid): Path<Uuid>,
    headers: HeaderMap,
) -> Response {
    let grant = match access::session_in(&services.pool, &headers, uuid, Capability::Read).await {
        Ok(g) => g,
        Err(e) => return e.into_response(),
    };
    let slot = match services.sockets.take(grant.login.id) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    // Subscribed before the tree is read: a change in between is told twice, never missed.
    let news = services.news.subscribe(uuid);
    let tree = match app::server::files::tree(&services.pool, grant.session_id).await {
        Ok(items) => tree_digest(&items),
        Err(e) => return e.into_response(),
    };
    crate::sse::respond(Stream {
        hello: Some(Event::Hello { tree }),
        news,
        watch: services.watchers.watch(&grant, Capability::Read),
        role: grant.role,
        ended: false,
        _slot: slot,
    })
}

/// Server-sent events for one review request's pages: `review` on every change,
/// first on connecting (so a page that missed one catches up); a loss of access
/// (a reassignment, a sharing change, a sign-out) ends the stream.
pub async fn review_events(
    State(services): State<Services>,
    Path(review): Path<Uuid>,
    headers: HeaderMap,
) -> Response {
    let need = Capability::Glance;
    let rg = match access::review_in(&services.pool, &headers, review, need).await {
        Ok(g) => g,
        Err(e) => return e.into_response(),
    };
    let slot = match services.sockets.take(rg.grant.login.id) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    crate::sse::respond(Stream {
        hello: Some(Event::Review),
        news: services.news.subscribe(review),
        watch: services.watchers.watch_review(&rg.grant, review, need),
        role: rg.grant.role,
        ended: false,
        _slot: slot,
    })
}

struct Stream {
    hello: Option<Event>,
    news: tokio::sync::broadcast::Receiver<Event>,
    watch: Watch,
    role: app::wire::access::Role,
    ended: bool,
    /// The user's place among their open sockets and streams, while this one lives.
    _slot: crate::caps::Slot,
}

impl crate::sse::Feed for Stream {
    type Event = Event;

    async fn next(&mut self) -> Option<Event> {
        if self.ended {
            return None;
        }
        if let Some(hello) = self.hello.take() {
            return Some(hello);
        }
        loop {
            tokio::select! {
                news = self.news.recv() => return match news {
                    Ok(event) => Some(event),
                    // Missed some: a change without paths makes the page reload the whole tree.
                    Err(RecvError::Lagged(_)) => Some(Event::Tree { paths: Vec::new() }),
                    Err(RecvError::Closed) => None,
                },
                verdict = self.watch.changed() => match verdict {
                    Verdict::Kept(g) if g.role != self.role => {
                        self.role = g.role;
                        return Some(Event::Role { role: g.role });
                    }
                    Verdict::Kept(_) => {}
                    Verdict::Lost(e) => {
                        self.ended = true;
                        return Some(Event::Revoked { message: e.message });
                    }
                },
            }
        }
    }
}
