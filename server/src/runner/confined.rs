//! File operations confined to one workspace directory. The sandbox owns those
//! files and may plant symlinks anywhere in them, while the server often runs as
//! root: every path is resolved by the kernel with `RESOLVE_BENEATH |
//! RESOLVE_NO_SYMLINKS` (openat2), so no link, `..` or race leads it outside.

use super::{Entry, EntryKind};
use rustix::fs::{self as rfs, AtFlags, Mode, OFlags, ResolveFlags};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::rc::Rc;

/// Names the server uses for atomic writes; never synced.
const TMP_PREFIX: &str = ".webide-tmp-";

pub struct Confined {
    root: OwnedFd,
    /// Owner given to what the server creates (the sandbox's uid), when it differs from ours.
    owner: Option<(u32, u32)>,
}

fn resolve() -> ResolveFlags {
    ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS
}

fn split(rel: &str) -> (&str, &str) {
    rel.rsplit_once('/').unwrap_or(("", rel))
}

impl Confined {
    pub fn open(dir: &Path, owner: Option<(u32, u32)>) -> io::Result<Self> {
        let root = rfs::open(
            dir,
            OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Self { root, owner })
    }

    fn dir(&self, rel: &str) -> io::Result<OwnedFd> {
        let path = if rel.is_empty() { "." } else { rel };
        Ok(rfs::openat2(
            &self.root,
            path,
            OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
            resolve(),
        )?)
    }

    fn chown(&self, fd: impl AsFd) -> io::Result<()> {
        if let Some((uid, gid)) = self.owner {
            let (u, g) = (rfs::Uid::from_raw(uid), rfs::Gid::from_raw(gid));
            rfs::fchown(fd, Some(u), Some(g))?;
        }
        Ok(())
    }

    /// The file's bytes, or `None` when it holds more than `max` bytes or is no
    /// regular file (a FIFO, socket or device put there since the scan: opened
    /// without blocking and left alone, so the sync never waits on one).
    pub fn read(&self, rel: &str, max: u64) -> io::Result<Option<Vec<u8>>> {
        let fd = match rfs::openat2(
            &self.root,
            rel,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK,
            Mode::empty(),
            resolve(),
        ) {
            Ok(fd) => fd,
            // A socket cannot be opened at all.
            Err(rustix::io::Errno::NXIO) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if rfs::FileType::from_raw_mode(rfs::fstat(&fd)?.st_mode) != rfs::FileType::RegularFile {
            return Ok(None);
        }
        let mut file = std::fs::File::from(fd);
        let mut buf = Vec::new();
        Read::by_ref(&mut file)
            .take(max + 1)
            .read_to_end(&mut buf)?;
        Ok((buf.len() as u64 <= max).then_some(buf))
    }

    /// Creates `rel` and the folders above it that are missing.
    pub fn mkdir_all(&self, rel: &str) -> io::Result<()> {
        self.writer().folder(rel).map(drop)
    }

    /// Writes many files and folders, opening each folder once.
    pub fn writer(&self) -> Writer<'_> {
        Writer {
            c: self,
            dirs: HashMap::new(),
        }
    }

    /// Removes a file, link or folder with everything in it; a missing one is fine.
    pub fn remove(&self, rel: &str) -> io::Result<()> {
        let (parent, name) = split(rel);
        let dir = match self.dir(parent) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        remove_at(&dir, name)
    }

    pub fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        let (fp, fname) = split(from);
        let (tp, tname) = split(to);
        self.mkdir_all(tp)?;
        let (fdir, tdir) = (self.dir(fp)?, self.dir(tp)?);
        Ok(rfs::renameat(&fdir, fname, &tdir, tname)?)
    }

    /// Every file and folder below the root, without following links. Links,
    /// devices, sockets and names that are not valid workspace paths are left out.
    pub fn scan(&self) -> io::Result<Vec<Entry>> {
        let mut out = Vec::new();
        walk(self.dir("")?, String::new(), &mut out)?;
        Ok(out)
    }
}

/// Folders opened (and created) so far, by path; valid while nothing is removed or renamed.
pub struct Writer<'a> {
    c: &'a Confined,
    dirs: HashMap<String, Rc<OwnedFd>>,
}

impl Writer<'_> {
    /// The folder `rel`, created with the missing folders above it.
    pub fn folder(&mut self, rel: &str) -> io::Result<Rc<OwnedFd>> {
        if let Some(fd) = self.dirs.get(rel) {
            return Ok(fd.clone());
        }
        let fd = if rel.is_empty() {
            self.c.dir("")?
        } else {
            let (parent, name) = split(rel);
            let parent = self.folder(parent)?;
            let created = match rfs::mkdirat(&*parent, name, Mode::from_raw_mode(0o755)) {
                Ok(()) => true,
                Err(rustix::io::Errno::EXIST) => false,
                Err(e) => return Err(e.into()),
            };
            let fd = rfs::openat(
                &*parent,
                name,
                OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::RDONLY | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            if created {
                self.c.chown(&fd)?;
            }
            fd
        };
        let fd = Rc::new(fd);
        self.dirs.insert(rel.to_string(), fd.clone());
        Ok(fd)
    }

    /// Creates or replaces the file and returns its new metadata. A new file is
    /// written in place; an existing one is replaced atomically (written aside,
    /// then renamed over it), so no program ever reads half of it.
    pub fn write(&mut self, rel: &str, bytes: &[u8]) -> io::Result<Entry> {
        let (parent, name) = split(rel);
        let dir = self.folder(parent)?;
        let create =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let mode = Mode::from_raw_mode(0o644);
        match rfs::openat(&*dir, name, create, mode) {
            Ok(fd) => {
                self.c.chown(&fd)?;
                let mut file = std::fs::File::from(fd);
                // Cut short (a full disk), it goes: a part of a file would be
                // taken for a change and synced back.
                if let Err(e) = file.write_all(bytes) {
                    let _ = rfs::unlinkat(&*dir, name, AtFlags::empty());
                    return Err(e);
                }
                let st = rfs::fstat(&file)?;
                return Ok(Entry::from_stat(rel.to_string(), EntryKind::File, &st));
            }
            Err(rustix::io::Errno::EXIST) => {}
            Err(e) => return Err(e.into()),
        }
        let tmp = format!("{TMP_PREFIX}{}", uuid::Uuid::new_v4().simple());
        let fd = rfs::openat(&*dir, &tmp, create, mode)?;
        self.c.chown(&fd)?;
        let mut file = std::fs::File::from(fd);
        let written = file.write_all(bytes).and_then(|()| {
            // A folder in the way is replaced by the file, as the database says.
            if let Ok(st) = rfs::statat(&*dir, name, AtFlags::SYMLINK_NOFOLLOW) {
                if EntryKind::of(st.st_mode) == Some(EntryKind::Folder) {
                    remove_at(&dir, name)?;
                    self.dirs
                        .retain(|p, _| p != rel && !p.starts_with(&format!("{rel}/")));
                }
            }
            Ok(rfs::renameat(&*dir, &tmp, &*dir, name)?)
        });
        if let Err(e) = written {
            let _ = rfs::unlinkat(&*dir, &tmp, AtFlags::empty());
            return Err(e);
        }
        let st = rfs::fstat(&file)?;
        Ok(Entry::from_stat(rel.to_string(), EntryKind::File, &st))
    }
}

fn remove_at(dir: &OwnedFd, name: &str) -> io::Result<()> {
    let st = match rfs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => st,
        Err(rustix::io::Errno::NOENT) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if EntryKind::of(st.st_mode) == Some(EntryKind::Folder) {
        let sub = rfs::openat(
            dir,
            name,
            OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let names: Vec<String> = rfs::Dir::read_from(&sub)?
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str().ok().map(str::to_string))
            .filter(|n| n != "." && n != "..")
            .collect();
        for child in names {
            remove_at(&sub, &child)?;
        }
        rfs::unlinkat(dir, name, AtFlags::REMOVEDIR)?;
    } else {
        rfs::unlinkat(dir, name, AtFlags::empty())?;
    }
    Ok(())
}

fn walk(dir: OwnedFd, prefix: String, out: &mut Vec<Entry>) -> io::Result<()> {
    for entry in rfs::Dir::read_from(&dir)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().to_str() else {
            continue;
        };
        if name == "." || name == ".." || name.starts_with(TMP_PREFIX) {
            continue;
        }
        let path = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        };
        if app::paths::validate(&path).is_err() {
            continue;
        }
        // Gone between listing and stat: the next scan sees what is there.
        let Ok(st) = rfs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW) else {
            continue;
        };
        match EntryKind::of(st.st_mode) {
            Some(EntryKind::File) => out.push(Entry::from_stat(path, EntryKind::File, &st)),
            Some(EntryKind::Folder) => {
                out.push(Entry::from_stat(path.clone(), EntryKind::Folder, &st));
                let Ok(sub) = rfs::openat(
                    &dir,
                    name,
                    OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::RDONLY | OFlags::CLOEXEC,
                    Mode::empty(),
                ) else {
                    continue;
                };
                walk(sub, path, out)?;
            }
            None => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_never_lead_outside() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        let ws = tempfile::tempdir().unwrap();
        let root = ws.path();
        std::os::unix::fs::symlink(outside.path().join("secret"), root.join("link")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("dirlink")).unwrap();
        let c = Confined::open(root, None).unwrap();

        assert!(c.read("link", 100).is_err());
        assert!(c.read("dirlink/secret", 100).is_err());
        assert!(c.writer().write("dirlink/new", b"x").is_err());
        assert!(!outside.path().join("new").exists());
        // Writing over a link replaces the link, never its target.
        c.writer().write("link", b"mine").unwrap();
        assert_eq!(
            std::fs::read_to_string(outside.path().join("secret")).unwrap(),
            "s"
        );
        c.remove("dirlink").unwrap();
        assert!(outside.path().join("secret").exists());
        let paths: Vec<_> = c.scan().unwrap().into_iter().map(|e| e.path).collect();
        assert_eq!(paths, vec!["link"]);
    }

    #[test]
    fn fifos_and_sockets_are_neither_listed_nor_waited_on() {
        let ws = tempfile::tempdir().unwrap();
        let root = ws.path();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            root.join("pipe"),
            rustix::fs::FileType::Fifo,
            Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap();
        let _sock = std::os::unix::net::UnixListener::bind(root.join("sock")).unwrap();
        std::fs::write(root.join("real.txt"), "x").unwrap();
        let c = Confined::open(root, None).unwrap();
        let paths: Vec<_> = c.scan().unwrap().into_iter().map(|e| e.path).collect();
        assert_eq!(paths, vec!["real.txt"]);
        // Read as if it had been a file at the scan: at once, and nothing.
        let started = std::time::Instant::now();
        assert_eq!(c.read("pipe", 100).unwrap(), None);
        assert_eq!(c.read("sock", 100).unwrap(), None);
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert_eq!(c.read("real.txt", 100).unwrap(), Some(b"x".to_vec()));
    }

    #[test]
    fn write_scan_rename_remove() {
        let ws = tempfile::tempdir().unwrap();
        let c = Confined::open(ws.path(), None).unwrap();
        c.writer().write("a/b/c.txt", b"hello").unwrap();
        assert_eq!(c.read("a/b/c.txt", 5).unwrap().unwrap(), b"hello");
        assert_eq!(c.read("a/b/c.txt", 4).unwrap(), None);
        c.rename("a/b", "d").unwrap();
        let mut paths: Vec<_> = c.scan().unwrap().into_iter().map(|e| e.path).collect();
        paths.sort();
        assert_eq!(paths, vec!["a", "d", "d/c.txt"]);
        c.remove("d").unwrap();
        c.remove("missing").unwrap();
        assert_eq!(c.scan().unwrap().len(), 1);
    }
}
