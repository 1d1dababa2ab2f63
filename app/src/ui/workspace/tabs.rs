//! The editor's tabs: which files are open, which one shows, what each was
//! based on and whether it has edits; and a save's conflict waiting for the user.

use crate::paths;
use crate::ui::bridge;
use crate::wire::files::{FileContent, TreeItem};
use leptos::prelude::*;

#[derive(Debug, Clone, PartialEq)]
pub struct Tab {
    pub path: String,
    /// The hash the editor's text was based on: sent with the next save.
    pub hash: String,
    pub dirty: bool,
    /// A binary file is shown (a preview, its size, a download link), not edited.
    pub binary: Option<Binary>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Binary {
    pub media_type: String,
    pub base64: String,
    pub size: i64,
}

impl Binary {
    pub fn of(file: &FileContent) -> Option<Self> {
        file.is_binary().then(|| Binary {
            media_type: file
                .media_type
                .clone()
                .unwrap_or_else(|| "application/octet-stream".into()),
            base64: file.content.clone(),
            size: file.size,
        })
    }

    /// The bytes as a `data:` URL, for an image's preview and the download link.
    pub fn url(&self) -> String {
        format!("data:{};base64,{}", self.media_type, self.base64)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub path: String,
    pub mine: String,
    pub theirs: FileContent,
}

#[derive(Clone, Copy)]
pub struct Tabs {
    pub open: RwSignal<Vec<Tab>>,
    pub active: RwSignal<Option<String>>,
    pub conflict: RwSignal<Option<Conflict>>,
}

impl Tabs {
    pub fn new() -> Self {
        Self {
            open: RwSignal::new(Vec::new()),
            active: RwSignal::new(None),
            conflict: RwSignal::new(None),
        }
    }

    pub fn is_dirty(&self, path: &str) -> bool {
        self.open
            .with(|t| t.iter().any(|t| t.path == path && t.dirty))
    }

    pub fn unsaved(&self) -> usize {
        self.open.with(|t| t.iter().filter(|t| t.dirty).count())
    }

    pub fn is_open(&self, path: &str) -> bool {
        self.open
            .with_untracked(|t| t.iter().any(|t| t.path == path))
    }

    /// The hash the tab of `path` is based on.
    pub fn base(&self, path: &str) -> Option<String> {
        self.open
            .with_untracked(|t| t.iter().find(|t| t.path == path).map(|t| t.hash.clone()))
    }

    pub fn update(&self, path: &str, f: impl FnOnce(&mut Tab)) {
        self.open.update(|tabs| {
            if let Some(t) = tabs.iter_mut().find(|t| t.path == path) {
                f(t);
            }
        });
    }

    /// Opens `file` in a new tab and shows it.
    pub fn add(&self, file: &FileContent) {
        // Two quick clicks read the file twice: the second finds its tab.
        if self.is_open(&file.path) {
            return self.activate(&file.path);
        }
        self.open.update(|t| {
            t.push(Tab {
                path: file.path.clone(),
                hash: file.hash.clone(),
                dirty: false,
                binary: Binary::of(file),
            })
        });
        self.active.set(Some(file.path.clone()));
        if !file.is_binary() {
            bridge::show(&file.path, Some(&file.content));
        }
    }

    /// Takes the server's version of the file of an open tab without edits.
    pub fn reload(&self, file: FileContent) {
        if !file.is_binary() {
            bridge::set_content(&file.path, &file.content);
        }
        let binary = Binary::of(&file);
        self.update(&file.path, |t| {
            t.binary = binary;
            t.hash = file.hash.clone();
            t.dirty = false;
        });
    }

    /// The binary file the tab of `path` shows, if it is one (tracked).
    pub fn binary(&self, path: &str) -> Option<Binary> {
        self.open.with(|t| {
            t.iter()
                .find(|t| t.path == path)
                .and_then(|t| t.binary.clone())
        })
    }

    pub fn activate(&self, path: &str) {
        self.active.set(Some(path.to_string()));
        if self.binary_untracked(path).is_none() {
            bridge::show(path, None);
        }
    }

    fn binary_untracked(&self, path: &str) -> Option<Binary> {
        self.open.with_untracked(|t| {
            t.iter()
                .find(|t| t.path == path)
                .and_then(|t| t.binary.clone())
        })
    }

    /// The editor reported an edit of `path`. Runs on every keystroke: only the
    /// first edit after a save touches the tabs, so typing does not re-render
    /// the tab bar and the tree.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub fn edited(&self, path: &str) {
        if !self
            .open
            .with_untracked(|t| t.iter().any(|t| t.path == path && t.dirty))
        {
            self.update(path, |t| t.dirty = true);
        }
    }

    /// Closes the tab of `path` (edits and all), showing another.
    pub fn remove(&self, path: &str) {
        self.open.update(|t| t.retain(|t| t.path != path));
        bridge::close(path);
        if self.active.get_untracked().as_deref() == Some(path) {
            let next = self
                .open
                .with_untracked(|t| t.last().map(|t| t.path.clone()));
            if let Some(next) = next {
                self.activate(&next);
            } else {
                self.active.set(None);
            }
        }
    }

    /// Closes every tab at or below `path` (it was deleted).
    pub fn remove_within(&self, path: &str) {
        let gone: Vec<String> = self.open.with_untracked(|t| {
            t.iter()
                .filter(|t| paths::is_within(&t.path, path))
                .map(|t| t.path.clone())
                .collect()
        });
        for p in gone {
            self.remove(&p);
        }
    }

    /// After a move: open tabs below `from` follow it to `to`.
    pub fn retarget(&self, from: &str, to: &str) {
        let moved =
            |p: &str| paths::is_within(p, from).then(|| format!("{to}{}", &p[from.len()..]));
        self.open.update(|tabs| {
            for t in tabs.iter_mut() {
                if let Some(new) = moved(&t.path) {
                    bridge::rename(&t.path, &new);
                    t.path = new;
                }
            }
        });
        if let Some(new) = self.active.get_untracked().and_then(|a| moved(&a)) {
            self.activate(&new);
        }
    }

    /// Tabs without edits whose file is no longer what they show, by `items`.
    pub fn stale(&self, items: &[TreeItem], waits: impl Fn(&str) -> bool) -> Vec<String> {
        self.open.with_untracked(|tabs| {
            tabs.iter()
                .filter(|t| !t.dirty && !waits(&t.path))
                .filter(|t| {
                    items
                        .iter()
                        .any(|i| i.path == t.path && i.hash.as_ref().is_some_and(|h| *h != t.hash))
                })
                .map(|t| t.path.clone())
                .collect()
        })
    }
}
