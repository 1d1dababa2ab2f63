//! Per-session control groups where the machine lets the server create them: a
//! memory cap and a process cap for the whole session (every terminal of it),
//! which per-process rlimits cannot give; and a group per run, with its own
//! limits and its measures (CPU time, peak memory, whether it hit its memory
//! limit), which also ends its whole process tree. Both cgroup v1 (a hierarchy per
//! controller) and v2 (one hierarchy) are handled; without either the sandbox
//! still has its rlimits and the server says so at start.

use std::path::{Path, PathBuf};
use uuid::Uuid;

const ROOT: &str = "/sys/fs/cgroup";

/// What a hierarchy controls: v2's one for all, or one v1 controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    V2,
    Memory,
    Pids,
    Cpu,
}

impl Kind {
    /// What a group with these limits gets written.
    fn limits(self, memory_bytes: u64, processes: u64) -> Vec<(&'static str, String)> {
        match self {
            Self::V2 => vec![
                ("memory.max", memory_bytes.to_string()),
                ("memory.swap.max", "0".into()),
                ("pids.max", processes.to_string()),
            ],
            Self::Memory => vec![
                ("memory.limit_in_bytes", memory_bytes.to_string()),
                ("memory.memsw.limit_in_bytes", memory_bytes.to_string()),
            ],
            Self::Pids => vec![("pids.max", processes.to_string())],
            Self::Cpu => Vec::new(),
        }
    }
}

/// One place where groups are created.
#[derive(Debug, Clone)]
struct Hierarchy {
    parent: PathBuf,
    kind: Kind,
}

#[derive(Debug, Clone, Default)]
pub struct Cgroups {
    hierarchies: Vec<Hierarchy>,
    /// Names this server's groups apart from another server's on the same machine.
    prefix: String,
    /// A session's limits (every terminal of it together).
    memory_bytes: u64,
    processes: u64,
}

/// The groups of one run: its limits, what it used, and the way to end it all.
#[derive(Debug)]
pub struct RunGroup {
    dirs: Vec<(Kind, PathBuf)>,
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
                    kind: Kind::V2,
                });
            }
        } else {
            for (ctrl, kind) in [
                ("memory", Kind::Memory),
                ("pids", Kind::Pids),
                ("cpuacct", Kind::Cpu),
            ] {
                let Some(own) = own_path(ctrl) else { continue };
                let parent = Path::new(ROOT).join(ctrl).join(own.trim_start_matches('/'));
                if usable(&parent) {
                    hierarchies.push(Hierarchy { parent, kind });
                }
            }
        }
        Self {
            hierarchies,
            prefix,
            memory_bytes,
            processes,
        }
    }

    fn controls(&self, kinds: &[Kind]) -> bool {
        self.hierarchies.iter().any(|h| kinds.contains(&h.kind))
    }

    /// Whether a session's memory (all its processes together) is capped.
    pub fn caps_memory(&self) -> bool {
        self.controls(&[Kind::V2, Kind::Memory])
    }

    /// Whether a session's process count is capped.
    pub fn caps_processes(&self) -> bool {
        self.controls(&[Kind::V2, Kind::Pids])
    }

    /// Whether runs' CPU time is read from their group.
    pub fn measures_cpu(&self) -> bool {
        self.controls(&[Kind::V2, Kind::Cpu])
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

    /// Creates the groups named `name` in every hierarchy with these limits.
    fn make(&self, name: &str, memory_bytes: u64, processes: u64) -> std::io::Result<RunGroup> {
        let mut dirs = Vec::new();
        for h in &self.hierarchies {
            let dir = h.parent.join(name);
            match std::fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
            for (file, value) in h.kind.limits(memory_bytes, processes) {
                // Optional knobs (swap accounting) may be absent.
                let _ = std::fs::write(dir.join(file), value);
            }
            dirs.push((h.kind, dir));
        }
        Ok(RunGroup { dirs })
    }

    fn session_group(&self, uuid: Uuid) -> RunGroup {
        RunGroup {
            dirs: self
                .hierarchies
                .iter()
                .map(|h| (h.kind, h.parent.join(format!("{}{uuid}", self.prefix))))
                .collect(),
        }
    }

    /// Creates the session's groups with their limits; returns the `cgroup.procs`
    /// files a process writes itself into.
    pub fn create(&self, uuid: Uuid) -> std::io::Result<Vec<PathBuf>> {
        let name = format!("{}{uuid}", self.prefix);
        Ok(self.make(&name, self.memory_bytes, self.processes)?.procs())
    }

    /// A run's own groups, beside the sessions' (its limits are its own).
    pub fn create_run(
        &self,
        run: Uuid,
        memory_bytes: u64,
        processes: u64,
    ) -> std::io::Result<RunGroup> {
        self.make(
            &format!("{}run-{run}", self.prefix),
            memory_bytes,
            processes,
        )
    }

    /// Kills whatever is left in the session's groups and removes them.
    pub fn remove(&self, uuid: Uuid) {
        self.session_group(uuid).remove();
    }

    fn names(&self) -> Vec<String> {
        self.hierarchies
            .iter()
            .filter_map(|h| std::fs::read_dir(&h.parent).ok())
            .flatten()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect()
    }

    /// The sessions that have groups under this data directory.
    pub fn leftovers(&self) -> Vec<Uuid> {
        self.names()
            .iter()
            .filter_map(|name| name.strip_prefix(&self.prefix)?.parse().ok())
            .collect()
    }

    /// Removes this data directory's groups (sessions' and runs') that have no
    /// process left; the kernel refuses to remove the others.
    pub fn remove_empty(&self) {
        for h in &self.hierarchies {
            let Ok(dir) = std::fs::read_dir(&h.parent) else {
                continue;
            };
            for e in dir.flatten() {
                if e.file_name().to_string_lossy().starts_with(&self.prefix) {
                    let _ = std::fs::remove_dir(e.path());
                }
            }
        }
    }
}

fn read(dir: &Path, file: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(file)).ok()
}

/// The value of `key` in a "key value" per line file (memory.events, cpu.stat).
fn field(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok())?
    })
}

impl RunGroup {
    /// The `cgroup.procs` files a process writes itself into.
    pub fn procs(&self) -> Vec<PathBuf> {
        self.dirs
            .iter()
            .map(|(_, d)| d.join("cgroup.procs"))
            .collect()
    }

    fn dir(&self, want: &[Kind]) -> Option<(Kind, &Path)> {
        self.dirs
            .iter()
            .find(|(k, _)| want.contains(k))
            .map(|(k, d)| (*k, d.as_path()))
    }

    /// Sets the group's limits (a run's, given to a group made beforehand) and
    /// starts its peak memory from now where the kernel allows (v1).
    pub fn limit(&self, memory_bytes: u64, processes: u64) {
        for (kind, dir) in &self.dirs {
            // v1 keeps memory+swap at least memory: raising needs the second
            // file first, lowering the first; two passes do either.
            for _ in 0..2 {
                for (file, value) in kind.limits(memory_bytes, processes) {
                    let _ = std::fs::write(dir.join(file), value);
                }
            }
            if *kind == Kind::Memory {
                let _ = std::fs::write(dir.join("memory.max_usage_in_bytes"), "0");
            }
        }
    }

    /// CPU time used so far by everything in the group.
    pub fn cpu_ms(&self) -> Option<u64> {
        match self.dir(&[Kind::V2, Kind::Cpu])? {
            (Kind::V2, d) => Some(field(&read(d, "cpu.stat")?, "usage_usec")? / 1000),
            (_, d) => Some(read(d, "cpuacct.usage")?.trim().parse::<u64>().ok()? / 1_000_000),
        }
    }

    /// The most memory the group has used at once.
    pub fn peak_kb(&self) -> Option<u64> {
        let (kind, d) = self.dir(&[Kind::V2, Kind::Memory])?;
        let file = if kind == Kind::V2 {
            "memory.peak"
        } else {
            "memory.max_usage_in_bytes"
        };
        Some(read(d, file)?.trim().parse::<u64>().ok()? / 1024)
    }

    /// Whether the group reached its memory limit (an allocation refused or a
    /// process killed for it).
    pub fn memory_hit(&self) -> bool {
        let Some((kind, d)) = self.dir(&[Kind::V2, Kind::Memory]) else {
            return false;
        };
        if kind == Kind::V2 {
            let events = read(d, "memory.events").unwrap_or_default();
            return field(&events, "max").unwrap_or(0) > 0
                || field(&events, "oom_kill").unwrap_or(0) > 0;
        }
        let failed = read(d, "memory.failcnt").and_then(|t| t.trim().parse::<u64>().ok());
        let killed = read(d, "memory.oom_control").and_then(|t| field(&t, "oom_kill"));
        failed.unwrap_or(0) > 0 || killed.unwrap_or(0) > 0
    }

    /// Kills everything in the group.
    pub fn kill(&self) {
        for (_, dir) in &self.dirs {
            let pids = read(dir, "cgroup.procs").unwrap_or_default();
            for pid in pids.lines().filter_map(|p| p.trim().parse::<i32>().ok()) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }

    /// Kills whatever is left in the group and removes it.
    pub fn remove(self) {
        // A group goes once its last process is gone; dying ones take a moment.
        let mut left: Vec<&PathBuf> = self.dirs.iter().map(|(_, d)| d).collect();
        for _ in 0..1000 {
            left.retain(|d| {
                std::fs::remove_dir(d).is_err_and(|e| e.kind() != std::io::ErrorKind::NotFound)
            });
            if left.is_empty() {
                return;
            }
            self.kill();
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}
