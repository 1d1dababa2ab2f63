//! One execution of a program: its input fed, its two streams read (kept up to
//! a cap, streamed as they come), its wall time, CPU time and output watched,
//! and how it ended told in the API's terms.

use crate::runner::{Ended, Process};
use app::wire::runs::{Limits, Status, Stream};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, watch};

/// How often the CPU time of a running program is looked at.
const CPU_POLL: Duration = Duration::from_millis(50);
/// After a kill, how long the streams may take to close.
const AFTER_KILL: Duration = Duration::from_secs(2);

/// Input typed while a program runs.
#[derive(Debug)]
pub enum Input {
    Data(Vec<u8>),
    Eof,
}

/// Where a program's input comes from.
pub enum Feed {
    /// All of it, then the end.
    Fixed(Vec<u8>),
    /// As it is typed.
    Live(mpsc::UnboundedReceiver<Input>),
}

/// The first `cap` bytes of a stream, and whether there was more.
#[derive(Debug, Default)]
pub struct Kept {
    pub bytes: Vec<u8>,
    pub truncated: bool,
}

impl Kept {
    fn add(&mut self, chunk: &[u8], cap: usize) -> usize {
        let room = cap.saturating_sub(self.bytes.len());
        let take = room.min(chunk.len());
        self.bytes.extend_from_slice(&chunk[..take]);
        if take < chunk.len() {
            self.truncated = true;
        }
        take
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// Splits a byte stream into text without breaking a character in two.
#[derive(Default)]
pub struct Utf8Chunks {
    carry: Vec<u8>,
}

impl Utf8Chunks {
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.carry.extend_from_slice(bytes);
        let valid = match std::str::from_utf8(&self.carry) {
            Ok(_) => self.carry.len(),
            // An incomplete character at the end waits for the next chunk.
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => self.carry.len(),
        };
        let rest = self.carry.split_off(valid);
        let text = String::from_utf8_lossy(&self.carry).into_owned();
        self.carry = rest;
        text
    }
}

/// What one execution gave.
#[derive(Debug)]
pub struct Outcome {
    pub status: Status,
    pub ended: Ended,
    pub stdout: Kept,
    pub stderr: Kept,
    pub wall_ms: u64,
}

/// Runs `process` to its end within `limits`; `emit` hears the kept output as
/// it comes; `cancel` turning true stops it.
pub async fn run(
    process: Process,
    feed: Feed,
    limits: &Limits,
    keep: usize,
    mut emit: impl FnMut(Stream, &[u8]),
    mut cancel: watch::Receiver<bool>,
) -> Outcome {
    let started = Instant::now();
    let Process {
        stdin,
        mut stdout,
        mut stderr,
        control,
    } = process;
    let feeder = tokio::spawn(feed_input(stdin, feed));
    let (mut out, mut err) = (Kept::default(), Kept::default());
    let (mut out_buf, mut err_buf) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
    let (mut out_open, mut err_open) = (true, true);
    let mut total: u64 = 0;
    let mut killed: Option<Status> = None;
    let wall = tokio::time::sleep(Duration::from_millis(limits.wall_ms));
    tokio::pin!(wall);
    let after_kill = tokio::time::sleep(Duration::from_secs(u64::MAX / 4));
    tokio::pin!(after_kill);
    let mut cpu_tick = tokio::time::interval(CPU_POLL);
    let stop = |why: Status, killed: &mut Option<Status>| {
        if killed.is_none() {
            *killed = Some(why);
            control.kill();
        }
    };
    while out_open || err_open {
        let got = |n: std::io::Result<usize>, open: &mut bool, stream: Stream| match n {
            Ok(0) | Err(_) => {
                *open = false;
                None
            }
            Ok(n) => Some((n, stream)),
        };
        let read = tokio::select! {
            n = stdout.read(&mut out_buf), if out_open => got(n, &mut out_open, Stream::Stdout),
            n = stderr.read(&mut err_buf), if err_open => got(n, &mut err_open, Stream::Stderr),
            _ = &mut wall, if killed.is_none() => {
                stop(Status::WallTimeLimit, &mut killed);
                after_kill.as_mut().reset(tokio::time::Instant::now() + AFTER_KILL);
                None
            }
            _ = cpu_tick.tick(), if killed.is_none() => {
                if control.cpu_ms().is_some_and(|ms| ms > limits.cpu_ms) {
                    stop(Status::TimeLimit, &mut killed);
                    after_kill.as_mut().reset(tokio::time::Instant::now() + AFTER_KILL);
                }
                None
            }
            changed = cancel.changed(), if killed.is_none() => {
                if changed.is_err() || *cancel.borrow() {
                    stop(Status::Cancelled, &mut killed);
                    after_kill.as_mut().reset(tokio::time::Instant::now() + AFTER_KILL);
                }
                None
            }
            // Something outside the program's tree holds its streams open.
            _ = &mut after_kill => break,
        };
        let Some((n, stream)) = read else { continue };
        total += n as u64;
        let (kept, chunk) = match stream {
            Stream::Stdout => (&mut out, &out_buf[..n]),
            _ => (&mut err, &err_buf[..n]),
        };
        let took = kept.add(chunk, keep);
        if took > 0 {
            emit(stream, &chunk[..took]);
        }
        if total > limits.output_bytes && killed.is_none() {
            stop(Status::OutputLimit, &mut killed);
            after_kill
                .as_mut()
                .reset(tokio::time::Instant::now() + AFTER_KILL);
        }
    }
    feeder.abort();
    if killed.is_some() {
        // Streams may close before the tree is gone: make sure it is.
        control.kill();
    }
    let ended = control.wait().await;
    let wall_ms = started.elapsed().as_millis() as u64;
    let status = classify(killed, &ended, limits, &err.bytes);
    Outcome {
        status,
        ended,
        stdout: out,
        stderr: err,
        wall_ms,
    }
}

async fn feed_input(mut stdin: Box<dyn tokio::io::AsyncWrite + Send + Unpin>, feed: Feed) {
    match feed {
        Feed::Fixed(bytes) => {
            let _ = stdin.write_all(&bytes).await;
        }
        Feed::Live(mut typed) => {
            while let Some(input) = typed.recv().await {
                match input {
                    Input::Data(d) => {
                        if stdin.write_all(&d).await.is_err() || stdin.flush().await.is_err() {
                            break;
                        }
                    }
                    Input::Eof => break,
                }
            }
        }
    }
    // The end of input.
    let _ = stdin.shutdown().await;
}

/// What languages print when an allocation fails: under a memory limit, that is
/// the limit (a Python `MemoryError`, a C++ `bad_alloc`, …).
const OUT_OF_MEMORY: [&str; 7] = [
    "MemoryError",
    "std::bad_alloc",
    "Cannot allocate memory",
    "out of memory",
    "JavaScript heap out of memory",
    "java.lang.OutOfMemoryError",
    "memory allocation of",
];

/// How an execution ended, in the API's terms.
pub fn classify(killed: Option<Status>, ended: &Ended, limits: &Limits, stderr: &[u8]) -> Status {
    if let Some(why) = killed {
        return why;
    }
    let failed = ended.exit_code != Some(0);
    // SIGXCPU, or SIGKILL at the hard limit: the per-process CPU rlimit.
    let cpu_signal = matches!(ended.signal, Some(24) | Some(9));
    if failed && (cpu_signal && ended.cpu_ms >= limits.cpu_ms || ended.signal == Some(24)) {
        return Status::TimeLimit;
    }
    if failed {
        let tail = &stderr[stderr.len().saturating_sub(4096)..];
        let tail = String::from_utf8_lossy(tail);
        if ended.memory_hit || OUT_OF_MEMORY.iter().any(|m| tail.contains(m)) {
            return Status::MemoryLimit;
        }
        return Status::RuntimeError;
    }
    Status::Finished
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            cpu_ms: 1000,
            wall_ms: 2000,
            memory_kb: 1024,
            processes: 8,
            output_bytes: 100,
        }
    }

    #[test]
    fn endings_are_told_apart() {
        let l = limits();
        let ended = |exit_code, signal, cpu_ms, memory_hit| Ended {
            exit_code,
            signal,
            cpu_ms,
            memory_kb: None,
            memory_hit,
        };
        let c = |e: Ended, err: &str| classify(None, &e, &l, err.as_bytes());
        assert_eq!(c(ended(Some(0), None, 5, true), ""), Status::Finished);
        assert_eq!(c(ended(Some(1), None, 5, false), ""), Status::RuntimeError);
        assert_eq!(c(ended(None, Some(11), 5, false), ""), Status::RuntimeError);
        assert_eq!(c(ended(None, Some(9), 1500, false), ""), Status::TimeLimit);
        assert_eq!(c(ended(None, Some(9), 5, true), ""), Status::MemoryLimit);
        assert_eq!(
            c(ended(Some(1), None, 5, false), "Traceback\nMemoryError\n"),
            Status::MemoryLimit
        );
        let killed = classify(
            Some(Status::Cancelled),
            &ended(None, Some(9), 0, false),
            &l,
            b"",
        );
        assert_eq!(killed, Status::Cancelled);
    }

    #[test]
    fn characters_are_not_split_across_chunks() {
        let mut d = Utf8Chunks::default();
        let bytes = "héllo".as_bytes();
        assert_eq!(d.push(&bytes[..2]), "h");
        assert_eq!(d.push(&bytes[2..]), "éllo");
        assert_eq!(d.push(b"\xff!"), "\u{fffd}!");
    }

    #[test]
    fn kept_output_stops_at_its_cap() {
        let mut k = Kept::default();
        assert_eq!(k.add(b"abc", 4), 3);
        assert_eq!(k.add(b"def", 4), 1);
        assert_eq!((k.text().as_str(), k.truncated), ("abcd", true));
    }
}
