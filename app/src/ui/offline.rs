//! Working without the server. For every page: whether the server can be reached,
//! and the service worker (`/sw.js`) that keeps the app. For a session page: this
//! browser's copy of its files, kept up to date while online; files opened from it
//! while offline; saves kept on the device and sent, in order and through the same
//! conflict check as any save, once the server answers again.

use super::workspace::Ws;
use crate::api::files;
use crate::wire::files::FileContent;
use crate::{AppError, ErrorCode};
use leptos::prelude::*;

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

/// Opens `path`: a save still waiting to be sent shows as it was kept (based on
/// the version it was made from); otherwise the server's version or, when the
/// server cannot be reached, this browser's copy.
pub async fn read(ws: Ws, path: &str) -> Result<FileContent, AppError> {
    #[cfg(feature = "hydrate")]
    if let Some(p) = imp::waiting(ws.session, path).await {
        let size = p.content.len() as i64;
        let file = FileContent {
            path: p.path,
            content: p.content,
            hash: p.base,
            version: 0,
            size,
        };
        return Ok(file);
    }
    match files::read(ws.session, path.to_string()).await {
        Err(e) if e.error == ErrorCode::Unreachable => {
            ws.conn.lost();
            #[cfg(feature = "hydrate")]
            if let Some(file) = imp::kept_file(ws.session, path).await {
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
pub async fn keep(ws: Ws, path: &str, content: &str, base: &str) -> Result<(), AppError> {
    ws.conn.lost();
    #[cfg(feature = "hydrate")]
    {
        super::local_store::enqueue(ws.session, path, content, base)
            .await
            .map_err(|m| AppError::new(ErrorCode::Internal, m))?;
        ws.unsynced.update(|u| {
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

/// `path` reached the server, or the user settled its conflict: it waits no more,
/// and what else waits is sent.
pub async fn settled(ws: Ws, path: &str) {
    if !ws.unsynced.with_untracked(|u| u.contains(path)) {
        return;
    }
    #[cfg(feature = "hydrate")]
    if let Err(e) = super::local_store::dequeue(ws.session, path).await {
        leptos::logging::warn!("{e}");
    }
    ws.unsynced.update(|u| {
        u.remove(path);
    });
    #[cfg(feature = "hydrate")]
    if ws.conn.online_now() {
        leptos::task::spawn_local(imp::flush(ws));
    }
}

/// Starts keeping the session page's copy, from the page's own component.
pub fn follow(ws: Ws) {
    #[cfg(feature = "hydrate")]
    imp::follow(ws);
    #[cfg(not(feature = "hydrate"))]
    let _ = ws;
}

#[cfg(feature = "hydrate")]
pub use imp::{forget, waiting_saves};

#[cfg(feature = "hydrate")]
mod imp {
    use super::{Connection, Ws};
    use crate::api::{files, health::health_info};
    use crate::ui::{local_store, use_user, workspace::Saving};
    use crate::wire::files::{FileContent, ItemKind, TreeItem, MAX_READ_MANY};
    use leptos::logging::warn;
    use leptos::prelude::*;
    use leptos::task::spawn_local;
    use std::cell::Cell;
    use std::collections::HashMap;
    use std::time::Duration;
    use uuid::Uuid;
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

    pub async fn waiting(session: Uuid, path: &str) -> Option<local_store::Pending> {
        local_store::waiting(session, path).await.ok().flatten()
    }

    pub async fn kept_file(session: Uuid, path: &str) -> Option<FileContent> {
        local_store::file(session, path).await.ok().flatten()
    }

    pub fn follow(ws: Ws) {
        let started = RwSignal::new(false);
        let begun = StoredValue::new(false);
        Effect::new(move |_| {
            if ws.conn.owner.with(Option::is_none) || begun.get_value() {
                return;
            }
            begun.set_value(true);
            spawn_local(start(ws, started));
        });
        // Back online: what waits is sent, then, if the page has been offline, it
        // catches up with the server (a page loaded online has the server's tree).
        let been_offline = StoredValue::new(false);
        Effect::new(move |was: Option<bool>| {
            let online = ws.conn.online();
            if !online {
                been_offline.set_value(true);
            }
            let now = started.get() && online;
            if now && was != Some(true) {
                let catch_up = been_offline.get_value();
                spawn_local(async move {
                    flush(ws).await;
                    if catch_up {
                        ws.reload_from_server();
                    }
                });
            }
            now
        });
        // Online, every tree the page gets is mirrored, files and all.
        let copying = StoredValue::new(false);
        let again = StoredValue::new(false);
        Effect::new(move |_| {
            let tree = ws.tree.get();
            if !(started.get() && ws.conn.online()) {
                return;
            }
            if copying.get_value() {
                return again.set_value(true);
            }
            copying.set_value(true);
            ws.kept.set(false);
            spawn_local(async move {
                let mut tree = tree;
                let done = loop {
                    let done = copy(ws, tree).await;
                    if !again.get_value() {
                        break done;
                    }
                    again.set_value(false);
                    tree = ws.tree.get_untracked();
                };
                match done {
                    Ok(()) => ws.kept.set(true),
                    Err(e) => warn!("offline copy: {e}"),
                }
                copying.set_value(false);
            });
        });
    }

    /// The copy is this user's: loads what waits to be sent, keeps the page.
    async fn start(ws: Ws, started: RwSignal<bool>) {
        match local_store::queue(ws.session).await {
            Ok(q) => ws.unsynced.set(q.into_iter().map(|p| p.path).collect()),
            Err(e) => warn!("{e}"),
        }
        // Loaded offline (the page came from the service worker): the copy's
        // tree is the newest this browser has.
        if !ws.conn.online_now() {
            if let Ok(Some(tree)) = local_store::tree(ws.session).await {
                ws.tree.set(tree);
                ws.kept.set(true);
            }
        }
        started.set(true);
        // The page may have been reached without loading it (a link inside the
        // app): the service worker fetches it to keep it.
        match keep_app(Some(format!("/s/{}", ws.session))).await {
            Ok(_) => ws.page_kept.set(true),
            Err(e) => warn!("this page is not kept for offline use: {e:?}"),
        }
    }

    /// Brings the copy to `tree`: fetches the files whose hash changed, drops the
    /// ones that are gone, then stores the tree.
    async fn copy(ws: Ws, tree: Vec<TreeItem>) -> Result<(), String> {
        let had: HashMap<String, Option<String>> = local_store::tree(ws.session)
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
            let got = files::contents(ws.session, batch)
                .await
                .map_err(|e| e.message)?;
            local_store::put_files(ws.session, got, Vec::new(), None).await?;
        }
        let gone = had
            .into_keys()
            .filter(|p| !files.iter().any(|i| &i.path == p))
            .collect();
        if !wanted.is_empty() && crate::ui::monaco::load().await.is_ok() {
            crate::ui::monaco::warm_languages(wanted.iter().map(|i| i.path.clone()).collect());
        }
        local_store::put_files(ws.session, Vec::new(), gone, Some(tree)).await
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

    thread_local! {
        static FLUSHING: Cell<bool> = const { Cell::new(false) };
    }

    /// Sends the saves kept offline, oldest first. A conflict opens the conflict
    /// dialog and holds the rest until the user has chosen; losing the server
    /// again holds them too.
    pub async fn flush(ws: Ws) {
        if FLUSHING.replace(true) {
            return;
        }
        let queue = local_store::queue(ws.session).await.unwrap_or_default();
        let mut sent = 0;
        for p in queue {
            if ws.conflict.get_untracked().is_some() {
                break;
            }
            match ws.save_now(p.path, p.content, p.base).await {
                Saving::Saved => sent += 1,
                Saving::Failed => {}
                Saving::Kept | Saving::Conflict => break,
            }
        }
        FLUSHING.set(false);
        if sent > 0 && ws.unsynced.with_untracked(|u| u.is_empty()) {
            ws.tell(match sent {
                1 => "The change made offline is on the server now".to_string(),
                n => format!("The {n} changes made offline are on the server now"),
            });
        }
    }
}
