//! Bringing files in from the user's machine: dropped on the tree, picked with
//! the Upload commands, or a zip archive unpacked into a folder. Each is one
//! request, all or nothing; files already there are replaced only once the user
//! agrees.

use super::Ws;
use crate::wire::access::Capability;
#[cfg(feature = "hydrate")]
use {
    crate::api::files,
    crate::wire::files::{TreeItem, UploadFile, ALREADY_THERE},
    crate::{AppError, ErrorCode},
    leptos::prelude::*,
    leptos::task::spawn_local,
};

/// What an Upload command picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    Files,
    Folder,
    Zip,
}

#[cfg(feature = "hydrate")]
mod js {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(module = "/src/ui/js/upload.js")]
    extern "C" {
        #[wasm_bindgen(js_name = carriesFiles)]
        pub fn carries_files(dt: &web_sys::DataTransfer) -> bool;
        #[wasm_bindgen(js_name = readDrop)]
        pub fn read_drop(dt: &web_sys::DataTransfer) -> js_sys::Promise;
        pub fn pick(folder: bool, accept: &str) -> js_sys::Promise;
    }
}

/// The files of a JS promise resolving to their JSON.
#[cfg(feature = "hydrate")]
async fn files_of(p: js_sys::Promise) -> Result<Vec<UploadFile>, AppError> {
    let unreadable =
        |e: String| AppError::new(ErrorCode::Invalid, format!("could not read the files: {e}"));
    let json = wasm_bindgen_futures::JsFuture::from(p)
        .await
        .map_err(|e| unreadable(format!("{e:?}")))?
        .as_string()
        .unwrap_or_default();
    serde_json::from_str(&json).map_err(|e| unreadable(e.to_string()))
}

impl Ws {
    /// A drop on the tree: files from the desktop are uploaded into `folder`;
    /// true when it was such a drop.
    pub fn drop_files(&self, ev: &leptos::ev::DragEvent, folder: Option<String>) -> bool {
        #[cfg(feature = "hydrate")]
        {
            let Some(dt) = ev.data_transfer().filter(js::carries_files) else {
                return false;
            };
            if self.lacks(Capability::Write) || self.needs_server("uploading") {
                return true;
            }
            // Read now: the browser empties the drop's data once the event is handled.
            let read = js::read_drop(&dt);
            let ws = *self;
            spawn_local(async move {
                match files_of(read).await {
                    Ok(list) if !list.is_empty() => ws.send_upload(folder, list, false).await,
                    Ok(_) => {}
                    Err(e) => ws.fail(e),
                }
            });
            true
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = (ev, folder);
            false
        }
    }

    /// The Upload commands: the browser's file dialog, then the upload into `folder`.
    pub fn ask_upload(&self, folder: Option<String>, what: Pick) {
        if self.lacks(Capability::Write) || self.needs_server("uploading") {
            return;
        }
        #[cfg(feature = "hydrate")]
        {
            let picked = match what {
                Pick::Files => js::pick(false, ""),
                Pick::Folder => js::pick(true, ""),
                Pick::Zip => js::pick(false, ".zip,application/zip"),
            };
            let ws = *self;
            spawn_local(async move {
                let mut list = match files_of(picked).await {
                    Ok(list) => list,
                    Err(e) => return ws.fail(e),
                };
                match (what, list.pop()) {
                    (_, None) => {}
                    (Pick::Zip, Some(zip)) => ws.send_zip(folder, zip, false).await,
                    (_, Some(last)) => {
                        list.push(last);
                        ws.send_upload(folder, list, false).await
                    }
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (folder, what);
    }
}

#[cfg(feature = "hydrate")]
impl Ws {
    async fn send_upload(self, folder: Option<String>, list: Vec<UploadFile>, replace: bool) {
        let count = list.len();
        self.tell(format!("Uploading {count} file{}…", plural(count)));
        let sent = files::upload(self.session, folder.clone(), list.clone(), Some(replace)).await;
        self.landed(sent, folder.clone(), replace, move |ws| {
            spawn_local(ws.send_upload(folder.clone(), list.clone(), true))
        });
    }

    async fn send_zip(self, folder: Option<String>, zip: UploadFile, replace: bool) {
        self.tell(format!("Unpacking {}…", zip.path));
        let sent = files::import_zip(
            self.session,
            folder.clone(),
            zip.content.clone(),
            Some(replace),
        )
        .await;
        self.landed(sent, folder.clone(), replace, move |ws| {
            spawn_local(ws.send_zip(folder.clone(), zip.clone(), true))
        });
    }

    /// What an upload came to: the tree shows it, or the user hears why not (and
    /// may replace what was in the way).
    fn landed(
        self,
        sent: Result<Vec<TreeItem>, AppError>,
        folder: Option<String>,
        replaced: bool,
        again: impl Fn(Ws) + Send + Sync + 'static,
    ) {
        match sent {
            Ok(items) => {
                if let Some(first) = items.iter().find(|i| i.hash.is_some()) {
                    self.tree.expand_to(&first.path);
                    self.tree.selected.set(Some(first.path.clone()));
                }
                let files = items.iter().filter(|i| i.hash.is_some()).count();
                let place = folder.as_deref().unwrap_or("the workspace");
                self.tell(format!(
                    "Uploaded {files} file{} into {place}",
                    plural(files)
                ));
                self.refresh();
            }
            Err(e)
                if e.error == ErrorCode::Conflict
                    && !replaced
                    && e.message.starts_with(ALREADY_THERE) =>
            {
                let ws = self;
                self.notice.set(None);
                self.dialogs
                    .confirm("Replace files?", &e.message, "Replace", move || again(ws));
            }
            Err(e) => self.fail(e),
        }
    }
}

#[cfg(feature = "hydrate")]
fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
