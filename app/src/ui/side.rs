//! The session page's sidebar: an activity bar switching between the explorer,
//! search, history and the assistant, as in VS Code, with their keys (Ctrl+Shift+E, Ctrl+Shift+F,
//! Ctrl+Shift+Y) and quick open (Ctrl+P).

use super::assistant::AssistantView;
use super::history::HistoryView;
use super::quick_open::QuickOpen;
use super::search::SearchView;
use super::tree::FileTree;
use leptos::prelude::*;

const FILES_ICON: &str =
    "M14 3H7a2 2 0 0 0-2 2v12a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8zM14 3v5h5M9 21h8";
const SEARCH_ICON: &str = "M10.5 17a6.5 6.5 0 1 0 0-13 6.5 6.5 0 0 0 0 13zM15.5 15.5 21 21";
const HISTORY_ICON: &str = "M3 12a9 9 0 1 0 3-6.7M3 4v4h4M12 7v5l3 3";
const ASSISTANT_ICON: &str = "M4 5h16v11H9l-5 4zM8 9h8M8 12h5";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SideView {
    Explorer,
    Search,
    History,
    Assistant,
}

/// The sidebar's state, shared with the keys that switch it.
#[derive(Clone, Copy)]
struct Side {
    view: RwSignal<SideView>,
    quick_open: RwSignal<bool>,
}

#[component]
pub fn SidePanel() -> impl IntoView {
    super::assistant::Chat::provide(super::workspace::use_ws());
    let side = Side {
        view: RwSignal::new(SideView::Explorer),
        quick_open: RwSignal::new(false),
    };
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
    let button = move |view: SideView,
                       id: &'static str,
                       icon: &'static str,
                       label: &'static str| {
        view! {
            <button class="activity-button" id=id title=label aria-label=label
                aria-pressed=move || (side.view.get() == view).to_string()
                class:active=move || side.view.get() == view
                on:click=move |_| side.view.set(view)>
                <svg viewBox="0 0 24 24" width="22" height="22" fill="none" stroke="currentColor"
                    stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
                    <path d=icon />
                </svg>
            </button>
        }
    };
    view! {
        <div class="side">
            <nav class="activity" aria-label="Views">
                {button(SideView::Explorer, "view-explorer", FILES_ICON, "Explorer (Ctrl+Shift+E)")}
                {button(SideView::Search, "view-search", SEARCH_ICON, "Search (Ctrl+Shift+F)")}
                {button(SideView::History, "view-history", HISTORY_ICON, "History (Ctrl+Shift+Y)")}
                {button(SideView::Assistant, "view-assistant", ASSISTANT_ICON, "Assistant")}
            </nav>
            <div class="side-view">
                {move || match side.view.get() {
                    SideView::Explorer => view! { <FileTree /> }.into_any(),
                    SideView::Search => view! { <SearchView /> }.into_any(),
                    SideView::History => view! { <HistoryView /> }.into_any(),
                    SideView::Assistant => view! { <AssistantView /> }.into_any(),
                }}
            </div>
        </div>
        {move || side.quick_open.get().then(|| view! {
            <QuickOpen close=Callback::new(move |()| side.quick_open.set(false)) />
        }.into_any())}
    }
    .into_any()
}
