//! Quick open (Ctrl+P): files by fuzzy name, ranked as VS Code ranks them, from
//! the page's own tree (so it works offline too). Arrows move, Enter opens,
//! Escape closes.

use super::workspace::use_ws;
use crate::fuzzy;
use crate::wire::files::ItemKind;
use leptos::prelude::*;

/// Results shown at most.
const SHOWN: usize = 30;

/// `close` ends it (the sidebar holds whether it is open).
#[component]
pub fn QuickOpen(close: Callback<()>) -> impl IntoView {
    let ws = use_ws();
    let query = RwSignal::new(String::new());
    let chosen = RwSignal::new(0usize);
    let hits = Memo::new(move |_| {
        let q = query.get();
        ws.tree.items.with(|items| {
            let files = items
                .iter()
                .filter(|i| i.kind == ItemKind::File)
                .map(|i| i.path.as_str());
            fuzzy::rank(&q, files, SHOWN)
        })
    });
    let close = move || close.run(());
    let open = move |i: usize| {
        if let Some((path, _)) = hits.with_untracked(|h| h.get(i).cloned()) {
            close();
            ws.open(path);
        }
    };
    let input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(i) = input.get() {
            let _ = i.focus();
        }
    });
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let count = hits.with_untracked(Vec::len);
        match ev.key().as_str() {
            "ArrowDown" if count > 0 => chosen.update(|c| *c = (*c + 1) % count),
            "ArrowUp" if count > 0 => chosen.update(|c| *c = (*c + count - 1) % count),
            "Enter" => open(chosen.get_untracked()),
            "Escape" => close(),
            _ => return,
        }
        ev.prevent_default();
    };
    view! {
        <div class="modal-backdrop quick-open-backdrop" on:click=move |_| close()>
            <div class="quick-open" role="dialog" aria-label="Go to file" on:click=|ev| ev.stop_propagation()>
                <input id="quick-open-input" node_ref=input placeholder="Go to file by name"
                    aria-label="File name" autocomplete="off"
                    prop:value=move || query.get()
                    on:input=move |ev| {
                        query.set(event_target_value(&ev));
                        chosen.set(0);
                    }
                    on:keydown=on_key />
                <ul class="quick-open-list" role="listbox">
                    {move || hits.get().into_iter().enumerate().map(|(i, (path, (_, positions)))| {
                        let marked: Vec<_> = path.chars().enumerate().map(|(n, c)| {
                            if positions.contains(&(n as u32)) {
                                view! { <b>{c.to_string()}</b> }.into_any()
                            } else {
                                c.to_string().into_any()
                            }
                        }).collect();
                        view! {
                            <li class="quick-open-item" role="option" data-path=path.clone()
                                aria-selected=move || (chosen.get() == i).to_string()
                                class:chosen=move || chosen.get() == i
                                on:click=move |_| open(i)>
                                {marked}
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <Show when=move || hits.with(Vec::is_empty)>
                    <p class="empty">"No file matches."</p>
                </Show>
            </div>
        </div>
    }
    .into_any()
}
