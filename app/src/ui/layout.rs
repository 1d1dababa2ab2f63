//! The IDE frame: top bar, sidebar, editor area, bottom panel and status bar.

use super::{terminal::use_terms, use_user, workspace::Ws};
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
    let sign_out = move |_| {
        spawn_local(async move {
            let _ = auth::logout().await;
            // A full load: nothing of the previous user stays in memory.
            let _ = window().location().set_href("/login");
        });
    };
    view! {
        <nav class="topbar-nav">
            <Transition>
                {move || user.get().map(|u| match u.ok().flatten() {
                    Some(u) => view! {
                        <a class="user" id="current-user" href="/profile" title="Profile">
                            {if u.is_guest { format!("{} (guest)", u.username) } else { u.username }}
                        </a>
                        <button class="link-button" id="sign-out" on:click=sign_out>"Sign out"</button>
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

/// Saved state, connection state and the server, fetched once hydrated.
#[component]
fn StatusBar() -> impl IntoView {
    // Set from an effect, which runs only in the browser: a resource read here would
    // hold every enclosing Suspense pending on the server.
    let info = RwSignal::new(None);
    Effect::new(move |_| spawn_local(async move { info.set(Some(health_info().await)) }));
    let ws = use_context::<Ws>();
    let user = use_user();
    let online = RwSignal::new(true);
    #[cfg(feature = "hydrate")]
    {
        online.set(window().navigator().on_line());
        let h1 = window_event_listener(leptos::ev::online, move |_| online.set(true));
        let h2 = window_event_listener(leptos::ev::offline, move |_| online.set(false));
        on_cleanup(move || {
            h1.remove();
            h2.remove();
        });
    }
    let server = move || match info.get() {
        None => ("connecting…".to_string(), "pending"),
        Some(Ok(i)) if i.database_ok => (format!("server {} · database ok", i.version), "ok"),
        Some(Ok(i)) => (format!("server {} · database down", i.version), "error"),
        Some(Err(e)) => (format!("offline: {e}"), "error"),
    };
    view! {
        <footer class="statusbar">
            {ws.map(|ws| view! {
                <span id="save-status" class="status">
                    {move || match ws.unsaved() {
                        0 => "All changes saved".to_string(),
                        1 => "1 unsaved file".to_string(),
                        n => format!("{n} unsaved files"),
                    }}
                </span>
                <span id="notice" class="status" class:error=move || ws.notice.get().is_some_and(|n| n.1)>
                    {move || ws.notice.get().map(|n| n.0)}
                </span>
            })}
            <span class="spacer"></span>
            <Transition>
                <span id="status-user" class="status">
                    {move || user.get().and_then(|u| u.ok().flatten()).map(|u| format!("signed in as {}", u.username))}
                </span>
            </Transition>
            <span id="connection" class="status" data-online=move || online.get().to_string()>
                {move || if online.get() { "online" } else { "offline" }}
            </span>
            <span id="server-status" class="status" data-state=move || server().1>
                {move || server().0}
            </span>
        </footer>
    }
}
