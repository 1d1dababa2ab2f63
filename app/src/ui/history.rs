//! The History view: the Timeline of the open file (its versions; one opens a
//! diff against the current content or the version before, and can be
//! restored), Recently deleted (files and folders brought back with their
//! history), and Checkpoints (named snapshots of the workspace: compare, restore,
//! undo a restore).

use super::dialog::use_dialogs;
use super::workspace::{use_ws, Ws};
use crate::api::{checkpoints, history};
use crate::wire::access::Capability;
use crate::wire::history::{Checkpoint, CheckpointDiff, DeletedItem, PrunedVersions, Version};
use crate::AppError;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::task::spawn_local;

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A version's author and source, as the Timeline says it.
fn by(v: &Version) -> String {
    match &v.author {
        Some(a) => format!("{} · {a}", v.source.label()),
        None => v.source.label().to_string(),
    }
}

#[component]
pub fn HistoryView() -> impl IntoView {
    view! {
        <div class="history-view">
            <div class="view-head"><span>"History"</span></div>
            <Timeline />
            <Deleted />
            <Checkpoints />
        </div>
    }
    .into_any()
}

/// What the Timeline shows a diff of.
#[derive(Clone)]
struct Compare {
    path: String,
    version: Version,
    /// The version before it, when there is one.
    previous: Option<Version>,
}

#[component]
fn Timeline() -> impl IntoView {
    let ws = use_ws();
    let versions = RwSignal::new(None::<Result<(Vec<Version>, Vec<PrunedVersions>), AppError>>);
    let compare = RwSignal::new(None::<Compare>);
    // The open file's history, again whenever the files change.
    Effect::new(move |_| {
        ws.tree.items.track();
        let Some(path) = ws.tabs.active.get() else {
            return versions.set(None);
        };
        spawn_local(async move {
            let listed = history::list(ws.session, path.clone()).await;
            let got = match listed {
                Ok(v) => history::pruned(ws.session, path).await.map(|p| (v, p)),
                Err(e) => Err(e),
            };
            versions.set(Some(got));
        });
    });
    view! {
        <details class="history-section" open id="timeline">
            <summary>{move || match ws.tabs.active.get() {
                Some(p) => format!("Timeline: {}", crate::paths::name(&p)),
                None => "Timeline".to_string(),
            }}</summary>
            {move || match versions.get() {
                None => view! { <p class="empty">"Open a file to see its versions."</p> }.into_any(),
                Some(Err(e)) => view! { <p class="empty error">{e.message}</p> }.into_any(),
                Some(Ok((list, pruned))) => {
                    let path = ws.tabs.active.get_untracked().unwrap_or_default();
                    let rows = list.iter().enumerate().map(|(i, v)| {
                        let c = Compare {
                            path: path.clone(),
                            version: v.clone(),
                            previous: list.get(i + 1).cloned(),
                        };
                        let current = i == 0;
                        view! {
                            <button class="version-row" data-version=v.version title=v.path.clone()
                                on:click=move |_| compare.set(Some(c.clone()))>
                                <span class="version-no">{format!("v{}", v.version)}</span>
                                <span class="version-text">
                                    <span class="version-by">{by(v)}</span>
                                    <span class="version-when">{when(v.created_at)}</span>
                                </span>
                                {current.then_some(view! { <span class="version-current">"current"</span> })}
                            </button>
                        }
                    }).collect_view();
                    let dropped = pruned.into_iter().map(|p| view! {
                        <p class="hint pruned">{format!(
                            "{} older version(s) from {} to {} were dropped on {} ({})",
                            p.versions, when(p.oldest), when(p.newest), when(p.pruned_at),
                            if p.reason == "quota" { "the session's history was over its size limit" }
                            else { "past the full retention, one version a day is kept" },
                        )}</p>
                    }).collect_view();
                    view! { <div class="versions">{rows}</div>{dropped} }.into_any()
                }
            }}
            {move || compare.get().map(|c| view! {
                <VersionDiff compare=c close=Callback::new(move |()| compare.set(None)) />
            }.into_any())}
        </details>
    }
    .into_any()
}

/// A version against the current content (or the version before it), and
/// Restore, through the usual save and its conflict check.
#[component]
fn VersionDiff(compare: Compare, close: Callback<()>) -> impl IntoView {
    let ws = use_ws();
    let against_previous = RwSignal::new(false);
    let texts = RwSignal::new(None::<Result<(String, String), AppError>>);
    let c = compare.clone();
    Effect::new(move |_| {
        let previous = against_previous.get();
        let c = c.clone();
        spawn_local(async move {
            let this = history::read(ws.session, c.path.clone(), c.version.version).await;
            let other = match (previous, &c.previous) {
                (true, Some(p)) => history::read(ws.session, c.path.clone(), p.version)
                    .await
                    .map(|v| v.content),
                (true, None) => Ok(String::new()),
                (false, _) => super::bridge::content(&c.path)
                    .map(Ok)
                    .unwrap_or_else(|| Ok(String::new())),
            };
            texts.set(Some(this.and_then(|t| other.map(|o| (t.content, o)))));
        });
    });
    let host = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    {
        let dispose = StoredValue::new_local(None::<js_sys::Function>);
        let path = compare.path.clone();
        Effect::new(move |_| {
            let (Some(el), Some(Ok((this, other)))) = (host.get(), texts.get()) else {
                return;
            };
            if let Some(f) = dispose.get_value() {
                let _ = f.call0(&wasm_bindgen::JsValue::NULL);
            }
            let (left, right) = if against_previous.get_untracked() {
                (other, this)
            } else {
                (this, other)
            };
            dispose.set_value(Some(super::monaco::show_diff(
                &el.into(),
                &path,
                &left,
                &right,
            )));
        });
        on_cleanup(move || {
            if let Some(f) = dispose.try_get_value().flatten() {
                let _ = f.call0(&wasm_bindgen::JsValue::NULL);
            }
        });
    }
    let v = compare.version.clone();
    let path = compare.path.clone();
    let restore = move |_| restore_version(ws, path.clone(), v.version, close);
    view! {
        <div class="modal-backdrop" on:keydown=move |ev| if ev.key() == "Escape" { close.run(()) }>
            <div class="modal wide" role="dialog" aria-modal="true" aria-label="Version" id="version-diff">
                <h2>{format!("{} v{} · {} · {}", compare.path, compare.version.version, when(compare.version.created_at), by(&compare.version))}</h2>
                <p class="hint">{move || if against_previous.get() {
                    "Left: the version before. Right: this version."
                } else {
                    "Left: this version. Right: the file in the editor now."
                }}</p>
                <div class="diff-host" node_ref=host></div>
                <p class="error">{move || texts.get().and_then(|t| t.err()).map(|e| e.message)}</p>
                <div class="modal-actions">
                    <label class="check">
                        <input type="checkbox" id="against-previous"
                            prop:checked=move || against_previous.get()
                            on:change=move |ev| against_previous.set(event_target_checked(&ev)) />
                        "Compare with the version before"
                    </label>
                    <button class="button" on:click=move |_| close.run(())>"Close"</button>
                    <Show when=move || ws.can(Capability::Write)>
                        <button class="button primary" id="restore-version" on:click=restore.clone()>
                            "Restore this version"
                        </button>
                    </Show>
                </div>
            </div>
        </div>
    }
    .into_any()
}

/// Makes `version` the content of `path`: a new version, based on what the editor
/// shows (a file with unsaved edits is left alone).
fn restore_version(ws: Ws, path: String, version: i32, done: Callback<()>) {
    if ws.lacks(Capability::Write) {
        return;
    }
    if ws.tabs.is_dirty(&path) {
        return ws.fail(AppError::invalid(format!(
            "{path} has unsaved edits: save or discard them before restoring a version"
        )));
    }
    let base = ws.tabs.base(&path).or_else(|| {
        ws.tree.items.with_untracked(|i| {
            i.iter()
                .find(|i| i.path == path)
                .and_then(|i| i.hash.clone())
        })
    });
    let Some(base) = base else { return };
    spawn_local(async move {
        match history::restore(ws.session, path.clone(), version, base).await {
            Ok(_) => {
                done.run(());
                ws.tell(format!("{path} is back to version {version}"));
                ws.reload_from_server();
            }
            Err(e) => ws.fail(e),
        }
    });
}

#[component]
fn Deleted() -> impl IntoView {
    let ws = use_ws();
    let dialogs = use_dialogs();
    let items = RwSignal::new(None::<Result<Vec<DeletedItem>, AppError>>);
    Effect::new(move |_| {
        ws.tree.items.track();
        spawn_local(async move { items.set(Some(history::deleted(ws.session).await)) });
    });
    let bring_back = move |path: String, to: Option<String>| {
        if ws.lacks(Capability::Write) {
            return;
        }
        spawn_local(async move {
            match history::undelete(ws.session, path.clone(), to.clone()).await {
                Ok(_) => {
                    let at = to.unwrap_or(path);
                    ws.tree.expand_to(&format!("{at}/x"));
                    ws.tell(format!("{at} is back"));
                    ws.refresh();
                }
                Err(e) => ws.fail(e),
            }
        });
    };
    view! {
        <details class="history-section" open id="recently-deleted">
            <summary>"Recently deleted"</summary>
            {move || match items.get() {
                None => ().into_any(),
                Some(Err(e)) => view! { <p class="empty error">{e.message}</p> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! { <p class="empty">"Nothing deleted."</p> }.into_any(),
                Some(Ok(list)) => list.into_iter().map(|d| {
                    let (p1, p2) = (d.path.clone(), d.path.clone());
                    let inside = d.root != d.path;
                    let folder = d.kind == crate::wire::files::ItemKind::Folder;
                    view! {
                        <div class="deleted-row" data-path=d.path.clone() class:inside=inside>
                            <span class="deleted-path" title=format!("deleted {} by {} ({})", when(d.deleted_at),
                                d.deleted_by.clone().unwrap_or_default(), d.source.label())>
                                {if folder { format!("{}/", d.path) } else { d.path.clone() }}
                            </span>
                            <Show when=move || ws.can(Capability::Write)>
                                <button class="link-button restore" title="Restore where it was"
                                    on:click={let p = p1.clone(); move |_| bring_back(p.clone(), None)}>"Restore"</button>
                                <button class="link-button" title="Restore under another path"
                                    on:click={let p = p2.clone(); move |_| {
                                        let p = p.clone();
                                        dialogs.prompt("Restore as", &p.clone(), "Restore", move |to: String| {
                                            bring_back(p.clone(), Some(to.trim().to_string()))
                                        });
                                    }}>"As…"</button>
                            </Show>
                        </div>
                    }
                }).collect_view().into_any(),
            }}
        </details>
    }
    .into_any()
}

#[component]
fn Checkpoints() -> impl IntoView {
    let ws = use_ws();
    let dialogs = use_dialogs();
    let list = RwSignal::new(None::<Result<Vec<Checkpoint>, AppError>>);
    let diff = RwSignal::new(None::<(Checkpoint, CheckpointDiff)>);
    let reload =
        move || spawn_local(async move { list.set(Some(checkpoints::list(ws.session).await)) });
    Effect::new(move |_| {
        ws.tree.items.track();
        reload();
    });
    let create = move |_| {
        if ws.lacks(Capability::Write) {
            return;
        }
        dialogs.prompt("New checkpoint", "", "Create", move |label: String| {
            spawn_local(async move {
                match checkpoints::create(ws.session, label).await {
                    Ok(c) => {
                        ws.tell(format!("Checkpoint “{}” made", c.label));
                        reload();
                    }
                    Err(e) => ws.fail(e),
                }
            });
        });
    };
    let restore = move |c: Checkpoint| {
        if ws.lacks(Capability::Write) {
            return;
        }
        let message = format!(
            "Make the workspace what it was at “{}”? A checkpoint of how it is now is made first, so this can be undone.",
            c.label
        );
        dialogs.confirm("Restore checkpoint", &message, "Restore", move || {
            let id = c.id;
            let label = c.label.clone();
            spawn_local(async move {
                match checkpoints::restore(ws.session, id).await {
                    Ok(r) => {
                        let n = r.diff.added.len() + r.diff.removed.len() + r.diff.changed.len();
                        ws.tell(format!("Restored “{label}” ({n} file(s) changed); the checkpoint before it undoes it"));
                        ws.reload_from_server();
                        reload();
                    }
                    Err(e) => ws.fail(e),
                }
            });
        });
    };
    let compare = move |c: Checkpoint| {
        spawn_local(async move {
            match checkpoints::diff(ws.session, c.id).await {
                Ok(d) => diff.set(Some((c, d))),
                Err(e) => ws.fail(e),
            }
        });
    };
    view! {
        <details class="history-section" open id="checkpoints">
            <summary>"Checkpoints"</summary>
            <Show when=move || ws.can(Capability::Write)>
                <button class="link-button" id="new-checkpoint" on:click=create>"+ New checkpoint"</button>
            </Show>
            {move || match list.get() {
                None => ().into_any(),
                Some(Err(e)) => view! { <p class="empty error">{e.message}</p> }.into_any(),
                Some(Ok(l)) if l.is_empty() => view! { <p class="empty">"No checkpoints yet."</p> }.into_any(),
                Some(Ok(l)) => l.into_iter().map(|c| {
                    let (c1, c2) = (c.clone(), c.clone());
                    view! {
                        <div class="checkpoint-row" data-label=c.label.clone()>
                            <span class="checkpoint-label" title=format!("{} files · {}", c.files, c.author.clone().unwrap_or_default())>
                                {c.label.clone()}{c.auto.then_some(" (auto)")}
                            </span>
                            <span class="version-when">{when(c.created_at)}</span>
                            <button class="link-button" on:click=move |_| compare(c1.clone())>"Compare"</button>
                            <Show when=move || ws.can(Capability::Write)>
                                <button class="link-button" on:click={let c = c2.clone(); move |_| restore(c.clone())}>"Restore"</button>
                            </Show>
                        </div>
                    }
                }).collect_view().into_any(),
            }}
            {move || diff.get().map(|(c, d)| view! {
                <div class="modal-backdrop">
                    <div class="modal" role="dialog" aria-modal="true" aria-label="Checkpoint difference">
                        <h2>{format!("Since “{}”", c.label)}</h2>
                        {[("Added", d.added), ("Removed", d.removed), ("Changed", d.changed)].into_iter().map(|(t, l)| view! {
                            <p><strong>{t}</strong>": "{if l.is_empty() { "nothing".to_string() } else { l.join(", ") }}</p>
                        }).collect_view()}
                        <div class="modal-actions">
                            <button class="button" on:click=move |_| diff.set(None)>"Close"</button>
                        </div>
                    </div>
                </div>
            }.into_any())}
        </details>
    }
    .into_any()
}
