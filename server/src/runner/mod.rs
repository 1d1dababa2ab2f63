//! Runners: the environment of one session, where its files live next to its
//! shells. `local` runs shells under bubblewrap on this machine; other runners
//! implement the same trait.

pub mod cgroup;
pub mod confined;
pub mod disk;
pub mod kube;
pub mod local;
pub mod warm;

use app::wire::sessions::Language;
use async_trait::async_trait;
use std::io;
use tokio::io::{AsyncRead, AsyncWrite};
use uuid::Uuid;

/// Which session a runner works for.
/// Tells the user how a sandbox's start goes.
pub type Progress<'a> = &'a (dyn Fn(&str) + Send + Sync);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionRef {
    pub uuid: Uuid,
    /// The database id.
    pub id: i64,
    /// The owner's database id (labels on cluster objects).
    pub user: i64,
    /// Picks the cluster runner's image.
    pub language: Language,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Folder,
}

impl EntryKind {
    pub fn of(mode: u32) -> Option<Self> {
        match mode & libc_mode::S_IFMT {
            libc_mode::S_IFREG => Some(Self::File),
            libc_mode::S_IFDIR => Some(Self::Folder),
            _ => None,
        }
    }
}

mod libc_mode {
    pub const S_IFMT: u32 = 0o170000;
    pub const S_IFREG: u32 = 0o100000;
    pub const S_IFDIR: u32 = 0o040000;
}

/// One file or folder in a sandbox, with what change detection compares first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub kind: EntryKind,
    pub size: u64,
    pub mtime_ns: i128,
}

impl Entry {
    pub fn from_stat(path: String, kind: EntryKind, st: &rustix::fs::Stat) -> Self {
        Self {
            path,
            kind,
            size: if kind == EntryKind::File {
                st.st_size as u64
            } else {
                0
            },
            mtime_ns: st.st_mtime as i128 * 1_000_000_000 + st.st_mtime_nsec as i128,
        }
    }
}

/// A change to make in a sandbox.
#[derive(Debug, Clone)]
pub enum FsOp {
    Write { path: String, content: Vec<u8> },
    Mkdir { path: String },
    Remove { path: String },
    Rename { from: String, to: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TermSize {
    pub cols: u16,
    pub rows: u16,
}

impl Default for TermSize {
    fn default() -> Self {
        Self { cols: 80, rows: 24 }
    }
}

/// A shell on a PTY inside the sandbox.
pub struct Shell {
    pub output: Box<dyn AsyncRead + Send + Unpin>,
    pub input: Box<dyn AsyncWrite + Send + Unpin>,
    pub control: Box<dyn ShellControl>,
}

#[async_trait]
pub trait ShellControl: Send + Sync {
    fn resize(&self, size: TermSize) -> io::Result<()>;
    /// Whether anything besides the shell itself runs (a job in the foreground or background).
    fn busy(&self) -> bool;
    /// Waits for the shell to end; its exit code (128+n for a signal).
    async fn wait(&self) -> i32;
    fn kill(&self);
}

/// A program to run in the sandbox apart from its shells: `script` is given to
/// `bash -c` in `/app`, in a process tree (and control group) of its own.
#[derive(Debug, Clone)]
pub struct ExecSpec {
    pub id: Uuid,
    pub script: String,
    pub cpu_ms: u64,
    pub memory_bytes: u64,
    pub processes: u64,
}

/// A program running: its three streams and its control.
pub struct Process {
    pub stdin: Box<dyn AsyncWrite + Send + Unpin>,
    pub stdout: Box<dyn AsyncRead + Send + Unpin>,
    pub stderr: Box<dyn AsyncRead + Send + Unpin>,
    pub control: Box<dyn ProcessControl>,
}

/// How a program ended and what it used.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ended {
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub cpu_ms: u64,
    pub memory_kb: Option<u64>,
    /// It reached its memory limit (an allocation refused or a process killed).
    pub memory_hit: bool,
}

#[async_trait]
pub trait ProcessControl: Send + Sync {
    /// CPU time used so far by the whole tree, where it can be read while it runs.
    fn cpu_ms(&self) -> Option<u64>;
    /// Ends the whole tree.
    fn kill(&self);
    /// Waits for the end (the program's, and then its tree's).
    async fn wait(&self) -> Ended;
}

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error("the sandbox could not start: {0}")]
    Start(String),
    #[error("sandbox files: {0}")]
    Io(#[from] io::Error),
}

#[async_trait]
pub trait Runner: Send + Sync + 'static {
    /// Prepares the session's environment, reusing what is already there;
    /// `progress` hears what it waits for (shown in the user's terminal).
    async fn start(&self, s: SessionRef, progress: Progress<'_>) -> Result<(), RunnerError>;
    /// Every file and folder in the sandbox (metadata only).
    async fn scan(&self, s: SessionRef) -> Result<Vec<Entry>, RunnerError>;
    /// Contents of `paths`; `None` for a file over `max` bytes or gone.
    async fn read(
        &self,
        s: SessionRef,
        paths: Vec<String>,
        max: u64,
    ) -> Result<Vec<(String, Option<Vec<u8>>)>, RunnerError>;
    /// Applies `ops` in order; returns the metadata of the files written.
    async fn apply(&self, s: SessionRef, ops: Vec<FsOp>) -> Result<Vec<Entry>, RunnerError>;
    /// A shell on a terminal; `nonce` ends each of its shell-integration marks.
    async fn open_shell(
        &self,
        s: SessionRef,
        size: TermSize,
        nonce: &str,
    ) -> Result<Shell, RunnerError>;
    /// Starts a program with pipes for its streams (the sandbox has been started).
    async fn exec(&self, s: SessionRef, spec: ExecSpec) -> Result<Process, RunnerError>;
    /// Sends a unit down `tx` (debounced by the caller) whenever files may have
    /// changed outside a command; the returned guard stops watching when dropped.
    fn watch(
        &self,
        s: SessionRef,
        tx: tokio::sync::mpsc::Sender<()>,
    ) -> Option<Box<dyn Send + Sync>>;
    /// Stops everything the session runs; its files stay. Only when no other
    /// server replica is using the sandbox (`Holders`).
    async fn stop(&self, s: SessionRef);
    /// Frees what this server alone holds for the session's sandbox while another
    /// replica goes on using it.
    async fn leave(&self, _s: SessionRef) {}
    /// Called once when the server starts: ends what an earlier run of this
    /// server left running and nobody else can be using.
    async fn recover(&self);
    /// Sessions the runner holds anything for (files, processes).
    async fn known(&self) -> Vec<Uuid>;
    /// Removes everything of a session that no longer exists.
    async fn forget(&self, uuid: Uuid);
}
