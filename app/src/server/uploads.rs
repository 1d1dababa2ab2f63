//! Files brought in from the user's machine: uploads (files and folders, in JSON
//! with base64) and zip archives unpacked into a folder. All or nothing: every
//! limit is checked before anything is written, and everything is written in one
//! transaction, so a refused upload leaves the workspace as it was.

use super::access::Grant;
use super::content::Body;
use super::digest::sha256_hex;
use super::files::{self, Writer};
use super::state::{AppState, FileChange};
use super::upsert::{put_many, Put};
use crate::paths::{self, named};
use crate::wire::files::{TreeItem, UploadFile, ALREADY_THERE, MAX_ZIP_ENTRIES, MAX_ZIP_RATIO};
use crate::wire::history::Source;
use crate::AppError;
use std::collections::{BTreeSet, HashMap};
use std::io::Read;

/// Uploads `files` (paths relative to `folder`, the root when `None`). Existing
/// files are replaced only with `replace`; otherwise they are named in a 409.
pub async fn upload(
    state: &AppState,
    g: &Grant,
    folder: Option<String>,
    files: Vec<UploadFile>,
    replace: bool,
) -> Result<Vec<TreeItem>, AppError> {
    if files.is_empty() {
        return Err(AppError::invalid("the upload has no files"));
    }
    let folder = folder_of(folder)?;
    let mut items = Vec::with_capacity(files.len());
    for f in files {
        let path = within(&folder, &f.path)?;
        let body = Body::decode(&path, f.content, f.encoding)?;
        items.push(Put {
            path,
            body: Some(body),
        });
    }
    check_carried(state, &items)?;
    put(state, g, items, replace).await
}

/// Unpacks the zip archive `zip` into `folder` (the root when `None`).
pub async fn import_zip(
    state: &AppState,
    g: &Grant,
    folder: Option<String>,
    zip: Vec<u8>,
    replace: bool,
) -> Result<Vec<TreeItem>, AppError> {
    let folder = folder_of(folder)?;
    let max_upload = state.settings.max_upload_bytes;
    if zip.len() > max_upload {
        return Err(too_much_carried(max_upload, zip.len()));
    }
    let max_file = state.settings.max_file_bytes;
    // At most what the workspace may hold in all; the room left is checked after.
    let max_total = state.settings.max_workspace_bytes;
    let entries = tokio::task::spawn_blocking(move || unzip(&zip, max_file, max_total))
        .await
        .map_err(AppError::internal)??;
    let mut items = Vec::with_capacity(entries.len());
    for (name, body) in entries {
        items.push(Put {
            path: within(&folder, &name)?,
            body,
        });
    }
    if items.is_empty() {
        return Err(AppError::invalid("the archive is empty"));
    }
    put(state, g, items, replace).await
}

fn folder_of(folder: Option<String>) -> Result<Option<String>, AppError> {
    folder
        .filter(|f| !f.trim_matches('/').is_empty())
        .map(|f| paths::validate(&f))
        .transpose()
}

/// `rel` inside `folder`, refused when it climbs out or is not a valid path.
fn within(folder: &Option<String>, rel: &str) -> Result<String, AppError> {
    let rel = paths::validate(rel)?;
    let path = match folder {
        Some(f) => format!("{f}/{rel}"),
        None => rel,
    };
    paths::validate(&path)
}

fn too_much_carried(max: usize, size: usize) -> AppError {
    AppError::too_large(format!(
        "one upload may carry at most {max} bytes; this one has {size}: upload fewer files at once"
    ))
}

fn check_carried(state: &AppState, items: &[Put]) -> Result<(), AppError> {
    let carried: usize = items
        .iter()
        .filter_map(|i| i.body.as_ref())
        .map(Body::len)
        .sum();
    let max = state.settings.max_upload_bytes;
    if carried > max {
        return Err(too_much_carried(max, carried));
    }
    Ok(())
}

/// Checks the limits and what is in the way, then writes `items` in one transaction.
async fn put(
    state: &AppState,
    g: &Grant,
    items: Vec<Put>,
    replace: bool,
) -> Result<Vec<TreeItem>, AppError> {
    let mut seen = BTreeSet::new();
    let twice: Vec<String> = items
        .iter()
        .filter(|i| i.body.is_some() && !seen.insert(i.path.as_str()))
        .map(|i| i.path.clone())
        .collect();
    if !twice.is_empty() {
        return Err(AppError::invalid(format!(
            "named more than once: {}",
            named(&twice)
        )));
    }
    let max_file = state.settings.max_file_bytes;
    let large: Vec<String> = items
        .iter()
        .filter_map(|i| {
            let n = i.body.as_ref()?.len();
            (n > max_file).then(|| format!("{} ({n} bytes)", i.path))
        })
        .collect();
    if !large.is_empty() {
        return Err(AppError::too_large(format!(
            "a file may hold at most {max_file} bytes; too large: {}",
            named(&large)
        )));
    }

    let sid = g.session_id;
    // What stands at these paths and at the folders above them now.
    let mut wanted: BTreeSet<&str> = BTreeSet::new();
    for i in &items {
        wanted.insert(&i.path);
        let mut p = i.path.as_str();
        while let Some(parent) = paths::parent(p) {
            wanted.insert(parent);
            p = parent;
        }
    }
    let wanted: Vec<&str> = wanted.into_iter().collect();
    let here: HashMap<String, (bool, i64)> = sqlx::query_as::<_, (String, bool, i64)>(
        "SELECT full_path, kind = 'folder', size_bytes FROM workspace_items
         WHERE session_id = $1 AND full_path = ANY($2)",
    )
    .bind(sid)
    .bind(&wanted)
    .fetch_all(&state.pool)
    .await?
    .into_iter()
    .map(|(p, folder, size)| (p, (folder, size)))
    .collect();
    let is_folder = |p: &str| here.get(p).map(|(f, _)| *f);
    let mut existing = Vec::new();
    for i in &items {
        let mut p = i.path.as_str();
        while let Some(parent) = paths::parent(p) {
            if is_folder(parent) == Some(false) {
                return Err(AppError::conflict(format!(
                    "{parent} is a file, so {} cannot go in it",
                    i.path
                )));
            }
            p = parent;
        }
        match (&i.body, is_folder(&i.path)) {
            (Some(_), Some(true)) => {
                return Err(AppError::conflict(format!("{} is a folder", i.path)));
            }
            (None, Some(false)) => {
                return Err(AppError::conflict(format!("{} is a file", i.path)));
            }
            (Some(_), Some(false)) => existing.push(i.path.clone()),
            _ => {}
        }
    }
    if !existing.is_empty() && !replace {
        return Err(AppError::conflict(format!(
            "{ALREADY_THERE}: {} (upload again choosing to replace them)",
            named(&existing)
        )));
    }

    let incoming: usize = items
        .iter()
        .filter_map(|i| i.body.as_ref())
        .map(Body::len)
        .sum();
    let replaced: i64 = existing.iter().map(|p| here[p].1).sum();
    let held: i64 = sqlx::query_scalar(
        "SELECT COALESCE(sum(size_bytes), 0)::int8 FROM workspace_items WHERE session_id = $1",
    )
    .bind(sid)
    .fetch_one(&state.pool)
    .await?;
    let after = (held - replaced) as usize + incoming;
    let max = state.settings.max_workspace_bytes;
    if after > max {
        return Err(AppError::too_large(format!(
            "the workspace may hold at most {max} bytes: it holds {held}, and these {} files would \
             take it to {after}",
            items.iter().filter(|i| i.body.is_some()).count()
        )));
    }

    let mut tx = state.pool.begin().await?;
    put_many(
        &mut tx,
        sid,
        g.session,
        &items,
        Writer::of(g, Source::Upload),
    )
    .await?;
    tx.commit().await?;

    let new_folders: Vec<String> = items
        .iter()
        .flat_map(|i| {
            let mut out = Vec::new();
            if i.body.is_none() {
                out.push(i.path.clone());
            }
            let mut p = i.path.as_str();
            while let Some(parent) = paths::parent(p) {
                out.push(parent.to_string());
                p = parent;
            }
            out
        })
        .filter(|p| !here.contains_key(p))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let put_paths: BTreeSet<String> = items.iter().map(|i| i.path.clone()).collect();
    for path in new_folders {
        state
            .hooks
            .changed(g.session, FileChange::Folder { path })
            .await;
    }
    for i in items {
        if let Some(body) = i.body {
            let change = FileChange::Written {
                hash: sha256_hex(body.as_bytes()),
                path: i.path,
                bytes: body.into_bytes(),
            };
            state.hooks.changed(g.session, change).await;
        }
    }
    let tree = files::tree(&state.pool, sid).await?;
    Ok(tree
        .into_iter()
        .filter(|t| put_paths.contains(&t.path))
        .collect())
}

/// The files and folders of a zip archive, each checked: names that climb out
/// (`..`, absolute paths) and links are refused, and so are archives with too
/// many entries or that expand past `max_total` or `MAX_ZIP_RATIO` times their
/// size. Sizes are counted as the bytes come out, not as the archive declares them.
fn unzip(
    zip: &[u8],
    max_file: usize,
    max_total: usize,
) -> Result<Vec<(String, Option<Body>)>, AppError> {
    let bad =
        |e: zip::result::ZipError| AppError::invalid(format!("not a readable zip archive: {e}"));
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).map_err(bad)?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(AppError::invalid(format!(
            "the archive has {} entries; at most {MAX_ZIP_ENTRIES} are unpacked",
            archive.len()
        )));
    }
    // Small archives may expand more: a few kilobytes of repeated text are no bomb.
    let max_expanded = (zip.len() as u64 * MAX_ZIP_RATIO).max(1 << 20);
    let bomb = || {
        AppError::invalid(format!(
            "the archive expands to more than {MAX_ZIP_RATIO} times its size; \
             it is refused as a zip bomb"
        ))
    };
    let too_big = || {
        AppError::too_large(format!(
            "the archive expands past {max_total} bytes, more than a workspace may hold"
        ))
    };
    // What the archive declares, first; then what actually comes out, below.
    if let Some(declared) = archive.decompressed_size() {
        if declared > u128::from(max_expanded) {
            return Err(bomb());
        }
        if declared > max_total as u128 {
            return Err(too_big());
        }
    }
    let mut expanded = 0u64;
    let mut out = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(bad)?;
        let raw = entry.name().map_err(bad)?.replace('\\', "/");
        if raw.starts_with("__MACOSX/") {
            continue;
        }
        if climbs_out(&raw) {
            return Err(AppError::invalid(format!(
                "the archive's entry {raw:?} points outside the folder it is unpacked into"
            )));
        }
        if entry.is_symlink() {
            return Err(AppError::invalid(format!(
                "the archive's entry {raw:?} is a link; links are not unpacked"
            )));
        }
        let name = paths::validate(&raw).map_err(|e| {
            AppError::invalid(format!("the archive's entry {raw:?}: {}", e.message))
        })?;
        if entry.is_dir() {
            out.push((name, None));
            continue;
        }
        let mut bytes = Vec::with_capacity((entry.size() as usize).min(max_file + 1));
        (&mut entry)
            .take(max_file as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| AppError::invalid(format!("the archive's entry {raw:?}: {e}")))?;
        if bytes.len() > max_file {
            return Err(AppError::too_large(format!(
                "a file may hold at most {max_file} bytes; {name} in the archive is larger"
            )));
        }
        expanded += bytes.len() as u64;
        if expanded > max_expanded {
            return Err(bomb());
        }
        if expanded > max_total as u64 {
            return Err(too_big());
        }
        let body = Body::from_bytes(&name, bytes);
        out.push((name, Some(body)));
    }
    Ok(out)
}

/// An absolute name (`/etc/passwd`, `C:/x`) or one with a `..` segment.
fn climbs_out(name: &str) -> bool {
    name.starts_with('/')
        || name.as_bytes().get(1) == Some(&b':')
        || name.split('/').any(|s| s == "..")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    fn archive(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = SimpleFileOptions::default();
        for (name, bytes) in entries {
            if name.ends_with('/') {
                w.add_directory(*name, opts).unwrap();
            } else {
                w.start_file(*name, opts).unwrap();
                w.write_all(bytes).unwrap();
            }
        }
        w.finish().unwrap().into_inner()
    }

    const MIB: usize = 1 << 20;

    #[test]
    fn an_archive_unpacks_with_its_folders_and_binary_files() {
        let zip = archive(&[
            ("src/", b""),
            ("src/a.py", b"print(1)\n"),
            ("img/x.png", b"\x89PNG\r\n\x1a\n\0"),
        ]);
        let got = unzip(&zip, MIB, 10 * MIB).unwrap();
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["src", "src/a.py", "img/x.png"]);
        assert_eq!(got[1].1, Some(Body::Text("print(1)\n".into())));
        assert_eq!(got[2].1.as_ref().unwrap().media_type(), Some("image/png"));
    }

    #[test]
    fn entries_that_climb_out_or_link_are_refused() {
        for name in [
            "../evil.sh",
            "a/../../evil.sh",
            "/etc/cron.d/x",
            "C:/x",
            "..\\evil.sh",
        ] {
            let e = unzip(&archive(&[(name, b"x")]), MIB, 10 * MIB).unwrap_err();
            assert!(
                e.message.contains("outside the folder"),
                "{name}: {}",
                e.message
            );
        }
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        w.add_symlink("link", "/etc/passwd", SimpleFileOptions::default())
            .unwrap();
        let zip = w.finish().unwrap().into_inner();
        let e = unzip(&zip, MIB, 10 * MIB).unwrap_err();
        assert!(e.message.contains("is a link"), "{}", e.message);
    }

    #[test]
    fn zip_bombs_are_refused() {
        let zeros = vec![0u8; 600 * 1024];
        let many: Vec<(String, &[u8])> = (0..4)
            .map(|i| (format!("z{i}.bin"), zeros.as_slice()))
            .collect();
        let many: Vec<(&str, &[u8])> = many.iter().map(|(n, b)| (n.as_str(), *b)).collect();
        let zip = archive(&many);
        assert!(
            zip.len() * 100 < 2 * MIB,
            "the archive is small: {}",
            zip.len()
        );
        let e = unzip(&zip, MIB, 100 * MIB).unwrap_err();
        assert!(e.message.contains("zip bomb"), "{}", e.message);

        let names: Vec<String> = (0..=MAX_ZIP_ENTRIES).map(|i| format!("f{i}")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        let e = unzip(&archive(&entries), MIB, 100 * MIB).unwrap_err();
        assert!(e.message.contains("entries"), "{}", e.message);
    }

    #[test]
    fn files_over_the_limits_are_named() {
        let zip = archive(&[("big.txt", "a".repeat(2000).as_bytes())]);
        let e = unzip(&zip, 1000, 10 * MIB).unwrap_err();
        assert!(e.message.contains("big.txt"), "{}", e.message);
        let e = unzip(&zip, MIB, 1500).unwrap_err();
        assert!(
            e.message.contains("more than a workspace may hold"),
            "{}",
            e.message
        );
    }
}
