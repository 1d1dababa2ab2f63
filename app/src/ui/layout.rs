//! The IDE frame: top bar, sidebar, editor area, bottom panel and status bar.

use crate::api::health::health_info;
use leptos::prelude::*;

/// The whole IDE frame; `sidebar`, `editor` and `panel` fill its regions.
#[component]
pub fn IdeLayout(
    title: Signal<String>,
    #[prop(into)] sidebar: ViewFn,
    #[prop(into)] editor: ViewFn,
    #[prop(into)] panel: ViewFn,
) -> impl IntoView {
    let sidebar_open = RwSignal::new(true);
    view! {
        <div class="ide" class:sidebar-collapsed=move || !sidebar_open.get()>
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
                <nav class="topbar-nav">
                    <a href="/login">"Sign in"</a>
                </nav>
            </header>
            <aside class="sidebar" aria-label="Explorer">
                {sidebar.run()}
            </aside>
            <main class="editor-area">{editor.run()}</main>
            <section class="panel" aria-label="Terminal">{panel.run()}</section>
            <StatusBar />
        </div>
    }
}

/// Server version and database state, fetched once the page has hydrated.
#[component]
fn StatusBar() -> impl IntoView {
    let info = LocalResource::new(health_info);
    let server = move || match info.get() {
        None => ("connecting…".to_string(), "pending"),
        Some(Ok(i)) if i.database_ok => (format!("server {} · database ok", i.version), "ok"),
        Some(Ok(i)) => (format!("server {} · database down", i.version), "error"),
        Some(Err(e)) => (format!("offline: {e}"), "error"),
    };
    view! {
        <footer class="statusbar">
            <span id="server-status" class="status" data-state=move || server().1>
                {move || server().0}
            </span>
        </footer>
    }
}
