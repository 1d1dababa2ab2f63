//! The kube runner: the same `Runner` over a session's exec pod. Shells go
//! through pods/exec with a TTY; the sync moves one tar stream per direction.

use super::call::{exit_code, io, run_in};
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
use uuid::Uuid;

pub struct KubeRunner {
    pods: Pods,
    api: Api<Pod>,
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

    async fn open_shell(
        &self,
        s: SessionRef,
        size: TermSize,
        nonce: &str,
    ) -> Result<Shell, RunnerError> {
        let params = AttachParams::interactive_tty().container("sandbox");
        let nonce = format!("WEBIDE_NONCE={nonce}");
        let cmd = [
            "env",
            &nonce,
            "bash",
            "--rcfile",
            "/opt/webide/bashrc",
            "-i",
        ];
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
