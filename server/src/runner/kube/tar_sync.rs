//! The sync's side of an exec pod: one command per direction per sync, carrying
//! a tar stream (never one exec per file). These build the commands and read or
//! write the streams; sending them through pods/exec is the runner's part.

use crate::runner::{Entry, EntryKind, FsOp};
use std::io::Read;

/// Lists the workspace: `<type> <size> <mtime> <path>` records, NUL-terminated.
/// Links and special files are left out, as the local runner does.
pub fn scan_command() -> Vec<String> {
    [
        "find",
        "/app",
        "-mindepth",
        "1",
        "(",
        "-type",
        "f",
        "-o",
        "-type",
        "d",
        ")",
        "-printf",
        "%y %s %T@ %P\\0",
    ]
    .map(String::from)
    .to_vec()
}

/// The entries of a `scan_command` listing; invalid workspace paths are skipped.
pub fn parse_scan(out: &[u8]) -> Vec<Entry> {
    out.split(|b| *b == 0)
        .filter_map(|rec| {
            let rec = std::str::from_utf8(rec).ok()?;
            let mut parts = rec.splitn(4, ' ');
            let kind = match parts.next()? {
                "f" => EntryKind::File,
                "d" => EntryKind::Folder,
                _ => return None,
            };
            let size: u64 = parts.next()?.parse().ok()?;
            let mtime_ns = parse_mtime(parts.next()?)?;
            let path = parts.next()?;
            app::paths::validate(path).ok().filter(|p| p == path)?;
            Some(Entry {
                path: path.to_string(),
                kind,
                size: if kind == EntryKind::File { size } else { 0 },
                mtime_ns,
            })
        })
        .collect()
}

/// `find`'s `%T@`: seconds with a fraction of up to nine (or more) digits.
fn parse_mtime(s: &str) -> Option<i128> {
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
    Some(secs.parse::<i128>().ok()? * 1_000_000_000 + digits.parse::<i128>().ok()?)
}

/// Reads the paths given NUL-separated on stdin into one tar on stdout; a path
/// gone meanwhile is left out.
pub fn read_command() -> Vec<String> {
    [
        "tar",
        "-C",
        "/app",
        "--null",
        "--no-recursion",
        "--ignore-failed-read",
        "-T",
        "-",
        "-cf",
        "-",
    ]
    .map(String::from)
    .to_vec()
}

/// The stdin of `read_command` for `paths`.
pub fn read_input(paths: &[String]) -> Vec<u8> {
    let mut input = Vec::new();
    for p in paths {
        input.extend_from_slice(p.as_bytes());
        input.push(0);
    }
    input
}

/// The files of a tar stream; `None` for one over `max` bytes (its data skipped).
pub fn parse_tar(stream: &[u8], max: u64) -> std::io::Result<Vec<(String, Option<Vec<u8>>)>> {
    let mut archive = tar::Archive::new(stream);
    let mut files = Vec::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = entry
            .path()?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_string();
        let content = if entry.size() > max {
            None
        } else {
            let mut buf = Vec::with_capacity(entry.size() as usize);
            entry.read_to_end(&mut buf)?;
            Some(buf)
        };
        files.push((path, content));
    }
    Ok(files)
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// One shell script and one tar for a batch of changes: removals, folders and
/// moves in order, then every written file unpacked from the tar on stdin, then
/// the workspace listed again (as `scan_command`) for the written files' metadata.
/// Writes must come after the other operations of the batch, as the sync makes them.
pub fn apply_command(ops: &[FsOp]) -> std::io::Result<(Vec<String>, Vec<u8>)> {
    let mut script = String::from("set -e; cd /app; ");
    let mut archive = tar::Builder::new(Vec::new());
    let mut writes = 0;
    for op in ops {
        match op {
            FsOp::Write { path, content } => {
                let mut header = tar::Header::new_gnu();
                header.set_size(content.len() as u64);
                header.set_mode(0o644);
                header.set_entry_type(tar::EntryType::Regular);
                archive.append_data(&mut header, path, content.as_slice())?;
                writes += 1;
            }
            _ if writes > 0 => {
                return Err(std::io::Error::other("writes must come last in a batch"));
            }
            FsOp::Mkdir { path } => script += &format!("mkdir -p -- {}; ", quote(path)),
            FsOp::Remove { path } => script += &format!("rm -rf -- {}; ", quote(path)),
            FsOp::Rename { from, to } => {
                let parent = to.rsplit_once('/').map_or(".", |(p, _)| p);
                script += &format!(
                    "mkdir -p -- {}; mv -T -- {} {}; ",
                    quote(parent),
                    quote(from),
                    quote(to)
                );
            }
        }
    }
    if writes > 0 {
        // Replaces what is there (never writing through a link), stamped now.
        script += "tar --no-same-owner --unlink-first --touch -xf -; ";
    }
    script += "find /app -mindepth 1 \\( -type f -o -type d \\) -printf '%y %s %T@ %P\\0'";
    let tar = if writes > 0 {
        archive.into_inner()?
    } else {
        Vec::new()
    };
    Ok((vec!["sh".into(), "-c".into(), script], tar))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

    /// Runs a command as the pod would, with /app mapped to `root`.
    fn run(root: &std::path::Path, cmd: &[String], stdin: &[u8]) -> Vec<u8> {
        let cmd: Vec<String> = cmd
            .iter()
            .map(|a| a.replace("/app", &root.to_string_lossy()))
            .collect();
        let mut child = Command::new(&cmd[0])
            .args(&cmd[1..])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{cmd:?}");
        out.stdout
    }

    #[test]
    fn scan_read_and_apply_round_trip_through_real_tools() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let ops = vec![
            FsOp::Mkdir {
                path: "empty".into(),
            },
            FsOp::Write {
                path: "src/it's.py".into(),
                content: b"print(1)\n".to_vec(),
            },
            FsOp::Write {
                path: "big.txt".into(),
                content: vec![b'x'; 5000],
            },
        ];
        let (cmd, tar) = apply_command(&ops).unwrap();
        let listed = parse_scan(&run(root, &cmd, &tar));
        let mut paths: Vec<_> = listed
            .iter()
            .map(|e| (e.path.as_str(), e.kind, e.size))
            .collect();
        paths.sort_by_key(|p| p.0);
        assert_eq!(
            paths,
            [
                ("big.txt", EntryKind::File, 5000),
                ("empty", EntryKind::Folder, 0),
                ("src", EntryKind::Folder, 0),
                ("src/it's.py", EntryKind::File, 9),
            ]
        );
        std::os::unix::fs::symlink("/etc/passwd", root.join("link")).unwrap();
        let scanned = parse_scan(&run(root, &scan_command(), b""));
        assert_eq!(scanned.len(), 4, "links are left out");
        assert!(scanned
            .iter()
            .all(|e| e.mtime_ns > 1_600_000_000 * 1_000_000_000));

        let wanted = ["src/it's.py".to_string(), "big.txt".to_string()];
        let tar = run(root, &read_command(), &read_input(&wanted));
        let files = parse_tar(&tar, 4096).unwrap();
        assert_eq!(
            files[0],
            ("src/it's.py".to_string(), Some(b"print(1)\n".to_vec()))
        );
        assert_eq!(files[1], ("big.txt".to_string(), None));

        let (cmd, tar) = apply_command(&[
            FsOp::Rename {
                from: "src".into(),
                to: "lib/src".into(),
            },
            FsOp::Remove {
                path: "big.txt".into(),
            },
        ])
        .unwrap();
        assert!(tar.is_empty());
        let mut after: Vec<_> = parse_scan(&run(root, &cmd, b""))
            .into_iter()
            .map(|e| e.path)
            .collect();
        after.sort();
        assert_eq!(after, ["empty", "lib", "lib/src", "lib/src/it's.py"]);
    }

    #[test]
    fn writes_come_last() {
        let ops = [
            FsOp::Write {
                path: "a".into(),
                content: vec![],
            },
            FsOp::Remove { path: "b".into() },
        ];
        assert!(apply_command(&ops).is_err());
    }

    #[test]
    fn mtimes_keep_nanoseconds() {
        assert_eq!(parse_mtime("1700000000.5"), Some(1_700_000_000_500_000_000));
        assert_eq!(
            parse_mtime("1700000000.1234567890"),
            Some(1_700_000_000_123_456_789)
        );
        assert_eq!(parse_mtime("12"), Some(12_000_000_000));
    }
}
