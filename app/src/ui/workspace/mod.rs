//! The IDE page of one session. [`Ws`] ties its parts together, each with one
//! job: the tree (`tree_state`), the editor's tabs (`tabs`) and this browser's
//! offline copy (`offline::OfflineCopy`); the operations that span them are in
//! `files` (open, create, rename, move, delete), `saving` (saves, conflicts,
//! and the saves kept offline) and `uploads` (files and zips from the user's machine).

mod files;
mod saving;
mod tabs;
mod tree_state;
mod uploads;

pub use tabs::{Binary, Conflict, Tabs};
pub use tree_state::TreeState;
pub use uploads::Pick;

use super::dialog::{use_dialogs, Dialogs};
use super::offline::{self, use_connection, Connection, OfflineCopy};
use crate::wire::access::{Capability, Role};
use crate::wire::files::TreeItem;
use crate::wire::sessions::CodeSession;
use crate::{AppError, ErrorCode};
use leptos::prelude::*;
use uuid::Uuid;

#[derive(Clone, Copy)]
pub struct Ws {
    pub session: Uuid,
    /// The session's language: what a file of no known language is run as.
    pub language: crate::wire::sessions::Language,
    /// The signed-in user's role here; the events stream tells of changes.
    pub role: RwSignal<Role>,
    /// Why access to the session ended, once it has.
    pub revoked: RwSignal<Option<String>>,
    /// Bumped whenever who has access changes.
    pub sharing: RwSignal<u32>,
    pub tree: TreeState,
    pub tabs: Tabs,
    pub copy: OfflineCopy,
    /// The last outcome worth telling: (text, is_error).
    pub notice: RwSignal<Option<(String, bool)>>,
    pub conn: Connection,
    /// Taken when the page is built: event handlers run outside the component tree.
    dialogs: Dialogs,
}

pub fn use_ws() -> Ws {
    expect_context::<Ws>()
}

impl Ws {
    pub fn provide(session: &CodeSession, tree: Vec<TreeItem>) -> Self {
        let conn = use_connection();
        let ws = Self {
            session: session.uuid,
            language: session.language,
            role: RwSignal::new(session.role),
            revoked: RwSignal::new(None),
            sharing: RwSignal::new(0),
            tree: TreeState::new(tree),
            tabs: Tabs::new(),
            copy: OfflineCopy::new(session.uuid, conn),
            notice: RwSignal::new(None),
            conn,
            dialogs: use_dialogs(),
        };
        provide_context(ws);
        ws
    }

    /// Whether the role allows `need` (tracked: views follow role changes).
    pub fn can(&self, need: Capability) -> bool {
        self.revoked.with(Option::is_none) && self.role.get().allows(need)
    }

    /// Refuses, saying why, what the role does not allow; true when refused.
    pub fn lacks(&self, need: Capability) -> bool {
        if let Some(why) = self.revoked.get_untracked() {
            self.fail(AppError::new(ErrorCode::NotFound, why));
            return true;
        }
        let role = self.role.get_untracked();
        if role.allows(need) {
            return false;
        }
        self.fail(AppError::new(ErrorCode::Forbidden, need.refusal(role)));
        true
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

    /// Refuses what only the server can do while it cannot be reached.
    fn needs_server(&self, what: &str) -> bool {
        if self.conn.online_now() {
            return false;
        }
        self.fail(offline::needs_server(what));
        true
    }
}

impl Ws {
    /// Keeps this browser's copy of the session; whenever the page is online
    /// again, the saves kept offline are sent, then it catches up with the server
    /// if it had been offline.
    pub fn keep_offline(&self) {
        let ws = *self;
        self.copy.follow(self.tree.items, move |catch_up| {
            leptos::task::spawn_local(async move {
                #[cfg(feature = "hydrate")]
                ws.send_kept().await;
                if catch_up {
                    ws.reload_from_server();
                }
            })
        });
    }
}
