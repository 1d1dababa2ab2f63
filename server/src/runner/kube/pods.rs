//! The life of each session's exec pod and workspace volume: made on demand,
//! watched until running (telling the user how it goes, failing fast with a clear
//! message), deleted when idle (the volume stays), collected when orphaned.

use super::{names, spec, spec::KubeSettings};
use crate::runner::{Progress, RunnerError, SessionRef};
use futures_util::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::api::{Api, DeleteParams, ListParams, PostParams, WatchEvent, WatchParams};
use std::time::Duration;
use uuid::Uuid;

pub struct Pods {
    pods: Api<Pod>,
    pvcs: Api<PersistentVolumeClaim>,
    settings: KubeSettings,
}

/// Waiting reasons that will not resolve by themselves.
const HOPELESS: &[&str] = &[
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "CrashLoopBackOff",
];

/// What the API answered, as one line a user can act on.
pub fn explain(e: kube::Error) -> RunnerError {
    RunnerError::Start(match e {
        kube::Error::Api(r) if r.code == 403 && r.message.contains("exceeded quota") => {
            format!(
                "the cluster's resource quota allows no more sandboxes now: {}",
                r.message
            )
        }
        kube::Error::Api(r) if r.code == 403 => {
            format!(
                "the server may not manage sandboxes (check its RBAC role): {}",
                r.message
            )
        }
        kube::Error::Api(r) => format!("the Kubernetes API refused: {} ({})", r.message, r.code),
        kube::Error::UpgradeConnection(e) => format!("the sandbox's pods/exec was refused: {e}"),
        other => format!("the Kubernetes API server cannot be reached: {other}"),
    })
}

fn already_exists(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(r) if r.code == 409)
}

/// A deletion of something already gone succeeded.
fn absent_is_fine<T>(result: Result<T, kube::Error>) -> Result<(), RunnerError> {
    match result {
        Err(kube::Error::Api(r)) if r.code == 404 => Ok(()),
        Err(e) => Err(explain(e)),
        Ok(_) => Ok(()),
    }
}

/// Where a pod is on its way to running.
#[derive(Debug, PartialEq)]
enum State {
    Running,
    Waiting(String),
    Failed(String),
    /// Finished or being deleted: it must be replaced.
    Gone,
}

fn state(pod: &Pod) -> State {
    if pod.metadata.deletion_timestamp.is_some() {
        return State::Gone;
    }
    let Some(status) = &pod.status else {
        return State::Waiting("waiting to be scheduled".into());
    };
    match status.phase.as_deref() {
        Some("Failed") | Some("Succeeded") => return State::Gone,
        Some("Running") => return State::Running,
        _ => {}
    }
    for c in status.conditions.iter().flatten() {
        if c.type_ == "PodScheduled"
            && c.status == "False"
            && c.reason.as_deref() == Some("Unschedulable")
        {
            let why = c.message.clone().unwrap_or_default();
            return State::Failed(format!("no node can take the sandbox: {why}"));
        }
    }
    for cs in status.container_statuses.iter().flatten() {
        if let Some(w) = cs.state.as_ref().and_then(|s| s.waiting.as_ref()) {
            let reason = w.reason.clone().unwrap_or_default();
            if HOPELESS.contains(&reason.as_str()) {
                let why = w.message.clone().unwrap_or_default();
                return State::Failed(format!("the sandbox image cannot start ({reason}): {why}"));
            }
            return State::Waiting(match reason.as_str() {
                "ContainerCreating" | "PodInitializing" => "pulling the image and starting".into(),
                other => format!("starting ({other})"),
            });
        }
    }
    let scheduled = status
        .conditions
        .iter()
        .flatten()
        .any(|c| c.type_ == "PodScheduled" && c.status == "True");
    State::Waiting(if scheduled {
        "scheduled, starting".into()
    } else {
        "waiting to be scheduled".into()
    })
}

impl Pods {
    pub fn new(client: kube::Client, settings: KubeSettings) -> Self {
        Self {
            pods: Api::namespaced(client.clone(), &settings.namespace),
            pvcs: Api::namespaced(client, &settings.namespace),
            settings,
        }
    }

    /// The session's volume and a running pod, made or replaced as needed.
    pub async fn ensure(&self, s: SessionRef, progress: Progress<'_>) -> Result<(), RunnerError> {
        match self
            .pvcs
            .create(&PostParams::default(), &spec::pvc(&self.settings, s))
            .await
        {
            Ok(_) => progress("workspace volume created"),
            Err(e) if already_exists(&e) => {}
            Err(e) => return Err(explain(e)),
        }
        let name = names::pod(s.uuid);
        let existing = self.pods.get_opt(&name).await.map_err(explain)?;
        match existing.as_ref().map(state) {
            Some(State::Running) => return Ok(()),
            Some(State::Gone) | Some(State::Failed(_)) => {
                progress("the previous sandbox stopped; starting a new one");
                self.delete_pod(s.uuid).await?;
                self.wait_gone(&name).await?;
                self.create_pod(s, progress).await?;
            }
            Some(State::Waiting(_)) => {}
            None => self.create_pod(s, progress).await?,
        }
        tokio::time::timeout(
            self.settings.start_timeout,
            self.wait_running(&name, progress),
        )
        .await
        .map_err(|_| {
            RunnerError::Start(format!(
                "the sandbox did not start within {} s",
                self.settings.start_timeout.as_secs()
            ))
        })?
    }

    async fn create_pod(&self, s: SessionRef, progress: Progress<'_>) -> Result<(), RunnerError> {
        progress("creating the sandbox");
        match self
            .pods
            .create(&PostParams::default(), &spec::pod(&self.settings, s))
            .await
        {
            Ok(_) => Ok(()),
            // Another replica made it meanwhile: the same pod serves both.
            Err(e) if already_exists(&e) => Ok(()),
            Err(e) => Err(explain(e)),
        }
    }

    /// Follows the pod until it runs; says what it waits for whenever that changes.
    async fn wait_running(&self, name: &str, progress: Progress<'_>) -> Result<(), RunnerError> {
        let params = WatchParams::default()
            .fields(&format!("metadata.name={name}"))
            .timeout(self.settings.start_timeout.as_secs().clamp(1, 290) as u32);
        let mut said = String::new();
        let mut events = self
            .pods
            .watch(&params, "0")
            .await
            .map_err(explain)?
            .boxed();
        while let Some(event) = events.try_next().await.map_err(explain)? {
            let pod = match event {
                WatchEvent::Added(p) | WatchEvent::Modified(p) => p,
                WatchEvent::Deleted(_) => {
                    return Err(RunnerError::Start(
                        "the sandbox was deleted while starting".into(),
                    ))
                }
                WatchEvent::Error(e) => {
                    return Err(RunnerError::Start(format!(
                        "watching the sandbox: {}",
                        e.message
                    )))
                }
                WatchEvent::Bookmark(_) => continue,
            };
            match state(&pod) {
                State::Running => {
                    progress("sandbox running");
                    return Ok(());
                }
                State::Waiting(what) if what != said => {
                    progress(&what);
                    said = what;
                }
                State::Waiting(_) => {}
                State::Failed(why) => return Err(RunnerError::Start(why)),
                State::Gone => {
                    return Err(RunnerError::Start(
                        "the sandbox stopped while starting".into(),
                    ))
                }
            }
        }
        Err(RunnerError::Start(
            "the sandbox did not start in time".into(),
        ))
    }

    async fn wait_gone(&self, name: &str) -> Result<(), RunnerError> {
        for _ in 0..60 {
            if self.pods.get_opt(name).await.map_err(explain)?.is_none() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Err(RunnerError::Start(
            "the previous sandbox is taking too long to stop".into(),
        ))
    }

    /// Deletes the session's pod (its volume stays); a missing pod is fine.
    pub async fn delete_pod(&self, uuid: Uuid) -> Result<(), RunnerError> {
        let deleted = self
            .pods
            .delete(&names::pod(uuid), &DeleteParams::default())
            .await;
        absent_is_fine(deleted)
    }

    /// Deletes the session's pod and volume: the session is gone.
    pub async fn delete_all(&self, uuid: Uuid) -> Result<(), RunnerError> {
        self.delete_pod(uuid).await?;
        let deleted = self
            .pvcs
            .delete(&names::pvc(uuid), &DeleteParams::default())
            .await;
        absent_is_fine(deleted)
    }

    /// Sessions that have a pod or a volume on the cluster.
    pub async fn sessions(&self) -> Result<Vec<Uuid>, RunnerError> {
        let params = ListParams::default().labels(&names::selector());
        let pods = self.pods.list(&params).await.map_err(explain)?;
        let pvcs = self.pvcs.list(&params).await.map_err(explain)?;
        let mut all: Vec<Uuid> = pods
            .items
            .iter()
            .map(|p| &p.metadata)
            .chain(pvcs.items.iter().map(|v| &v.metadata))
            .filter_map(|m| names::session_of(m.name.as_deref()?))
            .collect();
        all.sort();
        all.dedup();
        Ok(all)
    }
}
