//! The terminal socket, `/ws/terminal/{session}?term=ID&cols=C&rows=R`, and the
//! session's news stream, `/events/{session}`. Binary frames carry raw PTY bytes
//! both ways; text frames carry JSON control messages. The login cookie
//! authenticates both; another user's session is refused like a missing one.

use crate::runner::{SessionRef, TermSize};
use crate::workspaces::Workspaces;
use app::AppError;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use sqlx::PgPool;
use std::sync::Arc;
use tracing::Instrument;
use uuid::Uuid;

/// Output gathered into one frame when the socket has fallen behind.
const FRAME_BYTES: usize = 256 * 1024;

#[derive(Clone)]
pub struct Sockets {
    pub pool: PgPool,
    pub workspaces: Arc<Workspaces>,
}

#[derive(Debug, Deserialize)]
pub struct Params {
    term: Option<u32>,
    cols: Option<u16>,
    rows: Option<u16>,
}

/// Control messages from the browser.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Control {
    Resize {
        cols: u16,
        rows: u16,
    },
    /// The user closed the terminal: end its shell.
    Close,
}

fn term_size(cols: Option<u16>, rows: Option<u16>) -> TermSize {
    let d = TermSize::default();
    TermSize {
        cols: cols.unwrap_or(d.cols).clamp(2, 1000),
        rows: rows.unwrap_or(d.rows).clamp(1, 500),
    }
}

/// The session, if the request's login owns it: 401 without a login, 404 otherwise.
pub async fn owned(pool: &PgPool, headers: &HeaderMap, uuid: Uuid) -> Result<SessionRef, AppError> {
    let user = app::api::auth::ssr::user_id_in(pool, headers)
        .await?
        .ok_or_else(|| AppError::unauthorized("sign in first"))?;
    let (id, language) = app::api::sessions::ssr::owned(pool, uuid, user).await?;
    Ok(SessionRef {
        uuid,
        id,
        user,
        language,
    })
}

pub async fn terminal(
    ws: WebSocketUpgrade,
    State(sockets): State<Sockets>,
    Path(uuid): Path<Uuid>,
    Query(params): Query<Params>,
    headers: HeaderMap,
) -> Response {
    let s = match owned(&sockets.pool, &headers, uuid).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let span = tracing::info_span!("terminal", session = %uuid);
    ws.on_upgrade(move |socket| serve(socket, sockets.workspaces, s, params).instrument(span))
}

fn control(msg: serde_json::Value) -> Message {
    Message::Text(msg.to_string().into())
}

async fn serve(mut socket: WebSocket, workspaces: Arc<Workspaces>, s: SessionRef, params: Params) {
    let size = term_size(params.cols, params.rows);
    // What the sandbox's start waits for (a pod being scheduled, an image pulled)
    // is shown in the terminal while it happens.
    let (said_tx, mut said) = tokio::sync::mpsc::unbounded_channel::<String>();
    let progress = move |m: &str| {
        let _ = said_tx.send(m.to_string());
    };
    let opening = async {
        match workspaces.open(s, &progress).await {
            Ok(live) => workspaces.terminal(&live, params.term, size).await,
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
            let msg = serde_json::json!({"type": "error", "message": e.to_string()});
            let _ = socket.send(control(msg)).await;
            let _ = socket
                .send(Message::Close(Some(CloseFrame {
                    code: 1011,
                    reason: "sandbox failed".into(),
                })))
                .await;
            return;
        }
    };
    tracing::debug!(term = term.id, reattached, "attached");
    let attachment = term.attach();
    let hello = serde_json::json!({"type": "attached", "term": term.id, "reattached": reattached});
    let (mut sink, mut stream) = socket.split();
    if sink.send(control(hello)).await.is_err() {
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
                    Ok(Control::Resize { cols, rows }) => {
                        term.resize(term_size(Some(cols), Some(rows)))
                    }
                    Ok(Control::Close) => term.kill(),
                    Err(e) => tracing::debug!("unknown control message: {e}"),
                },
                Message::Close(_) => break,
                _ => {}
            }
        }
    };
    let showing = async {
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
                    let code = term.exit_code().unwrap_or(-1);
                    let _ = sink.send(control(serde_json::json!({"type": "exit", "code": code}))).await;
                    let _ = sink.send(Message::Close(None)).await;
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

/// Server-sent events for one session's open pages: `tree` when files changed.
pub async fn events(
    State(sockets): State<Sockets>,
    Path(uuid): Path<Uuid>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = owned(&sockets.pool, &headers, uuid).await {
        return e.into_response();
    }
    let rx = sockets.workspaces.subscribe(uuid);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let event = match rx.recv().await {
            Ok(event) => event,
            // Missed some: a change without paths makes the page reload the whole tree.
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                crate::workspaces::Event::Tree { paths: Vec::new() }
            }
            Err(_) => return None,
        };
        let sse = SseEvent::default().json_data(&event).ok()?;
        Some((Ok::<_, std::convert::Infallible>(sse), rx))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
