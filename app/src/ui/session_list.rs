//! The signed-in user's sessions: open, create, rename, delete.

use super::dialog::use_dialogs;
use crate::api::{sessions, sharing};
use crate::wire::access::{Capability, Role};
use crate::wire::sessions::{CodeSession, Language};
use crate::AppError;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

#[component]
pub fn SessionList(list: Resource<Result<Vec<CodeSession>, AppError>>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let language = RwSignal::new(Language::Python.id().to_string());
    // "": a blank session of the chosen language.
    let template = RwSignal::new(String::new());
    let templates = Resource::new(|| (), |_| sessions::list_templates());
    let error = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let ready = super::use_hydrated();
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let navigate = navigate.clone();
        let t = template.get_untracked();
        // A template brings its own language.
        let lang = if t.is_empty() {
            Language::from_id(&language.get_untracked())
        } else {
            None
        };
        let t = (!t.is_empty()).then_some(t);
        let n = name.get_untracked();
        let n = if n.trim().is_empty() {
            "Untitled".to_string()
        } else {
            n
        };
        spawn_local(async move {
            match sessions::create_session(n, lang, t).await {
                Ok(s) => navigate(&format!("/s/{}", s.uuid), Default::default()),
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    view! {
        <div class="sessions-page">
            <h1>"Your sessions"</h1>
            <form class="new-session" on:submit=create>
                <input placeholder="New session name" aria-label="Session name" bind:value=name />
                <select id="new-template" aria-label="Start from" bind:value=template>
                    <option value="">"Blank"</option>
                    <Transition>
                        {move || templates.get().and_then(Result::ok).map(|list| list.into_iter().map(|t| {
                            let label = if t.mine {
                                format!("{} (your template)", t.name)
                            } else {
                                format!("{} starter", t.name)
                            };
                            view! { <option value=t.id.clone() title=t.description.clone()>{label}</option> }
                        }).collect_view())}
                    </Transition>
                </select>
                <select aria-label="Language" bind:value=language hidden=move || !template.get().is_empty()>
                    {Language::ALL
                        .into_iter()
                        .map(|l| view! { <option value=l.id()>{l.label()}</option> })
                        .collect_view()}
                </select>
                <button class="button primary" type="submit" disabled=move || !ready.get()>"Create session"</button>
            </form>
            <p class="error" role="alert">{move || error.get()}</p>
            <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
                {move || list.get().map(|r| match r {
                    Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                    Ok(list) if list.is_empty() => {
                        view! { <p class="empty">"No sessions yet: create one above."</p> }.into_any()
                    }
                    Ok(sessions) => view! {
                        <ul class="session-list">
                            {sessions.into_iter().map(|s| view! { <SessionRow s list error /> }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Transition>
        </div>
    }
}

#[component]
fn SessionRow(
    s: CodeSession,
    list: Resource<Result<Vec<CodeSession>, AppError>>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let dialogs = use_dialogs();
    let user = super::use_user();
    let uuid = s.uuid;
    let old_name = s.name.clone();
    let rename = move |_| {
        dialogs.prompt("Rename session", &old_name, "Rename", move |new: String| {
            spawn_local(async move {
                match sessions::rename_session(uuid, new).await {
                    Ok(_) => list.refetch(),
                    Err(e) => error.set(Some(e.message)),
                }
            });
        });
    };
    let name = s.name.clone();
    let delete = move |_| {
        let message =
            format!("Delete \"{name}\" with all its files and history? This cannot be undone.");
        dialogs.confirm("Delete session", &message, "Delete", move || {
            spawn_local(async move {
                match sessions::delete_session(uuid).await {
                    Ok(()) => list.refetch(),
                    Err(e) => error.set(Some(e.message)),
                }
            });
        });
    };
    let name = s.name.clone();
    let leave = move |_| {
        let message = format!(
            "Leave \"{name}\"? You will no longer see it unless it is shared with you again."
        );
        dialogs.confirm("Leave session", &message, "Leave", move || {
            spawn_local(async move {
                let me = user.get_untracked().and_then(|u| u.ok().flatten());
                let Some(me) = me else { return };
                match sharing::remove(uuid, me.username).await {
                    Ok(_) => list.refetch(),
                    Err(e) => error.set(Some(e.message)),
                }
            });
        });
    };
    let shared =
        (s.role != Role::Owner).then(|| format!("shared by {} · {}", s.owner, s.role.id()));
    let is_template = s.is_template;
    let toggle_template = move |_| {
        spawn_local(async move {
            match sessions::set_template(uuid, !is_template).await {
                Ok(_) => list.refetch(),
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let forks = match s.forks {
        0 => None,
        1 => Some("1 fork".to_string()),
        n => Some(format!("{n} forks")),
    };
    view! {
        <li class="session-row" data-uuid=uuid.to_string() data-role=s.role.id()>
            <a class="session-name" href=format!("/s/{uuid}")>{s.name.clone()}</a>
            {shared.map(|text| view! { <span class="session-shared">{text}</span> })}
            {is_template.then(|| view! { <span class="session-tag">"template"</span> })}
            {forks.map(|f| view! { <span class="session-forks">{f}</span> })}
            <span class="session-lang">{s.language.label()}</span>
            <span class="session-time">{s.last_accessed_at.format("%Y-%m-%d %H:%M").to_string()}</span>
            {s.role.allows(Capability::Manage).then(|| view! {
                <button class="link-button" on:click=rename>"Rename"</button>
                <button class="link-button template-toggle" on:click=toggle_template
                    title="Templates are offered when you create a session">
                    {if is_template { "Unmark template" } else { "Mark as template" }}
                </button>
            })}
            {if s.role.allows(Capability::Delete) {
                view! { <button class="link-button danger" on:click=delete>"Delete"</button> }.into_any()
            } else {
                view! { <button class="link-button danger" on:click=leave>"Leave"</button> }.into_any()
            }}
        </li>
    }
}
