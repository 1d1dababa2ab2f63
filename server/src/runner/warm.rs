//! Runs' sandboxes started ahead of time. Starting `bwrap` (namespaces, mounts)
//! is most of what a short run costs, so after a session's first run the local
//! runner keeps one more started: its own process tree in a control group of its
//! own, a bash inside waiting on fd 3 for the run's script. A run takes it, gives
//! it its limits and script, and the next one is started in the background. It
//! is a fresh sandbox all the same: one per run, never reused.

use super::cgroup::RunGroup;
use super::RunnerError;
use std::ffi::OsString;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::PathBuf;

/// What the sandbox runs: bash reads the whole script from fd 3, closes it and
/// runs it as `bash -c` would.
pub const WAITING_SHELL: &str = r#"IFS= read -r -d '' s <&3; exec 3<&-; eval "$s""#;

/// How to start one: the `bwrap` command line and what the process gets.
pub struct Recipe {
    pub argv: Vec<OsString>,
    pub env: Vec<(&'static str, OsString)>,
    pub cwd: PathBuf,
    /// Makes the child what a session's process must be (control group,
    /// rlimits, user); a system call or two, run between fork and exec.
    pub enter: Box<dyn FnMut() -> std::io::Result<()> + Send + Sync>,
}

/// A sandbox started and waiting for its script.
pub struct Warm {
    pub child: std::process::Child,
    /// When it was started: a young one may still be setting up.
    pub since: std::time::Instant,
    script: std::fs::File,
    pub group: Option<RunGroup>,
}

impl Warm {
    pub fn start(mut recipe: Recipe, group: Option<RunGroup>) -> Result<Self, RunnerError> {
        use std::process::Stdio;
        let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
            .map_err(|e| RunnerError::Io(e.into()))?;
        let mut cmd = std::process::Command::new(&recipe.argv[0]);
        cmd.args(&recipe.argv[1..])
            .current_dir(&recipe.cwd)
            .env_clear()
            .envs(recipe.env.drain(..))
            .env("TERM", "dumb")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let fd = read.as_raw_fd();
        let mut enter = recipe.enter;
        // SAFETY: system calls only (dup2 and `enter`'s), on data prepared before the fork.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
                // The copy at 3 is not close-on-exec: bwrap hands it to bash.
                if nix::libc::dup2(fd, 3) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                enter()
            });
        }
        let child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                if let Some(g) = group {
                    g.remove();
                }
                return Err(RunnerError::Start(format!("cannot start the program: {e}")));
            }
        };
        drop(read);
        Ok(Self {
            child,
            since: std::time::Instant::now(),
            script: std::fs::File::from(write),
            group,
        })
    }

    /// Whether it is still waiting (not killed meanwhile).
    pub fn waiting(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Hands it the run's script: it starts at once.
    pub fn run(self, script: &str) -> Result<(std::process::Child, Option<RunGroup>), RunnerError> {
        let Self {
            child,
            script: mut pipe,
            group,
            ..
        } = self;
        let sent = pipe.write_all(script.as_bytes());
        drop(pipe);
        if let Err(e) = sent {
            end(child, group);
            return Err(RunnerError::Start(format!(
                "the run's sandbox went away: {e}"
            )));
        }
        Ok((child, group))
    }

    /// Ends it unused.
    pub fn kill(self) {
        end(self.child, self.group);
    }
}

fn end(mut child: std::process::Child, group: Option<RunGroup>) {
    let _ = child.kill();
    let _ = child.wait();
    if let Some(g) = group {
        g.remove();
    }
}
