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
    let error = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let ready = super::use_hydrated();
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let navigate = navigate.clone();
        let lang = Language::from_id(&language.get_untracked());
        let n = name.get_untracked();
        let n = if n.trim().is_empty() {
            "Untitled".to_string()
        } else {
            n
        };
        spawn_local(async move {
            match sessions::create_session(n, lang).await {
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
                <select aria-label="Language" bind:value=language>
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
    view! {
        <li class="session-row" data-uuid=uuid.to_string() data-role=s.role.id()>
            <a class="session-name" href=format!("/s/{uuid}")>{s.name.clone()}</a>
            {shared.map(|text| view! { <span class="session-shared">{text}</span> })}
            <span class="session-lang">{s.language.label()}</span>
            <span class="session-time">{s.last_accessed_at.format("%Y-%m-%d %H:%M").to_string()}</span>
            {s.role.allows(Capability::Manage).then(|| view! {
                <button class="link-button" on:click=rename>"Rename"</button>
            })}
            {if s.role.allows(Capability::Delete) {
                view! { <button class="link-button danger" on:click=delete>"Delete"</button> }.into_any()
            } else {
                view! { <button class="link-button danger" on:click=leave>"Leave"</button> }.into_any()
            }}
        </li>
    }
}
