//! Working without the server. For every page: whether the server can be reached,
//! and the service worker (`/sw.js`) that keeps the app. For a session page: this
//! browser's copy of its files, kept up to date while online; files opened from it
//! while offline; saves kept on the device until the server answers again (the
//! page sends them through its usual save path, see `workspace::saving`).

use crate::api::files;
use crate::wire::files::{FileContent, TreeItem};
use crate::{AppError, ErrorCode};
use leptos::prelude::*;
use std::collections::HashSet;
use uuid::Uuid;

#[derive(Clone, Copy)]
pub struct Connection {
    online: RwSignal<bool>,
    /// The user this browser's copy now belongs to; a session page starts using
    /// the copy only once it is theirs.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    owner: RwSignal<Option<String>>,
}

pub fn use_connection() -> Connection {
    expect_context::<Connection>()
}

impl Connection {
    pub fn provide() -> Self {
        let c = Self {
            online: RwSignal::new(true),
            owner: RwSignal::new(None),
        };
        #[cfg(feature = "hydrate")]
        imp::watch(c);
        provide_context(c);
        c
    }

    pub fn online(&self) -> bool {
        self.online.get()
    }

    pub fn online_now(&self) -> bool {
        self.online.get_untracked()
    }

    /// A request could not reach the server.
    pub fn lost(&self) {
        if self.online.get_untracked() {
            self.online.set(false);
        }
    }
}

/// What refusing an operation offline tells the user.
pub fn needs_server(what: &str) -> AppError {
    AppError::new(
        ErrorCode::Unreachable,
        format!("You are offline: {what} needs the server. Nothing was changed; try again once the connection is back."),
    )
}

/// This browser's copy of one session: the saves waiting to be sent, and whether
/// the copy and the page are kept for offline use.
#[derive(Clone, Copy)]
pub struct OfflineCopy {
    pub session: Uuid,
    conn: Connection,
    /// Files whose last save is kept on this device, not yet on the server.
    pub unsynced: RwSignal<HashSet<String>>,
    /// The copy of the files is complete and current: the session opens offline as it is now.
    pub kept: RwSignal<bool>,
    /// The service worker holds this page and the app: it reloads offline.
    pub page_kept: RwSignal<bool>,
}

impl OfflineCopy {
    pub fn new(session: Uuid, conn: Connection) -> Self {
        Self {
            session,
            conn,
            unsynced: RwSignal::new(HashSet::new()),
            kept: RwSignal::new(false),
            page_kept: RwSignal::new(false),
        }
    }

    /// Whether a save of `path` waits on this device (tracked).
    pub fn is_unsynced(&self, path: &str) -> bool {
        self.unsynced.with(|u| u.contains(path))
    }

    /// The same, for event handlers (untracked).
    pub fn waits(&self, path: &str) -> bool {
        self.unsynced.with_untracked(|u| u.contains(path))
    }

    /// Opens `path`: a save still waiting to be sent shows as it was kept (based
    /// on the version it was made from); otherwise the server's version or, when
    /// the server cannot be reached, this browser's copy.
    pub async fn read(&self, path: &str) -> Result<FileContent, AppError> {
        #[cfg(feature = "hydrate")]
        if let Ok(Some(p)) = super::local_store::waiting(self.session, path).await {
            let size = p.content.len() as i64;
            let file = FileContent {
                path: p.path,
                content: p.content,
                hash: p.base,
                version: 0,
                size,
                encoding: None,
                media_type: None,
            };
            return Ok(file);
        }
        match files::read(self.session, path.to_string()).await {
            Err(e) if e.error == ErrorCode::Unreachable => {
                self.conn.lost();
                #[cfg(feature = "hydrate")]
                if let Ok(Some(file)) = super::local_store::file(self.session, path).await {
                    return Ok(file);
                }
                Err(AppError::new(
                    ErrorCode::Unreachable,
                    format!("You are offline and {path} has no copy on this device yet: it opens once the connection is back."),
                ))
            }
            r => r,
        }
    }

    /// Keeps a save the server could not be reached for; it is sent on reconnect.
    pub async fn keep(&self, path: &str, content: &str, base: &str) -> Result<(), AppError> {
        self.conn.lost();
        #[cfg(feature = "hydrate")]
        {
            super::local_store::enqueue(self.session, path, content, base)
                .await
                .map_err(|m| AppError::new(ErrorCode::Internal, m))?;
            self.unsynced.update(|u| {
                u.insert(path.to_string());
            });
            Ok(())
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = (content, base);
            Err(needs_server(&format!("saving {path}")))
        }
    }

    /// `path` reached the server, or the user settled its conflict: it waits no
    /// more. Whether it had been waiting (what else waits may go now).
    pub async fn settled(&self, path: &str) -> bool {
        if !self.waits(path) {
            return false;
        }
        #[cfg(feature = "hydrate")]
        if let Err(e) = super::local_store::dequeue(self.session, path).await {
            leptos::logging::warn!("{e}");
        }
        self.unsynced.update(|u| {
            u.remove(path);
        });
        true
    }

    /// Starts keeping the session page's copy of `tree`, from the page's own
    /// component. `back(catch_up)` runs whenever the page is online again, after
    /// it has started; `catch_up` says whether it had been offline meanwhile.
    pub fn follow(&self, tree: RwSignal<Vec<TreeItem>>, back: impl Fn(bool) + Clone + 'static) {
        #[cfg(feature = "hydrate")]
        imp::follow(*self, tree, back);
        #[cfg(not(feature = "hydrate"))]
        let _ = (tree, back);
    }
}

#[cfg(feature = "hydrate")]
pub use imp::{forget, waiting_saves};

#[cfg(feature = "hydrate")]
mod imp {
    use super::{Connection, OfflineCopy};
    use crate::api::{files, health::health_info};
    use crate::ui::{local_store, use_user};
    use crate::wire::files::{ItemKind, TreeItem, MAX_READ_MANY};
    use leptos::logging::warn;
    use leptos::prelude::*;
    use leptos::task::spawn_local;
    use std::collections::HashMap;
    use std::time::Duration;
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(module = "/src/ui/js/offline.js")]
    extern "C" {
        #[wasm_bindgen(js_name = keepApp, catch)]
        async fn keep_app(page: Option<String>) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(js_name = forgetPages, catch)]
        async fn forget_pages() -> Result<JsValue, JsValue>;
    }

    /// How long to wait between asking a server that did not answer.
    const RETRY: Duration = Duration::from_secs(5);
    /// One request of the copy carries at most this much content.
    const BATCH_BYTES: i64 = 4 << 20;

    pub fn watch(c: Connection) {
        // After hydration, so the server's HTML is taken over as it was rendered.
        Effect::new(move |_| c.online.set(window().navigator().on_line()));
        // The page lives as long as these; their handles are never needed.
        let _ = window_event_listener(leptos::ev::online, move |_| c.online.set(true));
        let _ = window_event_listener(leptos::ev::offline, move |_| c.online.set(false));
        // Online but the server did not answer (down, or a network that drops):
        // ask again now and then.
        let _ = set_interval_with_handle(
            move || {
                if !c.online.get_untracked() && window().navigator().on_line() {
                    spawn_local(async move {
                        if health_info().await.is_ok() {
                            c.online.set(true);
                        }
                    });
                }
            },
            RETRY,
        );
        spawn_local(async move {
            if let Err(e) = keep_app(None).await {
                warn!("the app is not kept for offline use: {e:?}");
            }
        });
        // Whoever signs in on this browser, the copy is theirs alone. Only here,
        // so a claim's wipe never lands after a page has started filling the copy.
        let user = use_user();
        Effect::new(move |_| {
            if let Some(Ok(Some(u))) = user.get() {
                spawn_local(async move {
                    match claim(&u.username).await {
                        Ok(()) => c.owner.set(Some(u.username)),
                        Err(e) => warn!("{e}"),
                    }
                });
            }
        });
    }

    async fn claim(user: &str) -> Result<(), String> {
        let wiped = local_store::claim(user).await?;
        if wiped {
            forget_pages().await.map_err(|e| format!("{e:?}"))?;
        }
        Ok(())
    }

    /// Signing out: this user's copy and pages leave this browser.
    pub async fn forget() -> Result<(), String> {
        local_store::forget().await?;
        forget_pages().await.map_err(|e| format!("{e:?}"))?;
        Ok(())
    }

    /// Saves of any session still waiting, which signing out would delete.
    pub async fn waiting_saves() -> u32 {
        local_store::queued().await.unwrap_or(0)
    }

    impl OfflineCopy {
        /// The saves waiting to be sent, oldest first.
        pub async fn waiting(&self) -> Vec<local_store::Pending> {
            local_store::queue(self.session).await.unwrap_or_default()
        }
    }

    pub fn follow(
        copy: OfflineCopy,
        tree: RwSignal<Vec<TreeItem>>,
        back: impl Fn(bool) + Clone + 'static,
    ) {
        let conn = copy.conn;
        let started = RwSignal::new(false);
        let begun = StoredValue::new(false);
        Effect::new(move |_| {
            if conn.owner.with(Option::is_none) || begun.get_value() {
                return;
            }
            begun.set_value(true);
            spawn_local(start(copy, tree, started));
        });
        // Back online: what waits is sent, then, if the page has been offline, it
        // catches up with the server (a page loaded online has the server's tree).
        let been_offline = StoredValue::new(false);
        Effect::new(move |was: Option<bool>| {
            let online = conn.online();
            if !online {
                been_offline.set_value(true);
            }
            let now = started.get() && online;
            if now && was != Some(true) {
                back(been_offline.get_value());
            }
            now
        });
        // Online, every tree the page gets is mirrored, files and all.
        let copying = StoredValue::new(false);
        let again = StoredValue::new(false);
        Effect::new(move |_| {
            let items = tree.get();
            if !(started.get() && conn.online()) {
                return;
            }
            if copying.get_value() {
                return again.set_value(true);
            }
            copying.set_value(true);
            copy.kept.set(false);
            spawn_local(async move {
                let mut items = items;
                let done = loop {
                    let done = mirror(copy, items).await;
                    if !again.get_value() {
                        break done;
                    }
                    again.set_value(false);
                    items = tree.get_untracked();
                };
                match done {
                    Ok(()) => copy.kept.set(true),
                    Err(e) => warn!("offline copy: {e}"),
                }
                copying.set_value(false);
            });
        });
    }

    /// The copy is this user's: loads what waits to be sent, keeps the page.
    async fn start(copy: OfflineCopy, tree: RwSignal<Vec<TreeItem>>, started: RwSignal<bool>) {
        match local_store::queue(copy.session).await {
            Ok(q) => copy.unsynced.set(q.into_iter().map(|p| p.path).collect()),
            Err(e) => warn!("{e}"),
        }
        // Loaded offline (the page came from the service worker): the copy's
        // tree is the newest this browser has.
        if !copy.conn.online_now() {
            if let Ok(Some(items)) = local_store::tree(copy.session).await {
                tree.set(items);
                copy.kept.set(true);
            }
        }
        started.set(true);
        // The page may have been reached without loading it (a link inside the
        // app): the service worker fetches it to keep it.
        match keep_app(Some(format!("/s/{}", copy.session))).await {
            Ok(_) => copy.page_kept.set(true),
            Err(e) => warn!("this page is not kept for offline use: {e:?}"),
        }
    }

    /// Brings the copy to `tree`: fetches the files whose hash changed, drops the
    /// ones that are gone, then stores the tree.
    async fn mirror(copy: OfflineCopy, tree: Vec<TreeItem>) -> Result<(), String> {
        let session = copy.session;
        let had: HashMap<String, Option<String>> = local_store::tree(session)
            .await?
            .unwrap_or_default()
            .into_iter()
            .filter(|i| i.kind == ItemKind::File)
            .map(|i| (i.path, i.hash))
            .collect();
        let files: Vec<&TreeItem> = tree.iter().filter(|i| i.kind == ItemKind::File).collect();
        let wanted: Vec<&TreeItem> = files
            .iter()
            .copied()
            .filter(|i| had.get(&i.path) != Some(&i.hash))
            .collect();
        for batch in batches(&wanted) {
            let got = files::contents(session, batch)
                .await
                .map_err(|e| e.message)?;
            local_store::put_files(session, got, Vec::new(), None).await?;
        }
        let gone = had
            .into_keys()
            .filter(|p| !files.iter().any(|i| &i.path == p))
            .collect();
        if !wanted.is_empty() && crate::ui::monaco::load().await.is_ok() {
            crate::ui::monaco::warm_languages(wanted.iter().map(|i| i.path.clone()).collect());
        }
        local_store::put_files(session, Vec::new(), gone, Some(tree)).await
    }

    fn batches(items: &[&TreeItem]) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = Vec::new();
        let mut bytes = 0;
        for i in items {
            let full = out
                .last()
                .is_none_or(|b| b.len() >= MAX_READ_MANY || bytes + i.size > BATCH_BYTES);
            if full {
                out.push(Vec::new());
                bytes = 0;
            }
            bytes += i.size;
            if let Some(b) = out.last_mut() {
                b.push(i.path.clone());
            }
        }
        out
    }
}
