//! The tree of a session page: every item of the workspace (loaded with the page,
//! reloaded after changes), the folders shown open, and the selection.

use crate::paths;
use crate::wire::files::{ItemKind, TreeItem};
use leptos::prelude::*;
use std::collections::HashSet;

#[derive(Clone, Copy)]
pub struct TreeState {
    pub items: RwSignal<Vec<TreeItem>>,
    pub expanded: RwSignal<HashSet<String>>,
    pub selected: RwSignal<Option<String>>,
}

impl TreeState {
    pub fn new(items: Vec<TreeItem>) -> Self {
        Self {
            items: RwSignal::new(items),
            expanded: RwSignal::new(HashSet::new()),
            selected: RwSignal::new(None),
        }
    }

    /// Opens a folder shown closed, or closes one shown open.
    pub fn toggle(&self, folder: &str) {
        self.expanded.update(|e| {
            if !e.remove(folder) {
                e.insert(folder.to_string());
            }
        });
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

    /// The folder new items go into when `path` is selected: itself, or its parent.
    pub fn folder_for(&self, path: Option<&str>) -> Option<String> {
        let path = path?;
        let is_folder = self.items.with_untracked(|items| {
            items
                .iter()
                .any(|i| i.path == path && i.kind == ItemKind::Folder)
        });
        if is_folder {
            Some(path.to_string())
        } else {
            paths::parent(path).map(str::to_owned)
        }
    }
}
