//! The life of each session's sandbox: started by its first terminal (its files
//! written in from Postgres), shared by all its terminals, synced back after
//! every command and on file changes, and stopped once it has had no socket and
//! nothing running for the idle time. Changes the API makes to files are mirrored
//! into it (the state's hooks).

use crate::caps::Caps;
use crate::commands;
use crate::holders::Holders;
use crate::news::News;
use crate::runner::{FsOp, Progress, Runner, RunnerError, SessionRef, TermSize};
use crate::sync::{self, Kick, Manifest};
use crate::terminal::{Finished, Terminal};
use app::server::access;
use app::server::state::{FileChange, WorkspaceHooks};
use app::wire::{access::Capability, events::Event};
use sqlx::PgPool;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tracing::Instrument;
use uuid::Uuid;

/// Watcher events are gathered this long before a sync, so a burst is one sync.
const WATCH_DEBOUNCE: Duration = Duration::from_millis(150);
/// Orphans are looked for every this many culling rounds (of 2 s).
const ORPHAN_ROUNDS: u64 = 150;
/// How often a runner without file events is looked at for changes.
const POLL_WITHOUT_WATCHER: Duration = Duration::from_secs(5);

/// A session whose sandbox is running.
pub struct Live {
    pub session: SessionRef,
    terminals: Mutex<HashMap<Uuid, Arc<Terminal>>>,
    manifest: tokio::sync::Mutex<Manifest>,
    finished: mpsc::UnboundedSender<Finished>,
    /// The files the last sync had no room for, as the session was told.
    not_kept: Mutex<Vec<String>>,
    idle_since: Mutex<Instant>,
    /// Runs going on: the sandbox is not idle while there are any.
    runs: Arc<AtomicUsize>,
    /// Let go as idle: nothing is synced from it any more (unmounting its disk
    /// stirs the file watcher).
    stopped: AtomicBool,
    _watcher: Option<Box<dyn Send + Sync>>,
}

/// Keeps a sandbox from being culled while a run uses it.
pub struct InUse(Arc<AtomicUsize>);

impl Drop for InUse {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Live {
    pub fn in_use(&self) -> InUse {
        self.runs.fetch_add(1, Ordering::SeqCst);
        InUse(self.runs.clone())
    }
}

pub struct Sandboxes {
    runner: Arc<dyn Runner>,
    pool: PgPool,
    news: Arc<News>,
    max_file_bytes: u64,
    max_workspace_bytes: u64,
    idle: Duration,
    caps: Caps,
    /// Which replicas use each sandbox: only the last one to let go stops it.
    holders: Holders,
    live: tokio::sync::Mutex<HashMap<Uuid, Arc<Live>>>,
    /// Sessions whose sandbox is being started, each behind its own gate.
    opening: Mutex<HashMap<Uuid, Arc<tokio::sync::Mutex<()>>>>,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error(transparent)]
    Runner(#[from] RunnerError),
    #[error("syncing the files: {0}")]
    Sync(#[from] sync::SyncError),
    /// A cap is reached; the message says which.
    #[error("{0}")]
    Full(String),
    #[error("recording the sandbox's use: {0}")]
    Database(#[from] sqlx::Error),
}

impl Sandboxes {
    pub fn new(
        runner: Arc<dyn Runner>,
        pool: PgPool,
        news: Arc<News>,
        max_file_bytes: usize,
        max_workspace_bytes: usize,
        idle: Duration,
        caps: Caps,
    ) -> Arc<Self> {
        Arc::new(Self {
            runner,
            holders: Holders::new(pool.clone()),
            pool,
            news,
            max_file_bytes: max_file_bytes as u64,
            max_workspace_bytes: max_workspace_bytes as u64,
            idle,
            caps,
            live: Default::default(),
            opening: Default::default(),
        })
    }

    /// Removes what the runner holds for sessions that no longer exist, then
    /// culls idle sandboxes every few seconds (and orphans every few minutes)
    /// until the server stops.
    pub async fn start(self: &Arc<Self>) -> Result<(), sqlx::Error> {
        self.runner.recover().await;
        self.holders.sweep().await?;
        self.collect_orphans().await?;
        let me = Arc::downgrade(self);
        tokio::spawn(async move {
            let period = Duration::from_secs(2);
            for round in 1u64.. {
                tokio::time::sleep(period).await;
                let Some(me) = me.upgrade() else { break };
                me.cull().await;
                if round % ORPHAN_ROUNDS == 0 {
                    if let Err(e) = me.collect_orphans().await {
                        tracing::warn!("collecting orphaned sandboxes: {e}");
                    }
                    if let Err(e) = me.holders.sweep().await {
                        tracing::warn!("forgetting replicas gone: {e}");
                    }
                }
            }
        });
        Ok(())
    }

    /// Deletes what the runner holds for sessions the database no longer has.
    async fn collect_orphans(&self) -> Result<(), sqlx::Error> {
        let known = self.runner.known().await;
        let existing: Vec<Uuid> =
            sqlx::query_scalar("SELECT uuid FROM code_sessions WHERE uuid = ANY($1)")
                .bind(&known)
                .fetch_all(&self.pool)
                .await?;
        for uuid in known.iter().filter(|u| !existing.contains(u)) {
            tracing::info!(session = %uuid, "removing the sandbox of a deleted session");
            self.runner.forget(*uuid).await;
        }
        Ok(())
    }

    /// The session's running sandbox, starting it (and writing its files in) if needed.
    pub async fn open(
        self: &Arc<Self>,
        s: SessionRef,
        progress: Progress<'_>,
    ) -> Result<Arc<Live>, WorkspaceError> {
        if let Some(l) = self.live.lock().await.get(&s.uuid) {
            return Ok(l.clone());
        }
        // One start per session at a time; other sessions never wait for it (a
        // pod may take minutes to pull its image).
        let gate = self
            .opening
            .lock()
            .expect("lock")
            .entry(s.uuid)
            .or_default()
            .clone();
        let _opening = gate.lock().await;
        {
            let live = self.live.lock().await;
            if let Some(l) = live.get(&s.uuid) {
                return Ok(l.clone());
            }
            if live.len() >= self.caps.sandboxes {
                self.opening.lock().expect("lock").remove(&s.uuid);
                return Err(WorkspaceError::Full(format!(
                    "this server runs the most sandboxes it may ({}) just now: try again once others are idle",
                    self.caps.sandboxes
                )));
            }
        }
        // Held before it is started, so no other replica stops it meanwhile; a
        // session deleted by now cannot be held, and gets no sandbox.
        let opened = match self.holders.hold(s.id).await {
            Ok(()) => self.start_sandbox(s, progress).await,
            Err(e) => Err(e.into()),
        };
        match &opened {
            // Known as running before the gate goes, so no second start slips in between.
            Ok(l) => {
                self.live.lock().await.insert(s.uuid, l.clone());
            }
            Err(_) => {
                if let Err(e) = self.holders.unhold(s.id).await {
                    tracing::warn!(session = %s.uuid, "taking back the hold on a sandbox: {e}");
                }
            }
        }
        self.opening.lock().expect("lock").remove(&s.uuid);
        opened
    }

    /// Lets go of the session's sandbox: stopped if no other replica uses it.
    async fn release(&self, s: SessionRef) {
        let stopped = self
            .holders
            .release(s.id, self.runner.stop(s), self.runner.leave(s))
            .await;
        match stopped {
            Ok(true) => tracing::info!(session = %s.uuid, "sandbox stopped"),
            Ok(false) => {
                tracing::info!(session = %s.uuid, "sandbox left to the other replicas using it")
            }
            Err(e) => tracing::warn!(session = %s.uuid, "letting go of the sandbox: {e}"),
        }
    }

    async fn start_sandbox(
        self: &Arc<Self>,
        s: SessionRef,
        progress: Progress<'_>,
    ) -> Result<Arc<Live>, WorkspaceError> {
        let span = tracing::info_span!("sandbox", session = %s.uuid);
        let started = Instant::now();
        self.runner
            .start(s, progress)
            .instrument(span.clone())
            .await?;
        let mut manifest = Manifest::default();
        let ops = sync::push_all(
            &*self.runner,
            &self.pool,
            s,
            self.max_file_bytes,
            &mut manifest,
        )
        .instrument(span.clone())
        .await?;
        let (kick_tx, kick_rx) = mpsc::channel(8);
        let watch_tx = kick_tx.clone();
        let (watch_raw_tx, mut watch_raw_rx) = mpsc::channel(1);
        let watcher = self.runner.watch(s, watch_raw_tx);
        let polled = watcher.is_none();
        tokio::spawn(async move {
            // Without file events (a pod), background changes are looked for now and then.
            if polled {
                let mut every = tokio::time::interval(POLL_WITHOUT_WATCHER);
                while !watch_tx.is_closed() {
                    every.tick().await;
                    let _ = watch_tx.try_send(Kick::Soon);
                }
            }
            while watch_raw_rx.recv().await.is_some() {
                let _ = watch_tx.try_send(Kick::Soon);
            }
        });
        let (finished_tx, finished_rx) = mpsc::unbounded_channel();
        let l = Arc::new(Live {
            session: s,
            terminals: Default::default(),
            manifest: tokio::sync::Mutex::new(manifest),

            finished: finished_tx,
            not_kept: Default::default(),
            idle_since: Mutex::new(Instant::now()),
            runs: Default::default(),
            stopped: Default::default(),
            _watcher: watcher,
        });
        // The sync loop holds the sandbox weakly: once it is stopped, the loop ends
        // with it; the history ends with the last of its terminals.
        tokio::spawn(
            self.clone()
                .sync_loop(Arc::downgrade(&l), kick_rx)
                .instrument(span.clone()),
        );
        let news = self.news.clone();
        let history = commands::follow(self.pool.clone(), news, s, finished_rx, kick_tx);
        tokio::spawn(history.instrument(span.clone()));
        span.in_scope(|| {
            tracing::info!(
                ops,
                ms = started.elapsed().as_millis() as u64,
                "sandbox started"
            )
        });
        Ok(l)
    }

    /// Reattaches to terminal `id` if it is still there, or opens a new shell
    /// for user `opener`.
    pub async fn terminal(
        self: &Arc<Self>,
        live: &Arc<Live>,
        id: Option<Uuid>,
        size: TermSize,
        opener: i64,
    ) -> Result<(Arc<Terminal>, bool), WorkspaceError> {
        if let Some(t) = id.and_then(|id| live.terminals.lock().expect("lock").get(&id).cloned()) {
            if t.exit_code().is_none() {
                t.resize(size);
                return Ok((t, true));
            }
        }
        let open = live
            .terminals
            .lock()
            .expect("lock")
            .values()
            .filter(|t| t.exit_code().is_none())
            .count();
        if open >= self.caps.terminals_per_session {
            return Err(WorkspaceError::Full(format!(
                "a session may have {} terminals open at once: close one first",
                self.caps.terminals_per_session
            )));
        }
        // The shell's marks carry it (runner/bashrc.sh): random, never shown.
        let nonce = Uuid::new_v4().simple().to_string();
        let shell = match self.runner.open_shell(live.session, size, &nonce).await {
            Ok(shell) => shell,
            Err(e) => {
                // The sandbox is gone under us (a deleted or evicted pod): the next
                // open starts it afresh.
                let mut all = self.live.lock().await;
                if all
                    .get(&live.session.uuid)
                    .is_some_and(|l| Arc::ptr_eq(l, live))
                {
                    all.remove(&live.session.uuid);
                }
                return Err(e.into());
            }
        };
        // Random: a terminal's id reaches a URL.
        let id = Uuid::new_v4();
        let term = Terminal::start(id, opener, shell, nonce, live.finished.clone());
        live.terminals
            .lock()
            .expect("lock")
            .insert(id, term.clone());
        Ok((term, false))
    }

    /// Syncs the sandbox back whenever kicked; kicks that come while a sync runs
    /// are folded into the next.
    async fn sync_loop(self: Arc<Self>, live: Weak<Live>, mut kicks: mpsc::Receiver<Kick>) {
        while let Some(mut kick) = kicks.recv().await {
            let Some(live) = live.upgrade().filter(|l| !l.stopped.load(Ordering::SeqCst)) else {
                break;
            };
            // Watcher events wait for their burst to end, unless a command ends meanwhile.
            let deadline = tokio::time::Instant::now() + WATCH_DEBOUNCE;
            while matches!(kick, Kick::Soon) {
                match tokio::time::timeout_at(deadline, kicks.recv()).await {
                    Ok(Some(k)) => kick = k,
                    Ok(None) => return,
                    Err(_) => break,
                }
            }
            // The changes are the last command's, as far as anyone can tell.
            let mut by = match kick {
                Kick::Now(user) => Some(user),
                Kick::Soon => None,
            };
            while let Ok(k) = kicks.try_recv() {
                if let Kick::Now(user) = k {
                    by = Some(user);
                }
            }
            if let Err(e) = self.sync_now(&live, by).await {
                tracing::warn!("sync back failed: {e}");
            }
        }
    }

    /// Brings what changed in the sandbox into Postgres now (`by` made it, as far
    /// as anyone can tell), and tells the pages.
    pub async fn sync_now(&self, live: &Live, by: Option<i64>) -> Result<(), sync::SyncError> {
        let started = Instant::now();
        let mut manifest = live.manifest.lock().await;
        let limits = sync::Limits {
            file: self.max_file_bytes,
            workspace: self.max_workspace_bytes,
        };
        let pulled = sync::pull(
            &*self.runner,
            &self.pool,
            live.session,
            limits,
            &mut manifest,
            by,
        )
        .await?;
        // Told when it changes, not after every command while it lasts.
        let told = std::mem::replace(
            &mut *live.not_kept.lock().expect("lock"),
            pulled.not_kept.clone(),
        );
        if !pulled.not_kept.is_empty() && told != pulled.not_kept {
            self.not_kept(live, pulled.not_kept);
        }
        let paths = pulled.changed;
        if !paths.is_empty() {
            tracing::debug!(
                changed = paths.len(),
                ms = started.elapsed().as_secs_f64() * 1e3,
                "synced back"
            );
            self.news.tell(live.session.uuid, Event::Tree { paths });
        }
        Ok(())
    }

    /// Tells the session's terminals and pages which files the workspace had
    /// no room for.
    fn not_kept(&self, live: &Live, paths: Vec<String>) {
        let names = app::paths::named(&paths);
        let message = format!(
            "The workspace is full ({} bytes at most): {names} stay in the sandbox only, not \
             saved. Delete files to make room.",
            self.max_workspace_bytes
        );
        tracing::info!(session = %live.session.uuid, files = paths.len(), "workspace full");
        for t in live.terminals.lock().expect("lock").values() {
            t.notice(&message);
        }
        self.news
            .tell(live.session.uuid, Event::NotKept { paths, message });
    }

    pub fn runner(&self) -> &Arc<dyn Runner> {
        &self.runner
    }

    /// Stops terminals nobody has been attached to for the idle time and that run
    /// nothing but their shell, then sandboxes left without terminals.
    async fn cull(&self) {
        let mut stopped = Vec::new();
        let mut kept = Vec::new();
        {
            let mut live = self.live.lock().await;
            live.retain(|_, l| {
                let mut terms = l.terminals.lock().expect("lock");
                terms.retain(|_, t| {
                    let idle = t.detached_for().is_some_and(|d| d >= self.idle);
                    let keep = t.exit_code().is_none() && (!idle || t.busy());
                    if !keep {
                        t.kill();
                    }
                    keep
                });
                let mut since = l.idle_since.lock().expect("lock");
                if !terms.is_empty() || l.runs.load(Ordering::SeqCst) > 0 {
                    *since = Instant::now();
                    kept.push(l.session.id);
                    return true;
                }
                let keep = since.elapsed() < self.idle;
                if keep {
                    kept.push(l.session.id);
                } else {
                    l.stopped.store(true, Ordering::SeqCst);
                    stopped.push(l.session);
                }
                keep
            });
        }
        if !kept.is_empty() {
            if let Err(e) = self.holders.renew(&kept).await {
                tracing::warn!("renewing this server's hold on its sandboxes: {e}");
            }
        }
        let any = !stopped.is_empty();
        for s in stopped {
            tracing::info!(session = %s.uuid, "letting go of an idle sandbox");
            self.release(s).await;
        }
        if any {
            tokio::task::spawn_blocking(crate::memory::give_back);
        }
    }

    /// Kills the session's terminals whose opener may no longer run anything there
    /// (removed, or made a viewer), attached or not.
    pub async fn close_revoked(&self, session: Uuid) {
        let Some(live) = self.live.lock().await.get(&session).cloned() else {
            return;
        };
        let allowed = match access::allowed(&self.pool, session, Capability::Run).await {
            Ok(users) => users,
            Err(e) => return tracing::warn!(%session, "checking terminal openers: {e}"),
        };
        for t in live.terminals.lock().expect("lock").values() {
            if !allowed.contains(&t.opener) {
                tracing::info!(%session, term = %t.id, "closing a terminal whose opener lost access");
                t.revoke("You may no longer use this session's terminals");
            }
        }
    }

    /// Kills every shell, stops every sandbox and ends the news streams: the
    /// server is going down.
    pub async fn shutdown(&self) {
        self.news.close_all();
        let all: Vec<Arc<Live>> = self.live.lock().await.drain().map(|(_, l)| l).collect();
        for l in all {
            l.stopped.store(true, Ordering::SeqCst);
            for t in l.terminals.lock().expect("lock").values() {
                t.kill();
            }
            self.release(l.session).await;
        }
    }

    async fn mirror(&self, uuid: Uuid, change: FileChange) {
        let changed = match &change {
            FileChange::Written { path, .. }
            | FileChange::Folder { path }
            | FileChange::Deleted { path } => {
                vec![path.clone()]
            }
            FileChange::Moved { from, to } => vec![from.clone(), to.clone()],
            FileChange::SessionDeleted => {
                // A start under way finishes first, so what it made is removed too.
                let gate = self.opening.lock().expect("lock").get(&uuid).cloned();
                if let Some(gate) = gate {
                    let _ = gate.lock().await;
                }
                if let Some(l) = self.live.lock().await.remove(&uuid) {
                    for t in l.terminals.lock().expect("lock").values() {
                        t.kill();
                    }
                }
                self.runner.forget(uuid).await;
                return;
            }
        };
        let live = self.live.lock().await.get(&uuid).cloned();
        if let Some(l) = live {
            // Held across the write so a sync cannot read a half-made change.
            let mut manifest = l.manifest.lock().await;
            let (op, hash) = match change {
                FileChange::Written { path, bytes, hash } => (
                    FsOp::Write {
                        path,
                        content: bytes,
                    },
                    Some(hash),
                ),
                FileChange::Folder { path } => {
                    manifest.folder(&path);
                    (FsOp::Mkdir { path }, None)
                }
                FileChange::Moved { from, to } => {
                    manifest.moved(&from, &to);
                    (FsOp::Rename { from, to }, None)
                }
                FileChange::Deleted { path } => {
                    manifest.forget(&path);
                    (FsOp::Remove { path }, None)
                }
                FileChange::SessionDeleted => unreachable!("handled above"),
            };
            match self.runner.apply(l.session, vec![op]).await {
                Ok(written) => {
                    if let (Some(e), Some(h)) = (written.first(), hash) {
                        manifest.wrote(e, h);
                    }
                }
                Err(e) => tracing::warn!(session = %uuid, "mirroring into the sandbox: {e}"),
            }
        }
        self.news.tell(uuid, Event::Tree { paths: changed });
    }
}

impl WorkspaceHooks for Sandboxes {
    fn changed(
        &self,
        session: Uuid,
        change: FileChange,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(self.mirror(session, change))
    }
}
