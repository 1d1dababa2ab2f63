//! Each session's own disk, where the machine allows one (the server runs as
//! root, loop devices and `mkfs.ext4` are there): an ext4 image of a fixed size in
//! the session's private folder, mounted while its sandbox runs, holding its
//! workspace, `/tmp` and home. Writing past it fails inside that session only
//! ("No space left on device"). Project quotas would do the same without images,
//! but kernels built without them are common (this one is).
//!
//! A mount outlives a server that is killed; the next start finds it mounted and
//! uses it. Mounting is done under a lock on the session's folder, so two servers
//! on one data directory never mount one image twice.

use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Clone, Copy)]
pub struct Disks {
    bytes: u64,
}

/// Where a session's disk is mounted, under its private folder.
pub fn mount_point(private: &Path) -> PathBuf {
    private.join("disk")
}

fn image(private: &Path) -> PathBuf {
    private.join("disk.img")
}

fn run(cmd: &mut Command) -> io::Result<()> {
    let out = cmd.output()?;
    if out.status.success() {
        return Ok(());
    }
    Err(io::Error::other(format!(
        "{:?}: {}",
        cmd.get_program(),
        String::from_utf8_lossy(&out.stderr).trim()
    )))
}

/// Whether `dir` is a mount point: it sits on another device than its parent.
fn mounted(dir: &Path) -> bool {
    let (Ok(me), Some(Ok(up))) = (std::fs::metadata(dir), dir.parent().map(std::fs::metadata))
    else {
        return false;
    };
    me.dev() != up.dev()
}

impl Disks {
    /// Disks of `bytes` each, once the whole way (make, mount, unmount) has worked
    /// in `dir`; otherwise why it cannot work here.
    pub fn probe(dir: &Path, bytes: u64) -> Result<Self, String> {
        let probe = dir.join(format!(".disk-probe-{}", std::process::id()));
        let d = Self { bytes: 16 << 20 };
        let tried = std::fs::create_dir_all(&probe)
            .and_then(|()| d.mount(&probe, (0, 0), None))
            .map(|_| ());
        unmount(&probe);
        let _ = std::fs::remove_dir_all(&probe);
        tried.map_err(|e| e.to_string())?;
        Ok(Self { bytes })
    }

    /// Mounts the session's disk (made on first use, owned by `owner`) and
    /// returns where. The first time, a workspace kept at `old` (outside any
    /// disk) moves into it.
    pub fn mount(
        &self,
        private: &Path,
        owner: (u32, u32),
        old: Option<&Path>,
    ) -> io::Result<PathBuf> {
        let at = mount_point(private);
        let _lock =
            nix::fcntl::Flock::lock(File::open(private)?, nix::fcntl::FlockArg::LockExclusive)
                .map_err(|(_, e)| io::Error::from(e))?;
        if mounted(&at) {
            return Ok(at);
        }
        std::fs::create_dir_all(&at)?;
        let img = image(private);
        let made = !img.exists();
        if made {
            // Sparse: it takes room on the host as the session writes.
            File::create(&img)?.set_len(self.bytes)?;
            run(Command::new("mkfs.ext4")
                .args(["-q", "-F", "-m", "0", "-E"])
                .arg(format!(
                    "root_owner={}:{},lazy_itable_init=1,lazy_journal_init=1",
                    owner.0, owner.1
                ))
                .arg(&img))?;
        }
        run(Command::new("mount")
            .args(["-o", "loop,nosuid,nodev"])
            .arg(&img)
            .arg(&at))?;
        let app = at.join("app");
        if let Some(old) = old.filter(|o| made && o.is_dir()) {
            std::fs::create_dir_all(&app)?;
            run(Command::new("cp").arg("-a").arg(old.join(".")).arg(&app))?;
            std::fs::remove_dir_all(old)?;
        }
        Ok(at)
    }
}

/// Unmounts the session's disk, if it is mounted; a disk still in use (a process
/// outside any control group) goes once that process has.
pub fn unmount(private: &Path) {
    let at = mount_point(private);
    if mounted(&at) && run(Command::new("umount").arg(&at)).is_err() {
        let _ = run(Command::new("umount").arg("-l").arg(&at));
    }
}
