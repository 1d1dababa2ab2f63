//! Runs in a session's pod, through pods/exec without a TTY: a bash wrapper sets
//! the run's limits (`ulimit`: CPU seconds, data size, processes), puts the
//! program in a process group of its own (so it can be stopped as a whole from a
//! second exec) and, once it ends, leaves its CPU time (`times`) and the
//! container's peak memory (its cgroup: a pod has no group per run) in a file
//! that is read back and removed.

use super::call::{exit_code, io, run_in};
use crate::runner::{Ended, ExecSpec, Process, ProcessControl, RunnerError};
use app::wire::runs::quote;
use async_trait::async_trait;
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::api::{Api, AttachParams};
use uuid::Uuid;

/// Where a run's files live in the pod (its process group, its measures).
fn scratch(id: Uuid) -> String {
    format!("/tmp/.webide-run-{}", id.simple())
}

/// The bash script that runs `spec` within its limits and records what it used.
pub fn wrapper(spec: &ExecSpec) -> String {
    let r = scratch(spec.id);
    let cpu = spec.cpu_ms.div_ceil(1000) + 1;
    let data_kb = spec.memory_bytes / 1024;
    format!(
        "r={r}\n\
         ulimit -c 0; ulimit -t {cpu}; ulimit -d {data_kb}; ulimit -u {procs} 2>/dev/null\n\
         cd /app || exit 125\n\
         set -m\n\
         bash -c {script} &\n\
         echo $! > $r.pid\n\
         set +m\n\
         wait $!; rc=$?\n\
         set -- $(times | tail -n 1)\n\
         m=$(cat /sys/fs/cgroup/memory.peak 2>/dev/null \
             || cat /sys/fs/cgroup/memory/memory.max_usage_in_bytes 2>/dev/null)\n\
         echo \"$rc $1 $2 ${{m:--}}\" > $r.usage\n\
         exit $rc\n",
        procs = spec.processes,
        script = quote(&spec.script),
    )
}

/// "0m1.250s" in milliseconds.
fn bash_time_ms(t: &str) -> Option<u64> {
    let (m, s) = t.strip_suffix('s')?.split_once('m')?;
    let secs: f64 = s.parse().ok()?;
    Some(m.parse::<u64>().ok()? * 60_000 + (secs * 1000.0).round() as u64)
}

/// The wrapper's record: "exit user sys peak-bytes".
pub fn parse_usage(text: &str) -> Ended {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let mut ended = Ended::default();
    if let Some(rc) = parts.first().and_then(|p| p.parse::<i32>().ok()) {
        // Bash gives a program killed by a signal as 128 + its number.
        if rc > 128 && rc < 128 + 65 {
            ended.signal = Some(rc - 128);
        } else {
            ended.exit_code = Some(rc);
        }
    }
    let cpu = |i: usize| parts.get(i).and_then(|t| bash_time_ms(t)).unwrap_or(0);
    ended.cpu_ms = cpu(1) + cpu(2);
    ended.memory_kb = parts
        .get(3)
        .and_then(|m| m.parse::<u64>().ok())
        .map(|b| b / 1024);
    ended
}

pub async fn start(api: &Api<Pod>, uuid: Uuid, spec: &ExecSpec) -> Result<Process, RunnerError> {
    let params = AttachParams::default()
        .container("sandbox")
        .stdin(true)
        .stdout(true)
        .stderr(true);
    let cmd = vec!["bash".to_string(), "-c".into(), wrapper(spec)];
    let mut p = api
        .exec(&super::names::pod(uuid), cmd, &params)
        .await
        .map_err(super::pods::explain)?;
    let stdin = p.stdin().ok_or_else(|| io("no stdin"))?;
    let stdout = p.stdout().ok_or_else(|| io("no stdout"))?;
    let stderr = p.stderr().ok_or_else(|| io("no stderr"))?;
    let status = p.take_status().ok_or_else(|| io("no status"))?.boxed();
    Ok(Process {
        stdin: Box::new(stdin),
        stdout: Box::new(stdout),
        stderr: Box::new(stderr),
        control: Box::new(KubeProcess {
            api: api.clone(),
            session: uuid,
            run: spec.id,
            status: tokio::sync::Mutex::new(Some(status)),
            _process: p,
        }),
    })
}

struct KubeProcess {
    api: Api<Pod>,
    session: Uuid,
    run: Uuid,
    status: tokio::sync::Mutex<Option<BoxFuture<'static, Option<Status>>>>,
    /// Holds the exec's connection open.
    _process: kube::api::AttachedProcess,
}

#[async_trait]
impl ProcessControl for KubeProcess {
    /// Only known at the end (`times`).
    fn cpu_ms(&self) -> Option<u64> {
        None
    }

    fn kill(&self) {
        let (api, session) = (self.api.clone(), self.session);
        let r = scratch(self.run);
        let cmd = format!("kill -KILL -- -$(cat {r}.pid) 2>/dev/null; true");
        tokio::spawn(async move {
            let argv = vec!["bash".to_string(), "-c".into(), cmd];
            if let Err(e) = run_in(&api, session, argv, Vec::new()).await {
                tracing::warn!(%session, "stopping a run in its pod: {e}");
            }
        });
    }

    async fn wait(&self) -> Ended {
        let code = match self.status.lock().await.take() {
            Some(status) => exit_code(status.await),
            None => -1,
        };
        let r = scratch(self.run);
        let cmd = format!("cat {r}.usage 2>/dev/null; rm -f {r}.usage {r}.pid");
        let argv = vec!["bash".to_string(), "-c".into(), cmd];
        match run_in(&self.api, self.session, argv, Vec::new()).await {
            Ok(out) if !out.is_empty() => parse_usage(&String::from_utf8_lossy(&out)),
            // No record: the wrapper itself was killed; its status is what is known.
            _ => parse_usage(&code.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_records_parse() {
        let e = parse_usage("0 0m1.250s 0m0.010s 10485760\n");
        assert_eq!(
            (e.exit_code, e.signal, e.cpu_ms, e.memory_kb),
            (Some(0), None, 1260, Some(10240))
        );
        let e = parse_usage("137 0m0.000s 0m0.000s -");
        assert_eq!((e.exit_code, e.signal, e.memory_kb), (None, Some(9), None));
    }

    /// The wrapper is bash: run here for real, it limits and measures.
    #[test]
    fn the_wrapper_limits_and_records() {
        let spec = ExecSpec {
            id: Uuid::new_v4(),
            script: "echo out; echo err >&2; read x; echo got $x; exit 3".into(),
            cpu_ms: 1000,
            memory_bytes: 256 << 20,
            processes: 64,
        };
        let script = wrapper(&spec).replace("cd /app", "cd /tmp");
        let out = std::process::Command::new("bash")
            .args(["-c", &script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().unwrap().write_all(b"hello\n")?;
                c.wait_with_output()
            })
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "out\ngot hello\n");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "err\n");
        assert_eq!(out.status.code(), Some(3));
        let r = scratch(spec.id);
        let usage = std::fs::read_to_string(format!("{r}.usage")).unwrap();
        assert_eq!(parse_usage(&usage).exit_code, Some(3));
        let _ = std::fs::remove_file(format!("{r}.usage"));
        let _ = std::fs::remove_file(format!("{r}.pid"));
    }
}
