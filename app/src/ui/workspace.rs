//! The IDE page of one session: its state, shared by the tree, the tabs and the
//! editor, and the operations they trigger.

use super::{
    bridge,
    dialog::{use_dialogs, Dialogs},
    offline::{self, use_connection, Connection},
};
use crate::api::files;
use crate::wire::files::{FileContent, ItemKind, TreeItem};
use crate::{paths, AppError, ErrorCode};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::HashSet;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct Tab {
    pub path: String,
    /// The hash the editor's text was based on: sent with the next save.
    pub hash: String,
    pub dirty: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub path: String,
    pub mine: String,
    pub theirs: FileContent,
}

/// Where a save ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saving {
    Saved,
    /// Kept on this device: the server could not be reached.
    Kept,
    Conflict,
    Failed,
}

#[derive(Clone, Copy)]
pub struct Ws {
    pub session: Uuid,
    /// Every item of the workspace; loaded with the page, reloaded after changes.
    pub tree: RwSignal<Vec<TreeItem>>,
    pub expanded: RwSignal<HashSet<String>>,
    pub selected: RwSignal<Option<String>>,
    pub tabs: RwSignal<Vec<Tab>>,
    pub active: RwSignal<Option<String>>,
    /// The last outcome worth telling: (text, is_error).
    pub notice: RwSignal<Option<(String, bool)>>,
    pub conflict: RwSignal<Option<Conflict>>,
    /// Files whose last save is kept on this device, not yet on the server.
    pub unsynced: RwSignal<HashSet<String>>,
    /// This browser's copy of the files is complete and current: the session
    /// opens offline as it is now.
    pub kept: RwSignal<bool>,
    /// The service worker holds this page and the app: it reloads offline.
    pub page_kept: RwSignal<bool>,
    pub conn: Connection,
    /// Taken when the page is built: event handlers run outside the component tree.
    dialogs: Dialogs,
}

pub fn use_ws() -> Ws {
    expect_context::<Ws>()
}

impl Ws {
    pub fn provide(session: Uuid, tree: Vec<TreeItem>) -> Self {
        let ws = Self {
            session,
            tree: RwSignal::new(tree),
            expanded: RwSignal::new(HashSet::new()),
            selected: RwSignal::new(None),
            tabs: RwSignal::new(Vec::new()),
            active: RwSignal::new(None),
            notice: RwSignal::new(None),
            conflict: RwSignal::new(None),
            unsynced: RwSignal::new(HashSet::new()),
            kept: RwSignal::new(false),
            page_kept: RwSignal::new(false),
            conn: use_connection(),
            dialogs: use_dialogs(),
        };
        provide_context(ws);
        ws
    }

    pub fn refresh(&self) {
        let ws = *self;
        spawn_local(async move {
            match files::tree(ws.session).await {
                Ok(items) => ws.tree.set(items),
                Err(e) => ws.fail(e),
            }
        });
    }

    /// Files changed elsewhere: the tree, and every open tab without edits whose
    /// file is no longer what it shows, take the server's version. A tab whose
    /// save is kept on this device holds text the server has not seen: it waits
    /// for that save's conflict check instead.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub fn reload_from_server(&self) {
        let ws = *self;
        spawn_local(async move {
            let items = match files::tree(ws.session).await {
                Ok(items) => items,
                Err(e) => return ws.fail(e),
            };
            let stale: Vec<String> = ws.tabs.with_untracked(|tabs| {
                tabs.iter()
                    .filter(|t| !t.dirty && !ws.unsynced.with_untracked(|u| u.contains(&t.path)))
                    .filter(|t| {
                        items.iter().any(|i| {
                            i.path == t.path && i.hash.as_ref().is_some_and(|h| *h != t.hash)
                        })
                    })
                    .map(|t| t.path.clone())
                    .collect()
            });
            ws.tree.set(items);
            for path in stale {
                if let Ok(file) = files::read(ws.session, path.clone()).await {
                    // Edited meanwhile: the next save meets the conflict check instead.
                    if ws.is_dirty(&path) || ws.unsynced.with_untracked(|u| u.contains(&path)) {
                        continue;
                    }
                    bridge::set_content(&path, &file.content);
                    ws.update_tab(&path, |t| {
                        t.hash = file.hash;
                        t.dirty = false;
                    });
                }
            }
        });
    }

    pub fn fail(&self, e: AppError) {
        if e.error == ErrorCode::Unreachable {
            self.conn.lost();
        }
        self.notice.set(Some((e.message, true)));
    }

    pub fn tell(&self, text: impl Into<String>) {
        self.notice.set(Some((text.into(), false)));
    }

    pub fn unsaved(&self) -> usize {
        self.tabs.with(|t| t.iter().filter(|t| t.dirty).count())
    }

    pub fn is_unsynced(&self, path: &str) -> bool {
        self.unsynced.with(|u| u.contains(path))
    }

    /// Refuses what only the server can do while it cannot be reached.
    fn needs_server(&self, what: &str) -> bool {
        if self.conn.online_now() {
            return false;
        }
        self.fail(offline::needs_server(what));
        true
    }

    pub fn is_dirty(&self, path: &str) -> bool {
        self.tabs
            .with(|t| t.iter().any(|t| t.path == path && t.dirty))
    }

    fn update_tab(&self, path: &str, f: impl FnOnce(&mut Tab)) {
        self.tabs.update(|tabs| {
            if let Some(t) = tabs.iter_mut().find(|t| t.path == path) {
                f(t);
            }
        });
    }

    /// Opens a file in a tab (reading it the first time) and shows it.
    pub fn open(&self, path: String) {
        let ws = *self;
        ws.selected.set(Some(path.clone()));
        if ws.tabs.with_untracked(|t| t.iter().any(|t| t.path == path)) {
            ws.active.set(Some(path.clone()));
            bridge::show(&path, None);
            return;
        }
        spawn_local(async move {
            match offline::read(ws, &path).await {
                Ok(file) => {
                    ws.tabs.update(|t| {
                        t.push(Tab {
                            path: file.path.clone(),
                            hash: file.hash.clone(),
                            dirty: false,
                        })
                    });
                    ws.active.set(Some(file.path.clone()));
                    bridge::show(&file.path, Some(&file.content));
                }
                Err(e) => ws.fail(e),
            }
        });
    }

    pub fn activate(&self, path: &str) {
        self.active.set(Some(path.to_string()));
        bridge::show(path, None);
    }

    pub fn close(&self, path: &str) {
        let ws = *self;
        let path = path.to_string();
        let dirty = ws.is_dirty(&path);
        let message = format!("{path} has unsaved changes. Close it and lose them?");
        let really_close = move || {
            ws.tabs.update(|t| t.retain(|t| t.path != path));
            bridge::close(&path);
            if ws.active.get_untracked().as_deref() == Some(path.as_str()) {
                let next = ws.tabs.with_untracked(|t| t.last().map(|t| t.path.clone()));
                ws.active.set(next.clone());
                if let Some(next) = next {
                    bridge::show(&next, None);
                }
            }
        };
        if dirty {
            self.dialogs
                .confirm("Discard changes?", &message, "Discard", really_close);
        } else {
            really_close();
        }
    }

    /// The editor reported an edit of `path`.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    /// Runs on every keystroke: only the first edit after a save touches the tabs,
    /// so typing does not re-render the tab bar and the tree.
    pub fn edited(&self, path: &str) {
        if !self
            .tabs
            .with_untracked(|t| t.iter().any(|t| t.path == path && t.dirty))
        {
            self.update_tab(path, |t| t.dirty = true);
        }
    }

    /// Ctrl/Cmd+S in the editor.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub fn save_active(&self) {
        let ws = *self;
        spawn_local(async move {
            ws.save_active_now().await;
        });
    }

    /// Saves the shown file if it has edits; whether it is on the server now.
    pub async fn save_active_now(&self) -> bool {
        let Some(path) = self.active.get_untracked() else {
            return true;
        };
        if !self.is_dirty(&path) {
            return true;
        }
        let base = self
            .tabs
            .with_untracked(|t| t.iter().find(|t| t.path == path).map(|t| t.hash.clone()));
        match (bridge::content(&path), base) {
            (Some(content), Some(base)) => {
                self.save_now(path, content, base).await == Saving::Saved
            }
            _ => false,
        }
    }

    /// Saves `content` as based on `base`; a conflict opens the conflict dialog.
    pub fn save(&self, path: String, content: String, base: String) {
        let ws = *self;
        spawn_local(async move {
            ws.save_now(path, content, base).await;
        });
    }

    pub async fn save_now(&self, path: String, content: String, base: String) -> Saving {
        match files::save(self.session, path.clone(), content.clone(), base.clone()).await {
            Ok(saved) => {
                self.saved_as(&path, &content, saved.hash);
                offline::settled(*self, &path).await;
                self.tell(format!("Saved {path}"));
                Saving::Saved
            }
            Err(AppError {
                error: ErrorCode::Conflict,
                current: Some(theirs),
                ..
            }) => {
                self.conflict.set(Some(Conflict {
                    path,
                    mine: content,
                    theirs: *theirs,
                }));
                Saving::Conflict
            }
            // Deleted on the server meanwhile: the text is not thrown away.
            Err(AppError {
                error: ErrorCode::NotFound,
                ..
            }) => match files::create(
                self.session,
                path.clone(),
                ItemKind::File,
                Some(content.clone()),
            )
            .await
            {
                Ok(item) => {
                    self.saved_as(&path, &content, item.hash.unwrap_or_default());
                    offline::settled(*self, &path).await;
                    self.refresh();
                    self.tell(format!("{path} had been deleted; saving created it again"));
                    Saving::Saved
                }
                Err(e) => {
                    self.fail(e);
                    Saving::Failed
                }
            },
            Err(AppError {
                error: ErrorCode::Unreachable,
                ..
            }) => match offline::keep(*self, &path, &content, &base).await {
                Ok(()) => {
                    // The tab keeps its base: the server has not seen this text.
                    self.saved_as(&path, &content, base);
                    self.tell(format!("Offline: {path} is saved on this device and goes to the server once the connection is back"));
                    Saving::Kept
                }
                Err(e) => {
                    self.fail(e);
                    Saving::Failed
                }
            },
            Err(e) => {
                self.fail(e);
                Saving::Failed
            }
        }
    }

    /// The tab of `path` is based on `hash` now, and clean unless edited since `content`.
    fn saved_as(&self, path: &str, content: &str, hash: String) {
        let unchanged = bridge::content(path).as_deref() == Some(content);
        self.update_tab(path, |t| {
            t.hash = hash;
            t.dirty = !unchanged;
        });
    }

    /// Conflict resolution: the user's text wins over the server's current version.
    pub fn keep_mine(&self, c: Conflict) {
        self.conflict.set(None);
        self.save(c.path, c.mine, c.theirs.hash);
    }

    /// Conflict resolution: the editor takes the server's version.
    pub fn take_theirs(&self, c: Conflict) {
        self.conflict.set(None);
        let ws = *self;
        let path = c.path.clone();
        spawn_local(async move { offline::settled(ws, &path).await });
        bridge::set_content(&c.path, &c.theirs.content);
        self.update_tab(&c.path, |t| {
            t.hash = c.theirs.hash.clone();
            t.dirty = false;
        });
        self.tell(format!("{} now has the saved version", c.path));
    }

    /// Conflict resolution: the user's text goes to a new file beside it; the
    /// editor takes the server's version.
    pub fn copy_mine_aside(&self, c: Conflict) {
        let ws = *self;
        if ws.needs_server("saving a copy") {
            return;
        }
        let copy = conflict_copy_name(&c.path);
        let content = c.mine.clone();
        spawn_local(async move {
            match files::create(ws.session, copy.clone(), ItemKind::File, Some(content)).await {
                Ok(_) => {
                    ws.take_theirs(c);
                    ws.refresh();
                    ws.tell(format!("Your version was saved as {copy}"));
                }
                Err(e) => ws.fail(e),
            }
        });
    }

    /// Creates a file or folder named by the user inside `folder`.
    pub fn ask_create(&self, folder: Option<String>, kind: ItemKind) {
        let ws = *self;
        if ws.needs_server("creating files and folders") {
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
                    match files::create(ws.session, path.clone(), kind, content).await {
                        Ok(_) => {
                            ws.expand_to(&path);
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
        if ws.needs_server("renaming") {
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
        if ws.needs_server("moving") {
            return;
        }
        if let Err(e) = paths::validate(&to) {
            return ws.fail(e);
        }
        spawn_local(async move {
            match files::move_item(ws.session, from.clone(), to.clone()).await {
                Ok(moved) => {
                    ws.retarget_tabs(&from, &moved.path);
                    ws.expand_to(&moved.path);
                    ws.selected.set(Some(moved.path));
                    ws.refresh();
                }
                Err(e) => ws.fail(e),
            }
        });
    }

    pub fn ask_delete(&self, path: String) {
        let ws = *self;
        if ws.needs_server("deleting") {
            return;
        }
        let message =
            format!("Delete {path}? Everything in it is deleted too. This cannot be undone.");
        self.dialogs.confirm("Delete", &message, "Delete", move || {
            let path = path.clone();
            spawn_local(async move {
                match files::delete(ws.session, path.clone()).await {
                    Ok(()) => {
                        let gone: Vec<String> = ws.tabs.with_untracked(|t| {
                            t.iter()
                                .filter(|t| paths::is_within(&t.path, &path))
                                .map(|t| t.path.clone())
                                .collect()
                        });
                        for p in gone {
                            ws.tabs.update(|t| t.retain(|t| t.path != p));
                            bridge::close(&p);
                        }
                        if ws
                            .active
                            .get_untracked()
                            .is_some_and(|a| paths::is_within(&a, &path))
                        {
                            ws.active.set(None);
                        }
                        ws.refresh();
                    }
                    Err(e) => ws.fail(e),
                }
            });
        });
    }

    /// After a move: open tabs below `from` follow it to `to`.
    fn retarget_tabs(&self, from: &str, to: &str) {
        let moved =
            |p: &str| paths::is_within(p, from).then(|| format!("{to}{}", &p[from.len()..]));
        self.tabs.update(|tabs| {
            for t in tabs.iter_mut() {
                if let Some(new) = moved(&t.path) {
                    bridge::rename(&t.path, &new);
                    t.path = new;
                }
            }
        });
        if let Some(new) = self.active.get_untracked().and_then(|a| moved(&a)) {
            self.active.set(Some(new.clone()));
            bridge::show(&new, None);
        }
    }

    /// Expands every folder above `path`.
    pub fn expand_to(&self, path: &str) {
        self.expanded.update(|e| {
            let mut p = paths::parent(path);
            while let Some(folder) = p {
                e.insert(folder.to_string());
                p = paths::parent(folder);
            }
        });
    }
}

/// `src/a.py` → `src/a (conflict copy).py`.
fn conflict_copy_name(path: &str) -> String {
    let (dir, name) = match paths::parent(path) {
        Some(p) => (format!("{p}/"), paths::name(path)),
        None => (String::new(), path),
    };
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{dir}{stem} (conflict copy).{ext}"),
        _ => format!("{dir}{name} (conflict copy)"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn conflict_copies_keep_the_extension() {
        assert_eq!(
            super::conflict_copy_name("src/a.py"),
            "src/a (conflict copy).py"
        );
        assert_eq!(
            super::conflict_copy_name("Makefile"),
            "Makefile (conflict copy)"
        );
        assert_eq!(super::conflict_copy_name(".env"), ".env (conflict copy)");
    }
}
