//! Saving: every save names the hash it was based on, a conflict opens the
//! conflict dialog, a file deleted meanwhile is created again, and a save the
//! server could not be reached for is kept on the device and sent, in order and
//! through the same check, once it can be.

use super::{Conflict, Ws};
use crate::api::files;
use crate::paths;
use crate::ui::bridge;
use crate::wire::access::Capability;
use crate::wire::files::ItemKind;
use crate::{AppError, ErrorCode};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Where a save ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saving {
    Saved,
    /// Kept on this device: the server could not be reached.
    Kept,
    Conflict,
    Failed,
}

impl Ws {
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
        let Some(path) = self.tabs.active.get_untracked() else {
            return true;
        };
        if self.lacks(Capability::Write) {
            return false;
        }
        if !self.tabs.is_dirty(&path) {
            return true;
        }
        match (bridge::content(&path), self.tabs.base(&path)) {
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
                self.settled(&path).await;
                self.tell(format!("Saved {path}"));
                Saving::Saved
            }
            Err(AppError {
                error: ErrorCode::Conflict,
                current: Some(theirs),
                ..
            }) => {
                self.tabs.conflict.set(Some(Conflict {
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
            }) if self.revoked.get_untracked().is_none() => {
                let created = files::create(
                    self.session,
                    path.clone(),
                    ItemKind::File,
                    Some(content.clone()),
                    None,
                )
                .await;
                match created {
                    Ok(item) => {
                        self.saved_as(&path, &content, item.hash.unwrap_or_default());
                        self.settled(&path).await;
                        self.refresh();
                        self.tell(format!("{path} had been deleted; saving created it again"));
                        Saving::Saved
                    }
                    Err(e) => {
                        self.fail(e);
                        Saving::Failed
                    }
                }
            }
            Err(AppError {
                error: ErrorCode::Unreachable,
                ..
            }) => match self.copy.keep(&path, &content, &base).await {
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
        self.tabs.update(path, |t| {
            t.hash = hash;
            t.dirty = !unchanged;
        });
    }

    /// `path` waits on the device no more; what else waits goes now.
    async fn settled(&self, path: &str) {
        if self.copy.settled(path).await && self.conn.online_now() {
            #[cfg(feature = "hydrate")]
            spawn_local(self.send_kept());
        }
    }

    /// Conflict resolution: the user's text wins over the server's current version.
    pub fn keep_mine(&self, c: Conflict) {
        self.tabs.conflict.set(None);
        self.save(c.path, c.mine, c.theirs.hash);
    }

    /// Conflict resolution: the editor takes the server's version.
    pub fn take_theirs(&self, c: Conflict) {
        self.tabs.conflict.set(None);
        let ws = *self;
        let path = c.path.clone();
        spawn_local(async move { ws.settled(&path).await });
        bridge::set_content(&c.path, &c.theirs.content);
        self.tabs.update(&c.path, |t| {
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
            match files::create(
                ws.session,
                copy.clone(),
                ItemKind::File,
                Some(content),
                None,
            )
            .await
            {
                Ok(_) => {
                    ws.take_theirs(c);
                    ws.refresh();
                    ws.tell(format!("Your version was saved as {copy}"));
                }
                Err(e) => ws.fail(e),
            }
        });
    }

    /// Sends the saves kept offline, oldest first. A conflict opens the conflict
    /// dialog and holds the rest until the user has chosen; losing the server
    /// again holds them too.
    #[cfg(feature = "hydrate")]
    pub async fn send_kept(self) {
        thread_local! {
            static SENDING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        }
        if SENDING.replace(true) {
            return;
        }
        let mut sent = 0;
        for p in self.copy.waiting().await {
            if self.tabs.conflict.get_untracked().is_some() {
                break;
            }
            match self.save_now(p.path, p.content, p.base).await {
                Saving::Saved => sent += 1,
                Saving::Failed => {}
                Saving::Kept | Saving::Conflict => break,
            }
        }
        SENDING.set(false);
        if sent > 0 && self.copy.unsynced.with_untracked(|u| u.is_empty()) {
            self.tell(match sent {
                1 => "The change made offline is on the server now".to_string(),
                n => format!("The {n} changes made offline are on the server now"),
            });
        }
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
