//! The editor area: tabs over one Monaco editor, and the conflict dialog.

use super::output::{runnable, use_output};
use super::workspace::{use_ws, Binary, Conflict};
use crate::paths;
use crate::wire::access::Capability;
use leptos::prelude::*;

#[component]
pub fn EditorArea() -> impl IntoView {
    let ws = use_ws();
    let host = NodeRef::<leptos::html::Div>::new();
    let load_error = RwSignal::new(None::<String>);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(el) = host.get() {
            leptos::task::spawn_local(async move {
                let on_save = move || ws.save_active();
                let on_change = move |path: String| ws.tabs.edited(&path);
                if let Err(e) = super::bridge::mount(el.into(), on_save, on_change).await {
                    load_error.set(Some(e));
                }
            });
        }
    });
    // A viewer's editor takes no typing; the save key says why.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| super::bridge::set_read_only(!ws.can(Capability::Write)));
    #[cfg(feature = "hydrate")]
    {
        // Closing or reloading the tab with unsaved edits asks first.
        let guard = window_event_listener(leptos::ev::beforeunload, move |ev| {
            if ws.tabs.open.with_untracked(|t| t.iter().any(|t| t.dirty)) {
                ev.prevent_default();
            }
        });
        on_cleanup(move || {
            guard.remove();
            super::bridge::unmount();
        });
    }
    let tabs = move || {
        ws.tabs
            .open
            .get()
            .into_iter()
            .map(|tab| {
                let (p1, p2, p3) = (tab.path.clone(), tab.path.clone(), tab.path.clone());
                let unsynced = ws.copy.is_unsynced(&tab.path);
                let active =
                    Memo::new(move |_| ws.tabs.active.with(|a| a.as_deref() == Some(p1.as_str())));
                view! {
                    <div class="tab" class:active=active class:dirty=tab.dirty class:unsynced=unsynced
                        role="tab" aria-selected=move || active.get().to_string()
                        title=if unsynced { format!("{} (saved on this device, not yet on the server)", tab.path) } else { tab.path.clone() }
                        data-path=tab.path.clone()>
                        <button class="tab-label" on:click=move |_| ws.tabs.activate(&p2)>
                            {paths::name(&tab.path).to_string()}
                            {unsynced.then_some(view! { <span class="unsynced-mark">"⇡"</span> })}
                        </button>
                        <button class="tab-close" aria-label=format!("Close {}", tab.path)
                            on:click=move |_| ws.close(&p3)>
                            {if tab.dirty { "●" } else { "×" }}
                        </button>
                    </div>
                }
            })
            .collect_view()
    };
    view! {
        <div class="editor-pane">
            <div class="tabs-bar">
                <div class="tabs" role="tablist">{tabs}</div>
                {move || ws.tabs.active.get().filter(|p| runnable(p)).and_then(|path| {
                    let output = use_output().filter(|_| ws.can(Capability::Run))?;
                    Some(view! {
                        <button class="run-button" id="run-file" on:click=move |_| output.run_active(false)
                            title=format!("Save and run {path} (F5): output in the Output panel")>
                            "▶ Run"
                        </button>
                    })
                })}
            </div>
            <Show when=move || !ws.can(Capability::Write)>
                <div class="read-only-bar" id="read-only" role="status">
                    {move || format!("Read-only: you are {} of this session", ws.role.get().with_article())}
                </div>
            </Show>
            <div class="editor-host" node_ref=host>
                {move || {
                    let path = ws.tabs.active.get()?;
                    let binary = ws.tabs.binary(&path)?;
                    Some(view! { <BinaryView path binary /> })
                }}

                <Show when=move || ws.tabs.active.get().is_none()>
                    <div class="editor-empty">
                        {move || load_error.get().unwrap_or_else(|| {
                            if ws.can(Capability::Write) {
                                "Open a file from the explorer. Ctrl+S saves.".to_string()
                            } else {
                                format!("Open a file from the explorer to read it: you are {} of this session.", ws.role.get().with_article())
                            }
                        })}
                    </div>
                </Show>
            </div>
            {move || ws.tabs.conflict.get().map(|c| view! { <ConflictDialog conflict=c /> })}

        </div>
    }
}

/// A binary file's tab: an image's preview, what the file is, and a download link.
#[component]
pub fn BinaryView(path: String, binary: Binary) -> impl IntoView {
    let url = binary.url();
    let name = paths::name(&path).to_string();
    let preview = binary.media_type.starts_with("image/").then(|| {
        view! { <img class="binary-preview" src=url.clone() alt=format!("Preview of {path}") /> }
    });
    view! {
        <div class="binary-view" id="binary-view" data-path=path.clone()>
            {preview}
            <p class="binary-facts">
                {format!("{name} · {} · {}", size_label(binary.size), binary.media_type)}
            </p>
            <a class="button" download=name href=url>"Download"</a>
        </div>
    }
}

/// A byte count as people read it.
fn size_label(bytes: i64) -> String {
    const UNITS: [&str; 4] = ["bytes", "KiB", "MiB", "GiB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < UNITS.len() {
        size /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{size:.1} {}", UNITS[unit])
    }
}

/// Shown when a save met a newer version on the server: both side by side, and the
/// three ways out. Nothing is lost whichever the user picks.
#[component]
fn ConflictDialog(conflict: Conflict) -> impl IntoView {
    let ws = use_ws();
    let diff = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    {
        let c = conflict.clone();
        let dispose = StoredValue::new_local(None::<js_sys::Function>);
        Effect::new(move |_| {
            if let Some(el) = diff.get() {
                let f = super::monaco::show_diff(&el.into(), &c.path, &c.theirs.content, &c.mine);
                dispose.set_value(Some(f));
            }
        });
        on_cleanup(move || {
            if let Some(f) = dispose.try_get_value().flatten() {
                let _ = f.call0(&wasm_bindgen::JsValue::NULL);
            }
        });
    }
    let (c1, c2, c3) = (conflict.clone(), conflict.clone(), conflict.clone());
    view! {
        <div class="modal-backdrop">
            <div class="modal wide" role="dialog" aria-modal="true" aria-label="Save conflict">
                <h2>"This file changed on the server"</h2>
                <p>
                    {format!(
                        "{} was saved elsewhere (version {}) after you opened it. Left: the saved version. Right: yours.",
                        conflict.path,
                        conflict.theirs.version,
                    )}
                </p>
                <div class="diff-host" node_ref=diff></div>
                <div class="modal-actions">
                    <button class="button" on:click=move |_| ws.copy_mine_aside(c3.clone())>
                        "Copy mine aside"
                    </button>
                    <button class="button" on:click=move |_| ws.take_theirs(c2.clone())>
                        "Take theirs"
                    </button>
                    <button class="button primary" on:click=move |_| ws.keep_mine(c1.clone())>
                        "Keep mine"
                    </button>
                </div>
            </div>
        </div>
    }
}
