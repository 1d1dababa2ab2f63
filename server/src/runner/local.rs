//! The local runner: a workspace directory per session under the data directory,
//! mounted at `/app` in a bubblewrap sandbox with its own namespaces, no network,
//! the host's system read-only and a private `/tmp`. Each terminal is one `bwrap`
//! with `--die-with-parent`, so shells die with the server. As root, each session
//! runs as its own unprivileged user id, which also makes the process limit per
//! session.

use super::{
    cgroup::{Cgroups, RunGroup},
    confined::Confined,
    disk::{self, Disks},
    warm::{self, Recipe, Warm},
    Ended, Entry, ExecSpec, FsOp, Process, ProcessControl, Progress, Runner, RunnerError,
    SessionRef, Shell, ShellControl, TermSize,
};
use async_trait::async_trait;
use nix::sys::resource::{setrlimit, Resource};
use std::collections::HashMap;
use std::ffi::{CString, OsString};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// First user id of the per-session ids used when the server runs as root.
const UID_BASE: u32 = 200_000;
const SHELL_RC: &str = include_str!("bashrc.sh");

#[derive(Debug, Clone)]
pub struct Limits {
    pub memory_bytes: u64,
    pub processes: u64,
    pub file_bytes: u64,
    pub cpu_secs: u64,
    /// Each session's own disk (its workspace, `/tmp` and home), where the
    /// machine allows one; 0 for none.
    pub disk_bytes: u64,
}

pub struct LocalRunner {
    workspaces: PathBuf,
    sandboxes: PathBuf,
    rc: PathBuf,
    limits: Limits,
    cgroups: Cgroups,
    per_session_uid: bool,
    sandboxed: bool,
    disks: Option<Disks>,
    /// Each session's next run sandbox (see `warm`).
    warm: Arc<Mutex<HashMap<Uuid, Slot>>>,
}

/// A session's next run sandbox: on its way (told when it is there), or waiting.
enum Slot {
    Starting(Arc<tokio::sync::Notify>),
    Ready(Warm),
}

impl LocalRunner {
    /// Prepares the runner's directories and proves the sandbox works here:
    /// without bubblewrap it refuses, unless `unsandboxed` says to run plain shells.
    pub fn new(data_dir: &Path, limits: Limits, unsandboxed: bool) -> Result<Self, RunnerError> {
        let data_dir = std::path::absolute(data_dir)?;
        let workspaces = data_dir.join("workspaces");
        let sandboxes = data_dir.join("sandboxes");
        for dir in [&workspaces, &sandboxes] {
            std::fs::create_dir_all(dir)?;
            // Session users must pass through to their own folder, and list nothing.
            set_mode(dir, 0o711)?;
        }
        set_mode(&data_dir, mode_of(&data_dir)? | 0o111)?;
        // Written aside and renamed: shells starting now must never see half a file.
        // Left alone when it is already right: a sandbox being made this moment (another
        // runner on the same folder) binds it, and must not find it replaced.
        let rc = sandboxes.join("bashrc");
        if std::fs::read(&rc).ok().as_deref() != Some(SHELL_RC.as_bytes()) {
            let tmp = sandboxes.join(format!(".bashrc-{}", Uuid::new_v4().simple()));
            std::fs::write(&tmp, SHELL_RC)?;
            set_mode(&tmp, 0o644)?;
            std::fs::rename(&tmp, &rc)?;
        }
        let runner = Self {
            cgroups: Cgroups::detect(&data_dir, limits.memory_bytes, limits.processes),
            workspaces,
            sandboxes,
            rc,
            limits,
            per_session_uid: nix::unistd::geteuid().is_root(),
            sandboxed: !unsandboxed,
            disks: None,
            warm: Default::default(),
        };
        if runner.sandboxed {
            runner.probe()?;
        }
        let mut runner = runner;
        if runner.sandboxed && runner.per_session_uid && runner.limits.disk_bytes > 0 {
            match Disks::probe(&runner.sandboxes, runner.limits.disk_bytes) {
                Ok(d) => runner.disks = Some(d),
                Err(e) => tracing::warn!("no disk of its own per session: {e}"),
            }
        }
        tracing::info!(
            sandboxed = runner.sandboxed,
            per_session_uid = runner.per_session_uid,
            cgroups = %runner.cgroups.describe(),
            disk_mb = runner.disks.map_or(0, |_| runner.limits.disk_bytes >> 20),
            "local runner ready"
        );
        for limit in runner.unenforced() {
            tracing::warn!("not enforced on this machine: {limit}");
        }
        if !runner.sandboxed {
            tracing::warn!(
                "shells run WITHOUT a sandbox (--unsandboxed): they can see this machine"
            );
        }
        Ok(runner)
    }

    /// The limits this machine does not let the runner hold, in words.
    pub fn unenforced(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if !self.cgroups.caps_memory() {
            out.push("a session's memory cap for all its processes together (each process keeps its own data limit)");
        }
        if !self.cgroups.caps_processes() && !self.per_session_uid {
            out.push("a session's process cap (the process limit counts every process of the server's user)");
        }
        if !self.cgroups.measures_cpu() {
            out.push("runs' CPU time from a control group (it is taken from rusage)");
        }
        if !self.per_session_uid {
            out.push("a user of its own per session (the server is not root): sessions' files are apart by the sandbox alone");
        }
        if self.disks.is_none() {
            // Postgres keeps only what fits the workspace limit; the sandbox's
            // folders are on the host's disk, only each file's size limited.
            out.push(
                "a session's total disk use in its sandbox (only each file's size is limited)",
            );
        }
        out
    }

    /// Runs `true` in a sandbox like a session's, so a machine where bwrap cannot
    /// work fails at start with bwrap's own words rather than at the first terminal.
    fn probe(&self) -> Result<(), RunnerError> {
        let probe = SessionRef {
            uuid: Uuid::new_v4(),
            id: 0,
            user: 0,
            language: app::wire::sessions::Language::Bash,
        };
        self.prepare(probe)?;
        let mut cmd = std::process::Command::new("bwrap");
        cmd.args(self.bwrap_args(probe)).arg("/bin/true");
        // SAFETY: `enter` makes system calls only, on data prepared before the fork.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, self.entry(probe));
        }
        let out = cmd.output();
        self.cgroups.remove(probe.uuid);
        let _ = std::fs::remove_dir_all(self.workspace(probe.uuid));
        let _ = std::fs::remove_dir_all(self.private(probe.uuid));
        let out = out.map_err(|e| {
            RunnerError::Start(format!(
                "bubblewrap (bwrap) cannot run: {e}; install the `bubblewrap` package, \
                 or start with --unsandboxed to run shells without a sandbox"
            ))
        })?;
        if !out.status.success() {
            return Err(RunnerError::Start(format!(
                "bubblewrap (bwrap) cannot create a sandbox here: {}; start with \
                 --unsandboxed to run shells without a sandbox",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(())
    }

    /// The workspace: on the session's own disk when it has one.
    pub fn workspace(&self, uuid: Uuid) -> PathBuf {
        match self.disks {
            Some(_) => self.scratch(uuid).join("app"),
            None => self.workspaces.join(uuid.to_string()),
        }
    }

    /// Where the session's `/tmp` and home folders are.
    fn scratch(&self, uuid: Uuid) -> PathBuf {
        match self.disks {
            Some(_) => disk::mount_point(&self.private(uuid)),
            None => self.private(uuid),
        }
    }

    fn private(&self, uuid: Uuid) -> PathBuf {
        self.sandboxes.join(uuid.to_string())
    }

    fn owner(&self, s: SessionRef) -> Option<(u32, u32)> {
        self.per_session_uid.then(|| {
            // From the session's database id: unique (no two sessions share a
            // user) and the same across restarts, for 4 billion sessions.
            let id = UID_BASE + (s.id as u64 % u64::from(u32::MAX - UID_BASE - 1)) as u32;
            (id, id)
        })
    }

    fn confined(&self, s: SessionRef) -> Result<Confined, RunnerError> {
        Ok(Confined::open(&self.workspace(s.uuid), self.owner(s))?)
    }

    /// Makes `dir` (if needed) the session user's alone.
    fn own_folder(&self, s: SessionRef, dir: &Path) -> Result<(), RunnerError> {
        std::fs::create_dir_all(dir)?;
        set_mode(dir, 0o700)?;
        if let Some((uid, gid)) = self.owner(s) {
            use std::os::unix::fs::MetadataExt;
            // A folder made under another user (an older way of choosing them)
            // is handed over whole.
            if std::fs::metadata(dir)?.uid() != uid {
                chown_tree(dir, uid, gid)?;
            }
        }
        Ok(())
    }

    /// The session's folders, owned by its user: the workspace, `/tmp` and home
    /// (on its own disk where it has one).
    fn prepare(&self, s: SessionRef) -> Result<(), RunnerError> {
        let private = self.private(s.uuid);
        self.own_folder(s, &private)?;
        if let (Some(d), Some(owner)) = (self.disks, self.owner(s)) {
            d.mount(
                &private,
                owner,
                Some(&self.workspaces.join(s.uuid.to_string())),
            )?;
        }
        let scratch = self.scratch(s.uuid);
        for dir in [
            self.workspace(s.uuid),
            scratch.join("tmp"),
            scratch.join("home"),
        ] {
            self.own_folder(s, &dir)?;
        }
        // Names for the sandbox's user, which the host's files do not know.
        let (uid, gid) = self.owner(s).unwrap_or_else(|| {
            (
                nix::unistd::getuid().as_raw(),
                nix::unistd::getgid().as_raw(),
            )
        });
        let passwd = format!(
            "root:x:0:0:root:/root:/bin/bash\nuser:x:{uid}:{gid}:user:/home/user:/bin/bash\n\
             nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        );
        let group = format!("root:x:0:\nuser:x:{gid}:\nnogroup:x:65534:\n");
        for (name, text) in [("passwd", passwd), ("group", group)] {
            let file = private.join(name);
            std::fs::write(&file, text)?;
            set_mode(&file, 0o644)?;
        }
        Ok(())
    }

    fn bwrap_args(&self, s: SessionRef) -> Vec<String> {
        let private = self.private(s.uuid);
        let mut args: Vec<String> = [
            "--unshare-all",
            "--die-with-parent",
            "--ro-bind",
            "/usr",
            "/usr",
        ]
        .map(String::from)
        .to_vec();
        // Merged-/usr systems link these; others have real folders to show read-only.
        for top in ["/bin", "/sbin", "/lib", "/lib64", "/lib32"] {
            match std::fs::read_link(top) {
                Ok(target) => args.extend([
                    "--symlink".into(),
                    target.to_string_lossy().into_owned(),
                    top.into(),
                ]),
                Err(_) if Path::new(top).is_dir() => {
                    args.extend(["--ro-bind".into(), top.into(), top.into()])
                }
                Err(_) => {}
            }
        }
        let path = |p: PathBuf| p.to_string_lossy().into_owned();
        args.extend(
            [
                "--ro-bind",
                "/etc",
                "/etc",
                "--ro-bind",
                "/dev/null",
                "/etc/shadow",
                "--ro-bind",
                "/dev/null",
                "/etc/gshadow",
                "--dev",
                "/dev",
                "--proc",
                "/proc",
                "--hostname",
                "webide",
                "--chdir",
                "/app",
            ]
            .map(String::from),
        );
        let scratch = self.scratch(s.uuid);
        for (from, to) in [
            (path(self.workspace(s.uuid)), "/app"),
            (path(scratch.join("tmp")), "/tmp"),
            (path(scratch.join("home")), "/home/user"),
        ] {
            args.extend(["--bind".into(), from, to.into()]);
        }
        for name in ["passwd", "group"] {
            args.extend([
                "--ro-bind".into(),
                path(private.join(name)),
                format!("/etc/{name}"),
            ]);
        }
        args.extend([
            "--ro-bind".into(),
            path(self.rc.clone()),
            "/opt/webide/bashrc".into(),
        ]);
        args.push("--".into());
        args
    }

    /// What the child runs just before the sandbox: joins the control groups,
    /// sets the limits and becomes the session's user.
    fn entry(&self, s: SessionRef) -> impl FnMut() -> std::io::Result<()> + Send + Sync + 'static {
        let procs = self.cgroup_procs(s);
        let limits = self.limits.clone();
        let owner = self.owner(s);
        move || enter(&procs, &limits, owner)
    }

    /// How to start a run's sandbox for session `s` (waiting for its script), in a
    /// control group of its own (made now; limited when a run takes it).
    fn warm_recipe(&self, s: SessionRef) -> (Recipe, Option<RunGroup>) {
        let group = match self.cgroups.create_run(
            Uuid::new_v4(),
            self.limits.memory_bytes,
            self.limits.processes,
        ) {
            Ok(g) => Some(g),
            Err(e) => {
                tracing::warn!(session = %s.uuid, "no control group for a run: {e}");
                None
            }
        };
        let procs: Vec<CString> = group
            .iter()
            .flat_map(|g| g.procs())
            .filter_map(|p| CString::new(p.into_os_string().into_encoded_bytes()).ok())
            .collect();
        // The run's own rlimits are set by its script, lowering these.
        let limits = Limits {
            memory_bytes: nix::libc::RLIM_INFINITY,
            cpu_secs: nix::libc::RLIM_INFINITY,
            ..self.limits.clone()
        };
        let owner = self.owner(s);
        let (argv, env) = self.command_line(s, &["/bin/bash", "-c", warm::WAITING_SHELL]);
        let recipe = Recipe {
            argv,
            env,
            cwd: self.workspace(s.uuid),
            enter: Box::new(move || enter(&procs, &limits, owner)),
        };
        (recipe, group)
    }

    /// Starts the session's next run sandbox in the background, unless one is
    /// there or on its way; one the session stopped meanwhile is ended.
    fn keep_warm(&self, s: SessionRef) {
        {
            let mut warm = self.warm.lock().expect("lock");
            if warm.contains_key(&s.uuid) {
                return;
            }
            warm.insert(s.uuid, Slot::Starting(Default::default()));
        }
        let (recipe, group) = self.warm_recipe(s);
        let slots = self.warm.clone();
        tokio::task::spawn_blocking(move || {
            let started = Warm::start(recipe, group);
            let mut slots = slots.lock().expect("lock");
            match (started, slots.remove(&s.uuid)) {
                (Ok(w), Some(Slot::Starting(ready))) => {
                    slots.insert(s.uuid, Slot::Ready(w));
                    ready.notify_waiters();
                }
                (Ok(w), other) => {
                    // The session stopped meanwhile (or a run took the place).
                    if let Some(o) = other {
                        slots.insert(s.uuid, o);
                    }
                    drop(slots);
                    w.kill();
                }
                (Err(e), Some(Slot::Starting(ready))) => {
                    ready.notify_waiters();
                    tracing::warn!(session = %s.uuid, "starting a run's sandbox ahead: {e}");
                }
                (Err(_), other) => {
                    if let Some(o) = other {
                        slots.insert(s.uuid, o);
                    }
                }
            }
        });
    }

    /// The session's waiting run sandbox; one on its way is waited for (a little),
    /// as it is ready sooner than one started now.
    async fn take_warm(&self, uuid: Uuid) -> Option<Warm> {
        let ready = match self.warm.lock().expect("lock").get(&uuid) {
            Some(Slot::Starting(ready)) => Some(ready.clone()),
            _ => None,
        };
        if let Some(ready) = ready {
            let notified = ready.notified();
            tokio::pin!(notified);
            // From here no notice is missed; one given before is seen below.
            notified.as_mut().enable();
            let starting = matches!(
                self.warm.lock().expect("lock").get(&uuid),
                Some(Slot::Starting(_))
            );
            if starting {
                let wait = std::time::Duration::from_secs(2);
                let _ = tokio::time::timeout(wait, notified).await;
            }
        }
        let mut warm = self.warm.lock().expect("lock");
        match warm.remove(&uuid) {
            Some(Slot::Ready(w)) => Some(w),
            // Still starting: it stays for the next run.
            Some(starting) => {
                warm.insert(uuid, starting);
                None
            }
            None => None,
        }
    }

    /// Ends the session's waiting run sandbox, if any.
    fn cool(&self, uuid: Uuid) {
        let taken = self.warm.lock().expect("lock").remove(&uuid);
        match taken {
            Some(Slot::Ready(w)) => w.kill(),
            Some(Slot::Starting(ready)) => ready.notify_waiters(),
            None => {}
        }
    }

    fn cgroup_procs(&self, s: SessionRef) -> Vec<CString> {
        match self.cgroups.create(s.uuid) {
            Ok(files) => files
                .into_iter()
                .filter_map(|p| CString::new(p.into_os_string().into_encoded_bytes()).ok())
                .collect(),
            Err(e) => {
                tracing::warn!(session = %s.uuid, "no control group for the session: {e}");
                Vec::new()
            }
        }
    }

    /// The program and arguments that run `inner` in the session's sandbox (or
    /// plainly, unsandboxed), and its environment.
    fn command_line(
        &self,
        s: SessionRef,
        inner: &[&str],
    ) -> (Vec<OsString>, Vec<(&'static str, OsString)>) {
        let home = if self.sandboxed {
            PathBuf::from("/home/user")
        } else {
            self.scratch(s.uuid).join("home")
        };
        let mut argv: Vec<OsString> = Vec::new();
        if self.sandboxed {
            argv.push("bwrap".into());
            argv.extend(self.bwrap_args(s).into_iter().map(OsString::from));
        }
        argv.extend(inner.iter().map(OsString::from));
        let env = vec![
            ("LANG", "C.UTF-8".into()),
            ("LC_ALL", "C.UTF-8".into()),
            ("HOME", home.into_os_string()),
            ("USER", "user".into()),
            ("SHELL", "/bin/bash".into()),
            ("PATH", "/usr/local/bin:/usr/bin:/bin".into()),
        ];
        (argv, env)
    }

    fn shell_command(&self, s: SessionRef, nonce: &str) -> pty_process::Command {
        let rc = if self.sandboxed {
            "/opt/webide/bashrc".to_string()
        } else {
            self.rc.to_string_lossy().into_owned()
        };
        let (argv, env) = self.command_line(s, &["/bin/bash", "--rcfile", &rc, "-i"]);
        pty_process::Command::new(&argv[0])
            .args(&argv[1..])
            .current_dir(self.workspace(s.uuid))
            .env_clear()
            .envs(env)
            .env("TERM", "xterm-256color")
            .env("COLORTERM", "truecolor")
            .env("WEBIDE_NONCE", nonce)
            .kill_on_drop(true)
    }
}

fn mode_of(path: &Path) -> std::io::Result<u32> {
    use std::os::unix::fs::PermissionsExt;
    Ok(std::fs::metadata(path)?.permissions().mode() & 0o7777)
}

/// Gives `dir` and everything under it to `uid`:`gid`, links themselves rather
/// than what they point at.
fn chown_tree(dir: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
    let mut todo = vec![dir.to_path_buf()];
    while let Some(path) = todo.pop() {
        std::os::unix::fs::lchown(&path, Some(uid), Some(gid))?;
        if std::fs::symlink_metadata(&path)?.is_dir() {
            for e in std::fs::read_dir(&path)? {
                todo.push(e?.path());
            }
        }
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// Runs in the forked child, between fork and exec.
fn enter(procs: &[CString], limits: &Limits, owner: Option<(u32, u32)>) -> std::io::Result<()> {
    use rustix::fs::{Mode, OFlags};
    for file in procs {
        let fd = rustix::fs::open(
            file.as_c_str(),
            OFlags::WRONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        rustix::io::write(&fd, b"0")?;
    }
    // Unlimited: what the server has (a run's script sets its own).
    let set = |r, v: u64| {
        if v == nix::libc::RLIM_INFINITY {
            return Ok(());
        }
        setrlimit(r, v, v).map_err(std::io::Error::from)
    };
    set(Resource::RLIMIT_DATA, limits.memory_bytes)?;
    set(Resource::RLIMIT_FSIZE, limits.file_bytes)?;
    set(Resource::RLIMIT_CPU, limits.cpu_secs)?;
    set(Resource::RLIMIT_CORE, 0)?;
    if let Some((uid, gid)) = owner {
        // Counted per user: with a user per session it caps this session alone.
        set(Resource::RLIMIT_NPROC, limits.processes)?;
        nix::unistd::setgroups(&[]).map_err(std::io::Error::from)?;
        nix::unistd::setgid(gid.into()).map_err(std::io::Error::from)?;
        nix::unistd::setuid(uid.into()).map_err(std::io::Error::from)?;
    }
    Ok(())
}

#[async_trait]
impl Runner for LocalRunner {
    async fn start(&self, s: SessionRef, _: Progress<'_>) -> Result<(), RunnerError> {
        self.prepare(s)
    }

    async fn scan(&self, s: SessionRef) -> Result<Vec<Entry>, RunnerError> {
        let c = self.confined(s)?;
        Ok(tokio::task::spawn_blocking(move || c.scan())
            .await
            .map_err(|e| RunnerError::Io(std::io::Error::other(e)))??)
    }

    async fn read(
        &self,
        s: SessionRef,
        paths: Vec<String>,
        max: u64,
    ) -> Result<Vec<(String, Option<Vec<u8>>)>, RunnerError> {
        let c = self.confined(s)?;
        tokio::task::spawn_blocking(move || {
            paths
                .into_iter()
                .map(|p| {
                    let bytes = match c.read(&p, max) {
                        Ok(b) => b,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                        Err(e) => return Err(e),
                    };
                    Ok((p, bytes))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(|e| RunnerError::Io(std::io::Error::other(e)))?
        .map_err(RunnerError::Io)
    }

    async fn apply(&self, s: SessionRef, ops: Vec<FsOp>) -> Result<Vec<Entry>, RunnerError> {
        let c = self.confined(s)?;
        tokio::task::spawn_blocking(move || {
            let mut written = Vec::new();
            let mut w = c.writer();
            for op in ops {
                match op {
                    FsOp::Write { path, content } => written.push(w.write(&path, &content)?),
                    FsOp::Mkdir { path } => drop(w.folder(&path)?),
                    // Folders opened so far may move or go: start afresh after.
                    FsOp::Remove { path } => {
                        c.remove(&path)?;
                        w = c.writer();
                    }
                    FsOp::Rename { from, to } => {
                        c.rename(&from, &to)?;
                        w = c.writer();
                    }
                }
            }
            Ok(written)
        })
        .await
        .map_err(|e| RunnerError::Io(std::io::Error::other(e)))?
    }

    async fn open_shell(
        &self,
        s: SessionRef,
        size: TermSize,
        nonce: &str,
    ) -> Result<Shell, RunnerError> {
        let (pty, pts) = pty_process::open().map_err(|e| RunnerError::Start(e.to_string()))?;
        pty.resize(pty_process::Size::new(size.rows, size.cols))
            .map_err(|e| RunnerError::Start(e.to_string()))?;
        let ctl: OwnedFd = rustix::io::dup(&pty).map_err(std::io::Error::from)?;
        // SAFETY: `enter` makes system calls only, on data prepared before the fork.
        let cmd = unsafe { self.shell_command(s, nonce).pre_exec(self.entry(s)) };
        let child = cmd
            .spawn(pts)
            .map_err(|e| RunnerError::Start(format!("cannot start the shell: {e}")))?;
        let pid = child.id().unwrap_or(0) as i32;
        let (output, input) = pty.into_split();
        Ok(Shell {
            output: Box::new(output),
            input: Box::new(input),
            control: Box::new(LocalShell {
                pty: ctl,
                pid,
                child: tokio::sync::Mutex::new(child),
            }),
        })
    }

    async fn exec(&self, s: SessionRef, spec: ExecSpec) -> Result<Process, RunnerError> {
        let t0 = std::time::Instant::now();
        let taken = self.take_warm(s.uuid).await;
        let waited = t0.elapsed();
        let warm = match taken.map(|mut w| (w.waiting(), w)) {
            Some((true, w)) => {
                tracing::debug!(
                    wait_ms = waited.as_secs_f64() * 1e3,
                    age_ms = w.since.elapsed().as_secs_f64() * 1e3,
                    "run sandbox taken warm"
                );
                w
            }
            stale => {
                tracing::debug!(
                    wait_ms = waited.as_secs_f64() * 1e3,
                    "run sandbox started cold"
                );
                if let Some((_, w)) = stale {
                    w.kill();
                }
                let (recipe, group) = self.warm_recipe(s);
                Warm::start(recipe, group)?
            }
        };
        // The next run's sandbox, started while this one runs.
        self.keep_warm(s);
        let cpu_base = warm.group.as_ref().map(|g| {
            g.limit(spec.memory_bytes, spec.processes);
            g.cpu_ms().unwrap_or(0)
        });
        // rlimits behind the group's limits: the tree's CPU time is watched by the caller.
        let script = format!(
            "ulimit -t {} -d {} || exit 125\n{}",
            spec.cpu_ms.div_ceil(1000) + 1,
            spec.memory_bytes / 1024,
            spec.script
        );
        let (mut child, group) = warm.run(&script)?;
        let pipe = |e| RunnerError::Io(e);
        let stdin = tokio::process::ChildStdin::from_std(child.stdin.take().expect("piped"))
            .map_err(pipe)?;
        let stdout = tokio::process::ChildStdout::from_std(child.stdout.take().expect("piped"))
            .map_err(pipe)?;
        let stderr = tokio::process::ChildStderr::from_std(child.stderr.take().expect("piped"))
            .map_err(pipe)?;
        Ok(Process {
            stdin: Box::new(stdin),
            stdout: Box::new(stdout),
            stderr: Box::new(stderr),
            control: Box::new(LocalProcess {
                pid: child.id() as i32,
                reaped: Arc::new(AtomicBool::new(false)),
                group: Mutex::new(group),
                cpu_base: cpu_base.unwrap_or(0),
            }),
        })
    }

    fn watch(
        &self,
        s: SessionRef,
        tx: tokio::sync::mpsc::Sender<()>,
    ) -> Option<Box<dyn Send + Sync>> {
        use notify::Watcher;
        let config = notify::Config::default().with_follow_symlinks(false);
        let handler = move |res: notify::Result<notify::Event>| {
            if res.is_ok() {
                // Full means a sync is already due: nothing is lost.
                let _ = tx.try_send(());
            }
        };
        let mut watcher = match notify::RecommendedWatcher::new(handler, config) {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!("no file watcher, changes sync after commands only: {e}");
                return None;
            }
        };
        if let Err(e) = watcher.watch(&self.workspace(s.uuid), notify::RecursiveMode::Recursive) {
            tracing::warn!("no file watcher, changes sync after commands only: {e}");
            return None;
        }
        Some(Box::new(watcher))
    }

    async fn stop(&self, s: SessionRef) {
        self.cool(s.uuid);
        let cgroups = self.cgroups.clone();
        let private = self.private(s.uuid);
        let _ = tokio::task::spawn_blocking(move || {
            cgroups.remove(s.uuid);
            disk::unmount(&private);
        })
        .await;
    }

    async fn leave(&self, s: SessionRef) {
        self.cool(s.uuid);
    }

    /// Removes the control groups an earlier run of this server left empty (its
    /// sandboxes died with it, `--die-with-parent`). Groups with processes in
    /// them belong to another server on this data directory and stay.
    async fn recover(&self) {
        let cgroups = self.cgroups.clone();
        let _ = tokio::task::spawn_blocking(move || cgroups.remove_empty()).await;
    }

    async fn known(&self) -> Vec<Uuid> {
        let mut all = self.cgroups.leftovers();
        for dir in [&self.workspaces, &self.sandboxes] {
            if let Ok(dir) = std::fs::read_dir(dir) {
                all.extend(
                    dir.filter_map(|e| {
                        e.ok()?.file_name().into_string().ok()?.parse::<Uuid>().ok()
                    }),
                );
            }
        }
        all.sort();
        all.dedup();
        all
    }

    async fn forget(&self, uuid: Uuid) {
        self.cool(uuid);
        let cgroups = self.cgroups.clone();
        let private = self.private(uuid);
        let dirs = [self.workspaces.join(uuid.to_string()), private.clone()];
        let _ = tokio::task::spawn_blocking(move || {
            cgroups.remove(uuid);
            disk::unmount(&private);
            for d in dirs {
                let _ = std::fs::remove_dir_all(d);
            }
        })
        .await;
    }
}

struct LocalShell {
    pty: OwnedFd,
    /// The `bwrap` (or shell) process; its pid namespace holds the rest.
    pid: i32,
    child: tokio::sync::Mutex<tokio::process::Child>,
}

#[async_trait]
impl ShellControl for LocalShell {
    fn resize(&self, size: TermSize) -> std::io::Result<()> {
        let ws = rustix::termios::Winsize {
            ws_row: size.rows,
            ws_col: size.cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        Ok(rustix::termios::tcsetwinsize(&self.pty, ws)?)
    }

    fn busy(&self) -> bool {
        descendants(self.pid)
            .into_iter()
            .filter(|(_, comm)| comm != "bwrap")
            .count()
            > 1
    }

    async fn wait(&self) -> i32 {
        use std::os::unix::process::ExitStatusExt;
        match self.child.lock().await.wait().await {
            Ok(st) => st.code().unwrap_or_else(|| 128 + st.signal().unwrap_or(0)),
            Err(_) => -1,
        }
    }

    fn kill(&self) {
        if self.pid > 0 {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(self.pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// A run's program: the `bwrap` (or bash) process and the run's control group.
struct LocalProcess {
    pid: i32,
    /// Set once the process is reaped: its pid may then be another's.
    reaped: Arc<AtomicBool>,
    group: Mutex<Option<RunGroup>>,
    /// The group's CPU time when the run took it (its sandbox's start is not the run's).
    cpu_base: u64,
}

#[async_trait]
impl ProcessControl for LocalProcess {
    fn cpu_ms(&self) -> Option<u64> {
        let used = self.group.lock().expect("lock").as_ref()?.cpu_ms()?;
        Some(used.saturating_sub(self.cpu_base))
    }

    fn kill(&self) {
        if let Some(g) = self.group.lock().expect("lock").as_ref() {
            g.kill();
        }
        // The sandbox's processes die with it (--die-with-parent, its pid namespace).
        if !self.reaped.load(Ordering::SeqCst) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(self.pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }

    async fn wait(&self) -> Ended {
        let (pid, reaped) = (self.pid, self.reaped.clone());
        let waited = tokio::task::spawn_blocking(move || {
            let r = wait_with_usage(pid);
            reaped.store(true, Ordering::SeqCst);
            r
        })
        .await
        .ok()
        .flatten();
        let group = self.group.lock().expect("lock").take();
        let (status, usage) = waited.unwrap_or((-1, None));
        let mut ended = Ended::default();
        if nix::libc::WIFSIGNALED(status) {
            ended.signal = Some(nix::libc::WTERMSIG(status));
        } else if nix::libc::WIFEXITED(status) {
            let code = nix::libc::WEXITSTATUS(status);
            // bash reports a program killed by a signal as 128 + its number.
            if code > 128 && code < 128 + 65 {
                ended.signal = Some(code - 128);
            } else {
                ended.exit_code = Some(code);
            }
        }
        if let Some(u) = usage {
            let ms = |t: nix::libc::timeval| t.tv_sec as u64 * 1000 + t.tv_usec as u64 / 1000;
            ended.cpu_ms = ms(u.ru_utime) + ms(u.ru_stime);
            ended.memory_kb = Some(u.ru_maxrss as u64);
        }
        if let Some(g) = group {
            let g = tokio::task::spawn_blocking(move || {
                // What the program left behind (daemons) ends with it.
                g.kill();
                let measured = (g.cpu_ms(), g.peak_kb(), g.memory_hit());
                g.remove();
                measured
            })
            .await;
            if let Ok((cpu, peak, hit)) = g {
                let cpu = cpu.map(|c| c.saturating_sub(self.cpu_base));
                ended.cpu_ms = cpu.unwrap_or(ended.cpu_ms);
                ended.memory_kb = peak.or(ended.memory_kb);
                ended.memory_hit = hit;
            }
        }
        ended
    }
}

/// Waits for `pid` and gives its wait status and resource usage (its tree's,
/// as far as its processes were waited for).
fn wait_with_usage(pid: i32) -> Option<(i32, Option<nix::libc::rusage>)> {
    let mut status = 0;
    // SAFETY: plain system call on our own child, with valid out-pointers.
    let mut usage: nix::libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        let r = unsafe { nix::libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            return Some((status, Some(usage)));
        }
        if r < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        return None;
    }
}

/// Every process below `root` with its command name, from /proc.
fn descendants(root: i32) -> Vec<(i32, String)> {
    let mut parent_of = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_string();
        let ppid = stat[close + 1..]
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<i32>().ok())
            .unwrap_or(0);
        parent_of.push((pid, ppid, comm));
    }
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for (pid, ppid, comm) in &parent_of {
            if *ppid == p {
                found.push((*pid, comm.clone()));
                frontier.push(*pid);
            }
        }
    }
    found
}
