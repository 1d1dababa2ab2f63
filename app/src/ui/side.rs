//! The session page's sidebar: an activity bar switching between the explorer,
//! search and history, as in VS Code, with their keys (Ctrl+Shift+E, Ctrl+Shift+F,
//! Ctrl+Shift+Y) and quick open (Ctrl+P).

use super::history::HistoryView;
use super::quick_open::QuickOpen;
use super::search::SearchView;
use super::tree::FileTree;
use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SideView {
    Explorer,
    Search,
    History,
}

/// The sidebar's state, shared with the keys that switch it.
#[derive(Clone, Copy)]
pub struct Side {
    pub view: RwSignal<SideView>,
    pub quick_open: RwSignal<bool>,
}

pub fn use_side() -> Side {
    expect_context::<Side>()
}

impl Side {
    pub fn provide() -> Self {
        let s = Self {
            view: RwSignal::new(SideView::Explorer),
            quick_open: RwSignal::new(false),
        };
        provide_context(s);
        s
    }
}

#[component]
pub fn SidePanel() -> impl IntoView {
    let side = Side::provide();
    #[cfg(feature = "hydrate")]
    {
        let keys = window_event_listener(leptos::ev::keydown, move |ev| {
            let ctrl = ev.ctrl_key() || ev.meta_key();
            let view = match (ctrl, ev.shift_key(), ev.code().as_str()) {
                (true, true, "KeyE") => Some(SideView::Explorer),
                (true, true, "KeyF") => Some(SideView::Search),
                (true, true, "KeyY") => Some(SideView::History),
                (true, false, "KeyP") => {
                    ev.prevent_default();
                    side.quick_open.set(true);
                    None
                }
                _ => None,
            };
            if let Some(view) = view {
                ev.prevent_default();
                side.view.set(view);
            }
        });
        on_cleanup(move || keys.remove());
    }
    let button =
        move |view: SideView, id: &'static str, icon: &'static str, label: &'static str| {
            view! {
                <button class="activity-button" id=id title=label aria-label=label
                    aria-pressed=move || (side.view.get() == view).to_string()
                    class:active=move || side.view.get() == view
                    on:click=move |_| side.view.set(view)>
                    {icon}
                </button>
            }
        };
    view! {
        <div class="side">
            <nav class="activity" aria-label="Views">
                {button(SideView::Explorer, "view-explorer", "🗀", "Explorer (Ctrl+Shift+E)")}
                {button(SideView::Search, "view-search", "⌕", "Search (Ctrl+Shift+F)")}
                {button(SideView::History, "view-history", "🕘", "History (Ctrl+Shift+Y)")}
            </nav>
            <div class="side-view">
                {move || match side.view.get() {
                    SideView::Explorer => view! { <FileTree /> }.into_any(),
                    SideView::Search => view! { <SearchView /> }.into_any(),
                    SideView::History => view! { <HistoryView /> }.into_any(),
                }}
            </div>
        </div>
        {move || side.quick_open.get().then(|| view! { <QuickOpen /> }.into_any())}
    }
    .into_any()
}
