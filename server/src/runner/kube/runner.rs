//! The kube runner: the same `Runner` over a session's exec pod. Shells go
//! through pods/exec with a TTY; the sync moves one tar stream per direction.

use super::{names, pods::Pods, spec::KubeSettings, tar_sync};
use crate::runner::{
    Entry, ExecSpec, FsOp, Process, Progress, Runner, RunnerError, SessionRef, Shell, ShellControl,
    TermSize,
};
use async_trait::async_trait;
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::api::{Api, AttachParams, AttachedProcess, TerminalSize};
use std::sync::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

pub struct KubeRunner {
    pods: Pods,
    api: Api<Pod>,
}

/// Output of the sync's commands is capped: a workspace is at most this large.
const MAX_STREAM: u64 = 1 << 30;

pub(super) fn io(e: impl std::fmt::Display) -> RunnerError {
    RunnerError::Io(std::io::Error::other(e.to_string()))
}

/// The exit code in a pods/exec `Status`: 0 on success, else its `ExitCode` cause.
pub(super) fn exit_code(status: Option<Status>) -> i32 {
    let Some(s) = status else { return -1 };
    if s.status.as_deref() == Some("Success") {
        return 0;
    }
    s.details
        .and_then(|d| d.causes)
        .into_iter()
        .flatten()
        .find(|c| c.reason.as_deref() == Some("ExitCode"))
        .and_then(|c| c.message?.parse().ok())
        .unwrap_or(1)
}

impl KubeRunner {
    pub fn new(client: kube::Client, settings: KubeSettings) -> Self {
        Self {
            api: Api::namespaced(client.clone(), &settings.namespace),
            pods: Pods::new(client, settings),
        }
    }

    /// Runs `cmd` in the session's pod with `input` on stdin; its stdout, or why it failed.
    async fn run(
        &self,
        uuid: Uuid,
        cmd: Vec<String>,
        input: Vec<u8>,
    ) -> Result<Vec<u8>, RunnerError> {
        run_in(&self.api, uuid, cmd, input).await
    }
}

/// Runs `cmd` in the session's pod with `input` on stdin; its stdout, or why it failed.
pub(super) async fn run_in(
    api: &Api<Pod>,
    uuid: Uuid,
    cmd: Vec<String>,
    input: Vec<u8>,
) -> Result<Vec<u8>, RunnerError> {
    // No stdin for a command without input: a command that ends before the
    // client has said "end of stdin" closes the socket, and kube's client then
    // fails that send and loses the exit status it had not read yet.
    let params = AttachParams::default()
        .container("sandbox")
        .stdin(!input.is_empty())
        .stdout(true)
        .stderr(true);
    let what = cmd.first().cloned().unwrap_or_default();
    let mut p = api
        .exec(&names::pod(uuid), cmd, &params)
        .await
        .map_err(super::pods::explain)?;
    let (stdin, mut stdout, mut stderr) = (
        p.stdin(),
        p.stdout().ok_or_else(|| io("no stdout"))?,
        p.stderr().ok_or_else(|| io("no stderr"))?,
    );
    let status = p.take_status().ok_or_else(|| io("no status"))?;
    let feed = async move {
        let Some(mut stdin) = stdin else {
            return Ok(());
        };
        stdin.write_all(&input).await?;
        stdin.shutdown().await
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let (mut stdout, mut stderr) = (
        (&mut stdout).take(MAX_STREAM),
        (&mut stderr).take(64 * 1024),
    );
    let (fed, read, _) = tokio::join!(
        feed,
        stdout.read_to_end(&mut out),
        stderr.read_to_end(&mut err),
    );
    fed.map_err(io)?;
    read.map_err(io)?;
    match exit_code(status.await) {
        0 => Ok(out),
        code => Err(io(format!(
            "{what} in the sandbox failed ({code}): {}",
            String::from_utf8_lossy(&err).trim()
        ))),
    }
}

#[async_trait]
impl Runner for KubeRunner {
    async fn start(&self, s: SessionRef, progress: Progress<'_>) -> Result<(), RunnerError> {
        self.pods.ensure(s, progress).await
    }

    async fn scan(&self, s: SessionRef) -> Result<Vec<Entry>, RunnerError> {
        let out = self
            .run(s.uuid, tar_sync::scan_command(), Vec::new())
            .await?;
        Ok(tar_sync::parse_scan(&out))
    }

    async fn read(
        &self,
        s: SessionRef,
        paths: Vec<String>,
        max: u64,
    ) -> Result<Vec<(String, Option<Vec<u8>>)>, RunnerError> {
        let input = tar_sync::read_input(&paths);
        let out = self.run(s.uuid, tar_sync::read_command(), input).await?;
        let mut found = tar_sync::parse_tar(&out, max).map_err(RunnerError::Io)?;
        // Paths that were gone by the time tar looked read as absent, like locally.
        for p in paths {
            if !found.iter().any(|(f, _)| *f == p) {
                found.push((p, None));
            }
        }
        Ok(found)
    }

    async fn apply(&self, s: SessionRef, ops: Vec<FsOp>) -> Result<Vec<Entry>, RunnerError> {
        let written: Vec<String> = ops
            .iter()
            .filter_map(|op| match op {
                FsOp::Write { path, .. } => Some(path.clone()),
                _ => None,
            })
            .collect();
        let (cmd, tar) = tar_sync::apply_command(&ops).map_err(RunnerError::Io)?;
        let out = self.run(s.uuid, cmd, tar).await?;
        Ok(tar_sync::parse_scan(&out)
            .into_iter()
            .filter(|e| written.contains(&e.path))
            .collect())
    }

    async fn open_shell(&self, s: SessionRef, size: TermSize) -> Result<Shell, RunnerError> {
        let params = AttachParams::interactive_tty().container("sandbox");
        let cmd = ["bash", "--rcfile", "/opt/webide/bashrc", "-i"];
        let mut p = self
            .api
            .exec(&names::pod(s.uuid), cmd, &params)
            .await
            .map_err(super::pods::explain)?;
        let output = p.stdout().ok_or_else(|| io("no stdout"))?;
        let input = p.stdin().ok_or_else(|| io("no stdin"))?;
        let resize = p.terminal_size();
        let status = p.take_status().ok_or_else(|| io("no status"))?.boxed();
        let control = KubeShell {
            resize: Mutex::new(resize),
            status: tokio::sync::Mutex::new(Some(status)),
            process: p,
        };
        control.resize(size).map_err(RunnerError::Io)?;
        Ok(Shell {
            output: Box::new(output),
            input: Box::new(input),
            control: Box::new(control),
        })
    }

    /// No file events cross pods/exec: the sync runs after commands only.
    async fn exec(&self, s: SessionRef, spec: ExecSpec) -> Result<Process, RunnerError> {
        super::exec::start(&self.api, s.uuid, &spec).await
    }

    fn watch(
        &self,
        _: SessionRef,
        _: tokio::sync::mpsc::Sender<()>,
    ) -> Option<Box<dyn Send + Sync>> {
        None
    }

    async fn stop(&self, s: SessionRef) {
        if let Err(e) = self.pods.delete_pod(s.uuid).await {
            tracing::warn!(session = %s.uuid, "deleting the sandbox pod: {e}");
        }
    }

    /// Pods may be serving other replicas' sockets: nothing is ended here.
    async fn recover(&self) {}

    async fn known(&self) -> Vec<Uuid> {
        self.pods.sessions().await.unwrap_or_else(|e| {
            tracing::warn!("listing sandboxes: {e}");
            Vec::new()
        })
    }

    async fn forget(&self, uuid: Uuid) {
        if let Err(e) = self.pods.delete_all(uuid).await {
            tracing::warn!(session = %uuid, "deleting the sandbox: {e}");
        }
    }
}

struct KubeShell {
    resize: Mutex<Option<futures_channel::mpsc::Sender<TerminalSize>>>,
    status: tokio::sync::Mutex<Option<BoxFuture<'static, Option<Status>>>>,
    process: AttachedProcess,
}

#[async_trait]
impl ShellControl for KubeShell {
    fn resize(&self, size: TermSize) -> std::io::Result<()> {
        let mut tx = self.resize.lock().expect("resize lock");
        if let Some(tx) = tx.as_mut() {
            let size = TerminalSize {
                width: size.cols,
                height: size.rows,
            };
            // Full means a resize is on its way; the next one will follow it.
            let _ = tx.try_send(size);
        }
        Ok(())
    }

    /// What runs inside the pod is not visible from here: only attached time counts.
    fn busy(&self) -> bool {
        false
    }

    async fn wait(&self) -> i32 {
        match self.status.lock().await.take() {
            Some(status) => exit_code(status.await),
            None => -1,
        }
    }

    fn kill(&self) {
        self.process.abort();
    }
}
