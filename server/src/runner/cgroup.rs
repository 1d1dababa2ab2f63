//! Per-session control groups where the machine lets the server create them: a
//! memory cap and a process cap for the whole session (every terminal of it),
//! which per-process rlimits cannot give. Both cgroup v1 (a hierarchy per
//! controller) and v2 (one hierarchy) are handled; without either the sandbox
//! still has its rlimits and the server says so at start.

use std::path::{Path, PathBuf};
use uuid::Uuid;

const ROOT: &str = "/sys/fs/cgroup";

/// One place where session groups are created, and what each gets written.
#[derive(Debug, Clone)]
struct Hierarchy {
    parent: PathBuf,
    limits: Vec<(&'static str, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct Cgroups {
    hierarchies: Vec<Hierarchy>,
    /// Names this server's groups apart from another server's on the same machine.
    prefix: String,
}

fn own_path(controller: &str) -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    text.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_, ctrls, path) = (parts.next()?, parts.next()?, parts.next()?);
        ctrls
            .split(',')
            .any(|c| c == controller)
            .then(|| path.to_string())
    })
}

/// Whether a group can be made (and removed) under `parent`.
fn usable(parent: &Path) -> bool {
    let probe = parent.join(format!("webide-probe-{}", std::process::id()));
    let ok = std::fs::create_dir(&probe).is_ok();
    let _ = std::fs::remove_dir(&probe);
    ok
}

impl Cgroups {
    /// `owner` tells this server's groups apart (its data directory).
    pub fn detect(owner: &Path, memory_bytes: u64, processes: u64) -> Self {
        let digest = app::server::digest::sha256(owner.as_os_str().as_encoded_bytes());
        let tag = hex::encode(&digest[..4]);
        let prefix = format!("webide-{tag}-");
        let mut hierarchies = Vec::new();
        let v2 = Path::new(ROOT).join("cgroup.controllers");
        if let (Ok(ctrls), Some(own)) = (std::fs::read_to_string(&v2), own_path("")) {
            // v2: our group's children; controllers must be delegated to them.
            let parent = Path::new(ROOT).join(own.trim_start_matches('/'));
            let want: Vec<_> = ["memory", "pids"]
                .into_iter()
                .filter(|c| ctrls.split_whitespace().any(|x| x == *c))
                .collect();
            let enabled = want.iter().all(|c| {
                std::fs::write(parent.join("cgroup.subtree_control"), format!("+{c}")).is_ok()
            });
            if !want.is_empty() && enabled && usable(&parent) {
                hierarchies.push(Hierarchy {
                    parent,
                    limits: vec![
                        ("memory.max", memory_bytes.to_string()),
                        ("memory.swap.max", "0".into()),
                        ("pids.max", processes.to_string()),
                    ],
                });
            }
        } else {
            for (ctrl, limits) in [
                (
                    "memory",
                    vec![
                        ("memory.limit_in_bytes", memory_bytes.to_string()),
                        ("memory.memsw.limit_in_bytes", memory_bytes.to_string()),
                    ],
                ),
                ("pids", vec![("pids.max", processes.to_string())]),
            ] {
                let Some(own) = own_path(ctrl) else { continue };
                let parent = Path::new(ROOT).join(ctrl).join(own.trim_start_matches('/'));
                if usable(&parent) {
                    hierarchies.push(Hierarchy { parent, limits });
                }
            }
        }
        Self {
            hierarchies,
            prefix,
        }
    }

    pub fn describe(&self) -> String {
        if self.hierarchies.is_empty() {
            return "none (control groups are not writable here)".into();
        }
        self.hierarchies
            .iter()
            .map(|h| h.parent.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn dirs(&self, uuid: Uuid) -> impl Iterator<Item = PathBuf> + '_ {
        self.hierarchies
            .iter()
            .map(move |h| h.parent.join(format!("{}{uuid}", self.prefix)))
    }

    /// Creates the session's groups with their limits; returns the `cgroup.procs`
    /// files a process writes itself into.
    pub fn create(&self, uuid: Uuid) -> std::io::Result<Vec<PathBuf>> {
        let mut procs = Vec::new();
        for (h, dir) in self.hierarchies.iter().zip(self.dirs(uuid)) {
            match std::fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
            for (file, value) in &h.limits {
                // Optional knobs (swap accounting) may be absent.
                let _ = std::fs::write(dir.join(file), value);
            }
            procs.push(dir.join("cgroup.procs"));
        }
        Ok(procs)
    }

    /// Kills whatever is left in the session's groups and removes them.
    pub fn remove(&self, uuid: Uuid) {
        for dir in self.dirs(uuid) {
            for _ in 0..50 {
                let pids = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
                if pids.trim().is_empty() {
                    break;
                }
                for pid in pids.lines().filter_map(|p| p.trim().parse::<i32>().ok()) {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(pid),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            let _ = std::fs::remove_dir(&dir);
        }
    }

    /// Session groups left by an earlier run of the server.
    pub fn leftovers(&self) -> Vec<Uuid> {
        self.hierarchies
            .iter()
            .filter_map(|h| std::fs::read_dir(&h.parent).ok())
            .flatten()
            .filter_map(|e| {
                let name = e.ok()?.file_name().into_string().ok()?;
                name.strip_prefix(&self.prefix)?.parse().ok()
            })
            .collect()
    }
}
