//! One terminal: a shell from the runner, the task that reads its output (keeping
//! a bounded scrollback and finding command boundaries), and at most one socket
//! attached to it at a time. A socket that goes away leaves the shell running;
//! the next one to attach gets the scrollback replayed.

pub mod osc;
pub mod ws;

use crate::runner::{Shell, ShellControl, TermSize};
use bytes::Bytes;
use futures_util::FutureExt;
use osc::{Mark, Scanner};
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

/// Output kept for a socket that reattaches.
const SCROLLBACK_BYTES: usize = 256 * 1024;
/// Output of at most this size is gathered in the scrollback's tail: a prompt or
/// a keystroke's echo is a chunk of a few bytes, and each kept apart costs more.
const SMALL_CHUNK: usize = 4 * 1024;
/// Chunks queued for a socket before the shell is made to wait: with reads of
/// at most 64 KiB this bounds a terminal's buffered output to about 2 MiB.
const SOCKET_QUEUE: usize = 32;
const READ_BYTES: usize = 64 * 1024;
/// Output kept per command in the history.
pub const HISTORY_OUTPUT_BYTES: usize = 64 * 1024;

/// A command that ended, for the history and the sync.
#[derive(Debug, Clone)]
pub struct Finished {
    /// Who opened the terminal it ran in.
    pub opener: i64,
    pub command: String,
    pub output: Vec<u8>,
    pub truncated: bool,
    pub exit_code: Option<i32>,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: chrono::DateTime<chrono::Utc>,
}

struct Running {
    command: String,
    output: Vec<u8>,
    truncated: bool,
    started_at: chrono::DateTime<chrono::Utc>,
}

impl Running {
    fn capture(&mut self, bytes: &[u8]) {
        let room = HISTORY_OUTPUT_BYTES.saturating_sub(self.output.len());
        self.output
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.truncated |= bytes.len() > room;
    }
}

/// Recent output as the chunks it was read in, dropped whole from the front.
/// Small ones (a prompt, a keystroke's echo) are appended to a tail buffer in
/// place rather than kept one by one.
#[derive(Default)]
struct Scrollback {
    chunks: VecDeque<Bytes>,
    tail: bytes::BytesMut,
    len: usize,
}

impl Scrollback {
    fn push(&mut self, chunk: Bytes) {
        self.len += chunk.len();
        if self.tail.len() + chunk.len() > SMALL_CHUNK && !self.tail.is_empty() {
            self.chunks.push_back(self.tail.split().freeze());
        }
        if chunk.len() > SMALL_CHUNK {
            self.chunks.push_back(chunk);
        } else {
            self.tail.extend_from_slice(&chunk);
        }
        while let Some(front) = self.chunks.front() {
            if self.len - front.len() < SCROLLBACK_BYTES {
                break;
            }
            self.len -= front.len();
            self.chunks.pop_front();
        }
    }

    fn contents(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len);
        for c in &self.chunks {
            out.extend_from_slice(c);
        }
        out.extend_from_slice(&self.tail);
        out
    }
}

#[derive(Default)]
struct Shared {
    scrollback: Scrollback,
    subscriber: Option<(u64, mpsc::Sender<Bytes>)>,
    next_token: u64,
    detached_at: Option<Instant>,
}

pub struct Terminal {
    pub id: Uuid,
    /// The user who opened it: it closes when they may no longer run anything here.
    pub opener: i64,
    /// Written straight from the socket's task: keystrokes take no extra hop.
    input: tokio::sync::Mutex<Box<dyn tokio::io::AsyncWrite + Send + Unpin>>,
    control: Arc<dyn ShellControl>,
    shared: Mutex<Shared>,
    exit: watch::Receiver<Option<i32>>,
    /// Between a command's start and end marks: the shell runs something.
    running: std::sync::atomic::AtomicBool,
    /// Why it was closed, when its opener lost access.
    revoked: Mutex<Option<String>>,
}

/// What a socket gets when it attaches: the scrollback, then live output.
pub struct Attachment {
    pub replay: Vec<u8>,
    pub output: mpsc::Receiver<Bytes>,
    pub token: u64,
}

impl Terminal {
    /// Starts the tasks that move bytes between the shell and its sockets;
    /// `finished` hears of every command that ends.
    pub fn start(
        id: Uuid,
        opener: i64,
        shell: Shell,
        nonce: String,
        finished: mpsc::UnboundedSender<Finished>,
    ) -> Arc<Self> {
        let (exit_tx, exit_rx) = watch::channel(None);
        let control: Arc<dyn ShellControl> = Arc::from(shell.control);
        let term = Arc::new(Self {
            id,
            opener,
            input: tokio::sync::Mutex::new(shell.input),
            control: control.clone(),
            shared: Mutex::new(Shared {
                detached_at: Some(Instant::now()),
                ..Default::default()
            }),
            exit: exit_rx,
            running: Default::default(),
            revoked: Mutex::new(None),
        });
        let reader = term.clone();
        tokio::spawn(async move {
            reader.pump(shell.output, nonce, finished).await;
            let code = control.wait().await;
            let _ = exit_tx.send(Some(code));
        });
        term
    }

    async fn pump(
        &self,
        mut output: Box<dyn tokio::io::AsyncRead + Send + Unpin>,
        nonce: String,
        finished: mpsc::UnboundedSender<Finished>,
    ) {
        let mut buf = bytes::BytesMut::new();
        let mut scanner = Scanner::new(nonce);
        let mut marks = Vec::new();
        let mut line = None;
        let mut running: Option<Running> = None;
        loop {
            // The PTY reports EIO once the shell and everything holding it are gone.
            buf.reserve(READ_BYTES);
            match output.read_buf(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            // Under a flood, take what else is already there: fewer, larger frames,
            // and a keystroke's echo still leaves at once.
            while buf.len() < READ_BYTES {
                match output.read_buf(&mut buf).now_or_never() {
                    Some(Ok(n)) if n > 0 => {}
                    _ => break,
                }
            }
            // A copy of its own size: a part of the read buffer would keep all of
            // its 64 KiB alive for as long as the scrollback holds it.
            let bytes = Bytes::copy_from_slice(&buf);
            buf.clear();
            let chunk = &bytes[..];
            scanner.feed(chunk, &mut marks);
            let mut pos = 0;
            for (end, mark) in marks.drain(..) {
                if let Some(r) = &mut running {
                    r.capture(&chunk[pos..end.max(pos)]);
                }
                pos = end.max(pos);
                match mark {
                    Mark::CommandLine(l) => line = Some(l),
                    Mark::CommandStart => {
                        self.running.store(true, Ordering::Relaxed);
                        running = Some(Running {
                            command: line.take().unwrap_or_default(),
                            output: Vec::new(),
                            truncated: false,
                            started_at: chrono::Utc::now(),
                        })
                    }
                    Mark::CommandEnd(code) => {
                        self.running.store(false, Ordering::Relaxed);
                        if let Some(r) = running.take() {
                            let _ = finished.send(Finished {
                                opener: self.opener,
                                command: r.command,
                                output: r.output,
                                truncated: r.truncated,
                                exit_code: code,
                                started_at: r.started_at,
                                finished_at: chrono::Utc::now(),
                            });
                        }
                    }
                    Mark::Prompt => {}
                }
            }
            if let Some(r) = &mut running {
                r.capture(&chunk[pos..]);
            }
            let subscriber = {
                let mut shared = self.shared.lock().expect("terminal lock");
                shared.scrollback.push(bytes.clone());
                shared.subscriber.clone()
            };
            // Waiting here is the backpressure: a slow socket slows the shell.
            if let Some((token, tx)) = subscriber {
                if tx.send(bytes).await.is_err() {
                    self.detach(token);
                }
            }
        }
    }

    /// Shows a line from the IDE in the terminal (dim, on a line of its own),
    /// kept in its scrollback; never waits for a slow socket.
    pub fn notice(&self, text: &str) {
        let line = Bytes::from(format!("\r\n\x1b[2m[webide] {text}\x1b[0m\r\n"));
        let subscriber = {
            let mut shared = self.shared.lock().expect("terminal lock");
            shared.scrollback.push(line.clone());
            shared.subscriber.clone()
        };
        if let Some((_, tx)) = subscriber {
            let _ = tx.try_send(line);
        }
    }

    /// Attaches a socket, replacing any other; the replaced one's queue closes.
    pub fn attach(&self) -> Attachment {
        let (tx, rx) = mpsc::channel(SOCKET_QUEUE);
        let mut shared = self.shared.lock().expect("terminal lock");
        shared.next_token += 1;
        let token = shared.next_token;
        shared.subscriber = Some((token, tx));
        shared.detached_at = None;
        Attachment {
            replay: shared.scrollback.contents(),
            output: rx,
            token,
        }
    }

    pub fn detach(&self, token: u64) {
        let mut shared = self.shared.lock().expect("terminal lock");
        if shared.subscriber.as_ref().is_some_and(|(t, _)| *t == token) {
            shared.subscriber = None;
            shared.detached_at = Some(Instant::now());
        }
    }

    /// How long no socket has been attached, if none is.
    pub fn detached_for(&self) -> Option<Duration> {
        let shared = self.shared.lock().expect("terminal lock");
        shared.detached_at.map(|t| t.elapsed())
    }

    /// Types into the shell; waits while the shell is not reading.
    pub async fn write(&self, bytes: &[u8]) {
        let _ = self.input.lock().await.write_all(bytes).await;
    }

    pub fn resize(&self, size: TermSize) {
        if let Err(e) = self.control.resize(size) {
            tracing::debug!(term = %self.id, "resize failed: {e}");
        }
    }

    /// A command runs in the foreground (the shell's marks say so), or the
    /// runner sees other processes (background jobs) beside the shell.
    pub fn busy(&self) -> bool {
        self.exit_code().is_none() && (self.running.load(Ordering::Relaxed) || self.control.busy())
    }

    pub fn exit_code(&self) -> Option<i32> {
        *self.exit.borrow()
    }

    pub fn exited(&self) -> watch::Receiver<Option<i32>> {
        self.exit.clone()
    }

    pub fn kill(&self) {
        self.control.kill();
    }

    /// Ends the shell because its opener lost access: a socket attached to it
    /// is told so, rather than of an exit.
    pub fn revoke(&self, why: &str) {
        *self.revoked.lock().expect("terminal lock") = Some(why.to_string());
        self.kill();
    }

    pub fn revoked(&self) -> Option<String> {
        self.revoked.lock().expect("terminal lock").clone()
    }
}

#[cfg(test)]
mod tests {
    use super::{Bytes, Scrollback, SCROLLBACK_BYTES, SMALL_CHUNK};

    #[test]
    fn the_scrollback_keeps_order_and_its_bound_with_few_chunks() {
        let mut sb = Scrollback::default();
        let mut all = Vec::new();
        // Keystroke echoes between floods.
        for i in 0..40_000u32 {
            let chunk: Vec<u8> = if i % 1000 == 999 {
                vec![b'x'; 60 * 1024]
            } else {
                format!("{}", i % 10).into_bytes()
            };
            all.extend_from_slice(&chunk);
            sb.push(Bytes::from(chunk));
        }
        let kept = sb.contents();
        assert!(all.ends_with(&kept), "the newest output, in order");
        assert!(kept.len() >= SCROLLBACK_BYTES && kept.len() < SCROLLBACK_BYTES + 64 * 1024);
        // Small output shares chunks: far fewer chunks than pushes.
        assert!(
            sb.chunks.len() <= 2 * SCROLLBACK_BYTES / SMALL_CHUNK + 8,
            "{}",
            sb.chunks.len()
        );
    }
}
