//! The IDE frame: top bar, sidebar, editor area, bottom panel and status bar.

use super::{
    dialog::use_dialogs, offline::use_connection, terminal::use_terms, use_user, workspace::Ws,
};
use crate::api::{auth, health::health_info};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The whole IDE frame; `sidebar`, `editor` and `panel` fill its regions.
#[component]
pub fn IdeLayout(
    #[prop(into)] title: Signal<String>,
    #[prop(into)] sidebar: ViewFn,
    #[prop(into)] editor: ViewFn,
    #[prop(optional, into)] panel: Option<ViewFn>,
) -> impl IntoView {
    let sidebar_open = RwSignal::new(true);
    let terms = use_terms();
    let panel_open = move || terms.is_some_and(|t| t.open.get());
    #[cfg(feature = "hydrate")]
    {
        // Ctrl+` shows and hides the terminal panel, as in VS Code.
        let keys = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.ctrl_key() && ev.code() == "Backquote" {
                if let Some(t) = terms {
                    ev.prevent_default();
                    t.toggle();
                }
            }
        });
        on_cleanup(move || keys.remove());
    }
    view! {
        <div class="ide" class:sidebar-collapsed=move || !sidebar_open.get() class:panel-open=panel_open>
            <header class="topbar">
                <button
                    class="icon-button"
                    id="toggle-sidebar"
                    title="Toggle sidebar"
                    aria-label="Toggle sidebar"
                    aria-expanded=move || sidebar_open.get().to_string()
                    on:click=move |_| sidebar_open.update(|open| *open = !*open)
                >
                    "☰"
                </button>
                <a class="brand" href="/">"WebIDE"</a>
                <span class="topbar-title">{title}</span>
                {use_context::<Ws>().map(|_| view! {
                    <super::review_submit::SubmitButton />
                    <super::share::ShareButton />
                    <super::share::ForkButton />
                }.into_any())}
                {terms.map(|t| view! {
                    <button class="link-button" id="toggle-panel" title="Show or hide the terminal (Ctrl+`)"
                        aria-expanded=move || t.open.get().to_string() on:click=move |_| t.toggle()>
                        "Terminal"
                    </button>
                })}
                <AccountMenu />
            </header>
            <aside class="sidebar" aria-label="Explorer">
                {sidebar.run()}
            </aside>
            <main class="editor-area">{editor.run()}</main>
            {panel.map(|p| view! { <div class="panel-area">{p.run()}</div> })}
            <StatusBar />
        </div>
    }
}

/// The signed-in user with a sign-out button, or links to sign in.
#[component]
pub fn AccountMenu() -> impl IntoView {
    let user = use_user();
    #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
    let dialogs = use_dialogs();
    let conn = use_connection();
    let error = RwSignal::new(None::<String>);
    let sign_out = move |_| {
        if !conn.online_now() {
            error.set(Some("Offline: signing out needs the server".into()));
            return;
        }
        spawn_local(async move {
            #[cfg(feature = "hydrate")]
            {
                let waiting = super::offline::waiting_saves().await;
                if waiting > 0 {
                    let message = format!(
                        "{waiting} saved change(s) have not reached the server yet. Signing out deletes them from this browser."
                    );
                    return dialogs.confirm("Sign out?", &message, "Sign out", move || {
                        spawn_local(sign_out_now(error))
                    });
                }
            }
            sign_out_now(error).await;
        });
    };
    view! {
        <nav class="topbar-nav">
            <Transition>
                {move || user.get().map(|u| match u.ok().flatten() {
                    Some(u) => view! {
                        {(!u.is_guest).then(|| view! { <a href="/reviews" id="reviews-link">"Reviews"</a> })}
                        <a href="/settings" id="settings-link" title="Settings">"Settings"</a>
                        <a class="user" id="current-user" href="/profile" title="Profile">
                            {if u.is_guest { format!("{} (guest)", u.username) } else { u.username }}
                        </a>
                        <button class="link-button" id="sign-out" on:click=sign_out>"Sign out"</button>
                        <span class="error" role="alert">{move || error.get()}</span>
                    }.into_any(),
                    None => view! {
                        <a href="/login">"Sign in"</a>
                        <a href="/register">"Register"</a>
                    }.into_any(),
                })}
            </Transition>
        </nav>
    }
}

/// Ends the session on the server, then wipes this browser's copy of the user's
/// files; a full load follows, so nothing of the previous user stays in memory.
async fn sign_out_now(error: RwSignal<Option<String>>) {
    if let Err(e) = auth::logout().await {
        return error.set(Some(e.message));
    }
    #[cfg(feature = "hydrate")]
    if let Err(e) = super::offline::forget().await {
        leptos::logging::warn!("{e}");
    }
    let _ = window().location().set_href("/login");
}

/// Saved state, connection state and the server, fetched once hydrated.
#[component]
fn StatusBar() -> impl IntoView {
    // Set from an effect, which runs only in the browser: a resource read here would
    // hold every enclosing Suspense pending on the server.
    let info = RwSignal::new(None);
    let ws = use_context::<Ws>();
    let user = use_user();
    let conn = use_connection();
    let online = move || conn.online();
    // The server's state is asked again whenever the connection comes back.
    Effect::new(move |_| {
        if conn.online() {
            spawn_local(async move { info.set(Some(health_info().await)) });
        }
    });
    let server = move || match info.get() {
        _ if !online() => ("server unreachable".to_string(), "error"),
        None => ("connecting…".to_string(), "pending"),
        Some(Ok(i)) if i.database_ok => (format!("server {} · database ok", i.version), "ok"),
        Some(Ok(i)) => (format!("server {} · database down", i.version), "error"),
        Some(Err(e)) => (format!("offline: {e}"), "error"),
    };
    view! {
        <footer class="statusbar">
            {ws.map(|ws| view! {
                <span id="save-status" class="status">
                    {move || match ws.tabs.unsaved() {
                        0 => "All changes saved".to_string(),
                        1 => "1 unsaved file".to_string(),
                        n => format!("{n} unsaved files"),
                    }}
                </span>
                <span id="sync-status" class="status warn" hidden=move || ws.copy.unsynced.with(|u| u.is_empty())>
                    {move || match ws.copy.unsynced.with(|u| u.len()) {
                        1 => "⇡ 1 file not yet on the server".to_string(),
                        n => format!("⇡ {n} files not yet on the server"),
                    }}
                </span>
                <span id="notice" class="status" class:error=move || ws.notice.get().is_some_and(|n| n.1)
                    title=move || ws.notice.get().map(|n| n.0)>
                    {move || ws.notice.get().map(|n| n.0)}
                </span>
            })}
            <span class="spacer"></span>
            <Transition>
                <span id="status-user" class="status">
                    {move || user.get().and_then(|u| u.ok().flatten()).map(|u| format!("signed in as {}", u.username))}
                </span>
            </Transition>
            {ws.map(|ws| view! {
                <span id="offline-copy" class="status"
                    data-ready=move || (ws.copy.kept.get() && ws.copy.page_kept.get()).to_string()
                    title="This session opens and its files can be read and edited without a connection">
                    {move || (ws.copy.kept.get() && ws.copy.page_kept.get()).then_some("available offline")}
                </span>
            })}
            <span id="connection" class="status" class:error=move || !online() data-online=move || online().to_string()>
                {move || if online() { "online" } else { "offline: working from this device" }}
            </span>
            <span id="server-status" class="status" data-state=move || server().1>
                {move || server().0}
            </span>
        </footer>
    }
}
