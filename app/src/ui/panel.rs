//! The panel below the editor: its tabs (terminals, Output, Runs, History) and
//! the view of the one shown.

use super::output::{OutputView, RunsView};
use super::terminal::{use_terms, HistoryView, Link, PanelView, TerminalView};
use super::workspace::use_ws;
use crate::wire::access::Capability;
use leptos::prelude::*;

/// The panel below the editor.
#[component]
pub fn Panel() -> impl IntoView {
    let Some(terms) = use_terms() else {
        return ().into_any();
    };
    let ws = use_ws();
    let can_run = move || ws.can(Capability::Run);
    // The first showing of the panel reattaches to the shells this tab had
    // before a reload, or opens one, as an IDE's console does. A role without
    // terminals (a viewer) has the history only.
    #[cfg(feature = "hydrate")]
    {
        let started = StoredValue::new(false);
        Effect::new(move |_| {
            if !can_run() {
                for key in terms
                    .tabs
                    .with_untracked(|t| t.iter().map(|t| t.key).collect::<Vec<_>>())
                {
                    terms.close(key);
                }
                return;
            }
            if !terms.open.get() || !terms.tabs.with_untracked(Vec::is_empty) {
                return;
            }
            let resume = if started.get_value() {
                Vec::new()
            } else {
                super::terminal::conn::saved(ws.session)
            };
            started.set_value(true);
            if resume.is_empty() {
                terms.add();
            }
            for id in resume {
                terms.add_resuming(Some(id));
            }
        });
    }
    let tab_buttons = move || {
        terms
            .tabs
            .get()
            .into_iter()
            .enumerate()
            .map(|(i, tab)| {
                let key = tab.key;
                let active = move || terms.view.get() == PanelView::Terminal(key);
                view! {
                    <div class="ptab" class:active=active data-term=key
                        data-link=move || tab.link.with(|l| l.id())>
                        <button class="ptab-label" on:click=move |_| terms.view.set(PanelView::Terminal(key))>
                            {format!("Terminal {}", i + 1)}
                            {move || match tab.link.get() {
                                Link::Reconnecting | Link::Connecting => " …".to_string(),
                                Link::Exited(code) => format!(" (exited {code})"),
                                Link::Failed(_) => " (failed)".to_string(),
                                Link::Open => String::new(),
                            }}
                        </button>
                        <button class="ptab-close" aria-label=format!("Close terminal {}", i + 1)
                            title="Close terminal (ends its shell)"
                            on:click=move |_| terms.close(key)>"×"</button>
                    </div>
                }
            })
            .collect_view()
    };
    view! {
        <section class="panel" aria-label="Terminal" class:hidden=move || !terms.open.get()>
            <div class="panel-tabs" role="tablist">
                {tab_buttons}
                <Show when=can_run fallback=move || view! {
                    <span class="panel-note" id="no-terminals">
                        {move || format!("Terminals need an editor role; you are {}", ws.role.get().with_article())}
                    </span>
                }>
                    <button id="new-terminal" class="icon-button" title="New terminal" on:click=move |_| { terms.add(); }>"+"</button>
                </Show>
                {[(PanelView::Output, "output-tab", "Output"), (PanelView::Runs, "runs-tab", "Runs"),
                  (PanelView::History, "history-tab", "History")].map(|(view, id, label)| view! {
                    <div class="ptab" class:active=move || terms.view.get() == view>
                        <button id=id class="ptab-label" on:click=move |_| terms.view.set(view)>{label}</button>
                    </div>
                })}
                <span class="spacer"></span>
                <button class="icon-button" title="Hide panel (Ctrl+`)" aria-label="Hide panel"
                    on:click=move |_| terms.toggle()>"⌄"</button>
            </div>
            <div class="panel-body">
                <For each=move || terms.tabs.get() key=|t| t.key let:tab>
                    <TerminalView tab />
                </For>
                <Show when=move || terms.view.get() == PanelView::History>
                    <HistoryView />
                </Show>
                <Show when=move || terms.view.get() == PanelView::Output>
                    <OutputView />
                </Show>
                <Show when=move || terms.view.get() == PanelView::Runs>
                    <RunsView />
                </Show>
            </div>
        </section>
    }
    .into_any()
}
