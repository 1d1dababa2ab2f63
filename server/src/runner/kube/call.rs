//! One command in a session's pod through pods/exec, without a TTY: its input
//! given, its output collected, its exit code read from the API's status. The
//! sync and the runs build on it.

use super::names;
use crate::runner::RunnerError;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::api::{Api, AttachParams};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

/// Output of the sync's commands is capped: a workspace is at most this large.
const MAX_STREAM: u64 = 1 << 30;

pub fn io(e: impl std::fmt::Display) -> RunnerError {
    RunnerError::Io(std::io::Error::other(e.to_string()))
}

/// The exit code in a pods/exec `Status`: 0 on success, else its `ExitCode` cause.
pub fn exit_code(status: Option<Status>) -> i32 {
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

/// Runs `cmd` in the session's pod with `input` on stdin; its stdout, or why it failed.
pub async fn run_in(
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
