//! `/api/files/*`: the files and folders of a session's workspace, by path.
//! Every save names the hash it was based on; a save from a stale base is refused
//! with 409 and the current version.

use crate::wire::files::{Encoding, FileContent, ItemKind, Saved, TreeItem, UploadFile};
use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use uuid::Uuid;

#[cfg(feature = "ssr")]
use crate::{
    server::{access, files as data, uploads},
    wire::{access::Capability, files::MAX_READ_MANY},
};

/// Every file and folder of the session, sorted by path.
#[server(prefix = "/api", endpoint = "files/tree", input = Json)]
pub async fn tree(session: Uuid) -> Result<Vec<TreeItem>, AppError> {
    let (state, g) = access::session(session, Capability::Read).await?;
    data::tree(&state.pool, g.session_id).await
}

#[server(prefix = "/api", endpoint = "files/read", input = Json)]
pub async fn read(session: Uuid, path: String) -> Result<FileContent, AppError> {
    let (state, g) = access::session(session, Capability::Read).await?;
    data::read(&state, g.session_id, &path).await
}

/// The files among `paths` (at most 1,000), for a client keeping a
/// copy of the workspace; paths that are missing or folders are left out.
#[server(prefix = "/api", endpoint = "files/contents", input = Json)]
pub async fn contents(session: Uuid, paths: Vec<String>) -> Result<Vec<FileContent>, AppError> {
    let (state, g) = access::session(session, Capability::Read).await?;
    if paths.len() > MAX_READ_MANY {
        return Err(AppError::invalid(format!(
            "at most {MAX_READ_MANY} files per request; {} asked",
            paths.len()
        )));
    }
    data::contents(&state.pool, g.session_id, &paths).await
}

/// Creates a file (with `content`, empty by default; in base64 with
/// `encoding: "base64"`) or a folder; missing parent folders are created too.
#[server(prefix = "/api", endpoint = "files/create", input = Json)]
pub async fn create(
    session: Uuid,
    path: String,
    kind: ItemKind,
    content: Option<String>,
    encoding: Option<Encoding>,
) -> Result<TreeItem, AppError> {
    let (state, g) = access::session(session, Capability::Write).await?;
    data::create(&state, &g, &path, kind, content, encoding).await
}

/// Saves `content` if the file still has `base_hash`; 409 with the current version otherwise.
#[server(prefix = "/api", endpoint = "files/save", input = Json)]
pub async fn save(
    session: Uuid,
    path: String,
    content: String,
    base_hash: String,
) -> Result<Saved, AppError> {
    let (state, g) = access::session(session, Capability::Write).await?;
    data::save(&state, &g, &path, content, &base_hash).await
}

/// Renames or moves a file or a folder with everything in it.
#[server(prefix = "/api", endpoint = "files/move", input = Json)]
pub async fn move_item(session: Uuid, from: String, to: String) -> Result<TreeItem, AppError> {
    let (state, g) = access::session(session, Capability::Write).await?;
    data::move_item(&state, &g, &from, &to).await
}

/// Deletes a file, or a folder with everything in it.
#[server(prefix = "/api", endpoint = "files/delete", input = Json)]
pub async fn delete(session: Uuid, path: String) -> Result<(), AppError> {
    let (state, g) = access::session(session, Capability::Write).await?;
    data::delete(&state, &g, &path).await
}

/// Uploads files into `folder` (the root when left out), in one go: every limit is
/// checked first and nothing is written when one fails. Files already there are
/// named in a 409 unless `replace` is set. Contents are text, or base64 with
/// `encoding: "base64"`.
#[server(prefix = "/api", endpoint = "files/upload", input = Json)]
pub async fn upload(
    session: Uuid,
    folder: Option<String>,
    files: Vec<UploadFile>,
    replace: Option<bool>,
) -> Result<Vec<TreeItem>, AppError> {
    let (state, g) = access::session(session, Capability::Write).await?;
    uploads::upload(&state, &g, folder, files, replace.unwrap_or(false)).await
}

/// Unpacks a zip archive (`zip`, in base64) into `folder`, as one upload: entries
/// that climb out of it, links, and archives that expand too far are refused.
#[server(prefix = "/api", endpoint = "files/import_zip", input = Json)]
pub async fn import_zip(
    session: Uuid,
    folder: Option<String>,
    zip: String,
    replace: Option<bool>,
) -> Result<Vec<TreeItem>, AppError> {
    let (state, g) = access::session(session, Capability::Write).await?;
    let zip = crate::server::content::from_base64("the archive", &zip)?;
    uploads::import_zip(&state, &g, folder, zip, replace.unwrap_or(false)).await
}
