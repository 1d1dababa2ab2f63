//! The Kubernetes side of the runners: one pod (`exec-{uuid}`) and one volume
//! (`workspace-{uuid}`, mounted at `/app`) per session, through the `kube` crate.
//! This part manages their life; the shells (pods/exec) and the tar-stream sync
//! build on it.

pub mod call;
pub mod exec;
pub mod names;
pub mod pods;
pub mod runner;
pub mod spec;
pub mod tar_sync;
