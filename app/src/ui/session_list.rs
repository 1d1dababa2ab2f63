//! The signed-in user's sessions: open, create, rename, delete.

use super::dialog::use_dialogs;
use crate::api::{sessions, sharing};
use crate::wire::access::{Capability, Role};
use crate::wire::sessions::{split_tags, CodeSession, Language, Scope, SessionFilter, Sort};
use crate::AppError;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

#[component]
pub fn SessionList(
    list: Resource<Result<Vec<CodeSession>, AppError>>,
    filter: RwSignal<SessionFilter>,
) -> impl IntoView {
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
            <Filters filter />
            <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
                {move || list.get().map(|r| match r {
                    Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                    Ok(list) if list.is_empty() && filter.with(|f| *f != SessionFilter::default()) => {
                        view! { <p class="empty">"No session matches."</p> }.into_any()
                    }
                    Ok(list) if list.is_empty() => {
                        view! { <p class="empty">"No sessions yet: create one above."</p> }.into_any()
                    }
                    Ok(sessions) => view! {
                        <ul class="session-list">
                            {sessions.into_iter().map(|s| view! { <SessionRow s list error filter /> }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Transition>
        </div>
    }
}

/// Search, filters and order of the list; each change asks the server again.
#[component]
fn Filters(filter: RwSignal<SessionFilter>) -> impl IntoView {
    let set = move |f: fn(&mut SessionFilter, String)| {
        move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            filter.update(|flt| f(flt, v));
        }
    };
    view! {
        <div class="session-filters" role="search">
            <input id="session-search" type="search" placeholder="Search name, description, tags"
                aria-label="Search sessions"
                on:input=set(|f, v| f.query = v) />
            <select id="session-language" aria-label="Filter by language"
                on:change=set(|f, v| f.language = Language::from_id(&v))>
                <option value="">"Any language"</option>
                {Language::ALL.into_iter().map(|l| view! { <option value=l.id()>{l.label()}</option> }).collect_view()}
            </select>
            <input id="session-tag" placeholder="Tag" aria-label="Filter by tag" size="10"
                on:change=set(|f, v| f.tag = Some(v).filter(|t| !t.trim().is_empty())) />
            <select id="session-scope" aria-label="Whose"
                on:change=set(|f, v| f.scope = Scope::parse(&v).ok())>
                <option value="all">"All"</option>
                <option value="owned">"Owned by me"</option>
                <option value="shared">"Shared with me"</option>
            </select>
            <select id="session-sort" aria-label="Order"
                on:change=set(|f, v| f.sort = Sort::parse(&v).ok())>
                <option value="recent">"Last opened"</option>
                <option value="name">"Name"</option>
                <option value="created">"Created"</option>
            </select>
        </div>
    }
}

#[component]
fn SessionRow(
    s: CodeSession,
    list: Resource<Result<Vec<CodeSession>, AppError>>,
    error: RwSignal<Option<String>>,
    filter: RwSignal<SessionFilter>,
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
    let editing = RwSignal::new(false);
    let description = RwSignal::new(s.description.clone());
    let tags = RwSignal::new(s.tags.join(", "));
    let save_details = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (d, t) = (
            description.get_untracked(),
            split_tags(&tags.get_untracked()),
        );
        spawn_local(async move {
            match sessions::describe_session(uuid, d, t).await {
                Ok(_) => {
                    editing.set(false);
                    list.refetch();
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let list_tag = move |t: String| filter.update(|f| f.tag = Some(t));
    let forks = match s.forks {
        0 => None,
        1 => Some("1 fork".to_string()),
        n => Some(format!("{n} forks")),
    };
    view! {
        <li class="session-row" data-uuid=uuid.to_string() data-role=s.role.id()>
            <span class="session-main">
                <a class="session-name" href=format!("/s/{uuid}")>{s.name.clone()}</a>
                {(!s.description.is_empty()).then(|| view! { <span class="session-description">{s.description.clone()}</span> })}
                <span class="session-tags">
                    {s.tags.iter().map(|t| {
                        let t2 = t.clone();
                        view! {
                            <button class="tag" title="Show sessions with this tag"
                                on:click=move |_| list_tag(t2.clone())>{format!("#{t}")}</button>
                        }
                    }).collect_view()}
                </span>
            </span>
            {shared.map(|text| view! { <span class="session-shared">{text}</span> })}
            {is_template.then(|| view! { <span class="session-tag">"template"</span> })}
            {forks.map(|f| view! { <span class="session-forks">{f}</span> })}
            <span class="session-lang">{s.language.label()}</span>
            <span class="session-time">{s.last_accessed_at.format("%Y-%m-%d %H:%M").to_string()}</span>
            {s.role.allows(Capability::Manage).then(|| view! {
                <button class="link-button" on:click=rename>"Rename"</button>
                <button class="link-button details" on:click=move |_| editing.update(|e| *e = !*e)>"Details"</button>
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
        <Show when=move || editing.get()>
            <li class="session-details-form">
                <form class="form" on:submit=save_details aria-label="Description and tags">
                    <label>"Description"
                        <textarea class="details-description" rows="2" maxlength="2000" bind:value=description></textarea>
                    </label>
                    <label>"Tags (separated by commas)"
                        <input class="details-tags" bind:value=tags />
                    </label>
                    <span>
                        <button class="button primary" type="submit">"Save"</button>
                        <button class="button" type="button" on:click=move |_| editing.set(false)>"Cancel"</button>
                    </span>
                </form>
            </li>
        </Show>
    }
}
