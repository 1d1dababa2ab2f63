//! What the user does to files from the page: open, close, create, rename, move,
//! delete, and following changes made elsewhere.

use super::Ws;
use crate::api::files;
use crate::paths;
use crate::ui::bridge;
use crate::wire::access::Capability;
use crate::wire::files::ItemKind;
use leptos::prelude::*;
use leptos::task::spawn_local;

impl Ws {
    pub fn refresh(&self) {
        let ws = *self;
        spawn_local(async move {
            match files::tree(ws.session).await {
                Ok(items) => ws.tree.items.set(items),
                Err(e) => ws.fail(e),
            }
        });
    }

    /// Files changed elsewhere: the tree, and every open tab without edits whose
    /// file is no longer what it shows, take the server's version. A tab whose
    /// save is kept on this device holds text the server has not seen: it waits
    /// for that save's conflict check instead.
    pub fn reload_from_server(&self) {
        let ws = *self;
        spawn_local(async move {
            let items = match files::tree(ws.session).await {
                Ok(items) => items,
                Err(e) => return ws.fail(e),
            };
            let stale = ws.tabs.stale(&items, |p| ws.copy.waits(p));
            ws.tree.items.set(items);
            for path in stale {
                if let Ok(file) = files::read(ws.session, path.clone()).await {
                    // Edited meanwhile: the next save meets the conflict check instead.
                    if ws.tabs.is_dirty(&path) || ws.copy.waits(&path) {
                        continue;
                    }
                    ws.tabs.reload(file);
                }
            }
        });
    }

    /// Opens a file in a tab (reading it the first time) and shows it.
    pub fn open(&self, path: String) {
        let ws = *self;
        spawn_local(async move {
            ws.open_now(path).await;
        });
    }

    /// Opens a file and selects a range of one of its lines (a search result).
    pub fn open_at(&self, path: String, line: u32, column: u32, end_column: u32) {
        let ws = *self;
        spawn_local(async move {
            if ws.open_now(path).await {
                bridge::reveal(line, column, end_column);
            }
        });
    }

    /// Shows `path` in a tab, reading it the first time; whether it is shown.
    async fn open_now(&self, path: String) -> bool {
        self.tree.selected.set(Some(path.clone()));
        self.tree.expand_to(&path);
        if self.tabs.is_open(&path) {
            self.tabs.activate(&path);
            return true;
        }
        match self.copy.read(&path).await {
            Ok(file) => {
                self.tabs.add(&file);
                true
            }
            Err(e) => {
                self.fail(e);
                false
            }
        }
    }

    /// Closes a tab, asking first if it has edits.
    pub fn close(&self, path: &str) {
        let tabs = self.tabs;
        let path = path.to_string();
        if !tabs.is_dirty(&path) {
            return tabs.remove(&path);
        }
        let message = format!("{path} has unsaved changes. Close it and lose them?");
        self.dialogs
            .confirm("Discard changes?", &message, "Discard", move || {
                tabs.remove(&path)
            });
    }

    /// Creates a file or folder named by the user inside `folder`.
    pub fn ask_create(&self, folder: Option<String>, kind: ItemKind) {
        let ws = *self;
        if ws.lacks(Capability::Write) || ws.needs_server("creating files and folders") {
            return;
        }
        let title = match kind {
            ItemKind::File => "New file",
            ItemKind::Folder => "New folder",
        };
        self.dialogs
            .prompt(title, "", "Create", move |name: String| {
                let path = match &folder {
                    Some(f) => format!("{f}/{}", name.trim()),
                    None => name.trim().to_string(),
                };
                let path = match paths::validate(&path) {
                    Ok(p) => p,
                    Err(e) => return ws.fail(e),
                };
                spawn_local(async move {
                    let content = (kind == ItemKind::File).then(String::new);
                    match files::create(ws.session, path.clone(), kind, content, None).await {
                        Ok(_) => {
                            ws.tree.expand_to(&path);
                            ws.refresh();
                            if kind == ItemKind::File {
                                ws.open(path);
                            }
                        }
                        Err(e) => ws.fail(e),
                    }
                });
            });
    }

    pub fn ask_rename(&self, path: String) {
        let ws = *self;
        if ws.lacks(Capability::Write) || ws.needs_server("renaming") {
            return;
        }
        let name = paths::name(&path).to_string();
        self.dialogs
            .prompt("Rename", &name, "Rename", move |new_name: String| {
                let to = match paths::parent(&path) {
                    Some(p) => format!("{p}/{}", new_name.trim()),
                    None => new_name.trim().to_string(),
                };
                ws.move_to(path.clone(), to);
            });
    }

    pub fn move_to(&self, from: String, to: String) {
        let ws = *self;
        if ws.lacks(Capability::Write) || ws.needs_server("moving") {
            return;
        }
        if let Err(e) = paths::validate(&to) {
            return ws.fail(e);
        }
        spawn_local(async move {
            match files::move_item(ws.session, from.clone(), to.clone()).await {
                Ok(moved) => {
                    ws.tabs.retarget(&from, &moved.path);
                    ws.tree.expand_to(&moved.path);
                    ws.tree.selected.set(Some(moved.path));
                    ws.refresh();
                }
                Err(e) => ws.fail(e),
            }
        });
    }

    pub fn ask_delete(&self, path: String) {
        let ws = *self;
        if ws.lacks(Capability::Write) || ws.needs_server("deleting") {
            return;
        }
        let message = format!(
            "Delete {path}? Everything in it goes too; History › Recently deleted brings it back."
        );
        self.dialogs.confirm("Delete", &message, "Delete", move || {
            let path = path.clone();
            spawn_local(async move {
                match files::delete(ws.session, path.clone()).await {
                    Ok(()) => {
                        ws.tabs.remove_within(&path);
                        ws.refresh();
                    }
                    Err(e) => ws.fail(e),
                }
            });
        });
    }
}
