//! The Share dialog of a session page: who has access and with which role. The
//! owner and admins share with other users by username or email, change roles
//! and remove access; anyone may leave a session shared with them. The list
//! follows changes made elsewhere (the events stream).

use super::workspace::use_ws;
use crate::api::sharing;
use crate::wire::access::{Capability, Role};
use crate::wire::sharing::Share;
use crate::AppError;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The top bar's Share button, with the user's role when it is not the owner's.
#[component]
pub fn ShareButton() -> impl IntoView {
    let ws = use_ws();
    let open = RwSignal::new(false);
    view! {
        <Show when=move || ws.role.get() != Role::Owner>
            <span class="role-badge" id="my-role" title="Your role in this session">
                {move || ws.role.get().id()}
            </span>
        </Show>
        <button class="link-button" id="share-button" title="Who has access to this session"
            on:click=move |_| open.set(true)>
            "Share"
        </button>
        {move || open.get().then(|| view! { <ShareDialog close=Callback::new(move |()| open.set(false)) /> }.into_any())}
    }
}

/// The top bar's Fork button: a copy of the session's current files, as a new
/// session of one's own.
#[component]
pub fn ForkButton() -> impl IntoView {
    let ws = use_ws();
    let navigate = leptos_router::hooks::use_navigate();
    let fork = move |_| {
        let navigate = navigate.clone();
        spawn_local(async move {
            match crate::api::sessions::fork_session(Some(ws.session), None, None).await {
                Ok(s) => navigate(&format!("/s/{}", s.uuid), Default::default()),
                Err(e) => ws.fail(e),
            }
        });
    };
    view! {
        <button class="link-button" id="fork-session" title="Copy this session's files into a new session of yours"
            on:click=fork>
            "Fork"
        </button>
    }
}

#[component]
fn ShareDialog(close: Callback<()>) -> impl IntoView {
    let ws = use_ws();
    let user = super::use_user();
    let list = RwSignal::new(None::<Vec<Share>>);
    let error = RwSignal::new(None::<String>);
    let who = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Viewer.id().to_string());
    let shown = move |r: Result<Vec<Share>, AppError>| match r {
        Ok(l) => {
            list.set(Some(l));
            error.set(None);
        }
        Err(e) => error.set(Some(e.message)),
    };
    Effect::new(move |_| {
        ws.sharing.track();
        spawn_local(async move { shown(sharing::list(ws.session).await) });
    });
    let manage = move || ws.can(Capability::Manage);
    let share = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let user = who.get_untracked();
        let Some(r) = Role::from_id(&role.get_untracked()) else {
            return;
        };
        spawn_local(async move {
            let done = sharing::set(ws.session, user.clone(), r).await;
            if done.is_ok() {
                who.set(String::new());
                ws.tell(format!(
                    "{} is now {} of this session",
                    user.trim(),
                    r.with_article()
                ));
            }
            shown(done);
        });
    };
    let rows = move || {
        let me = user
            .get_untracked()
            .and_then(|u| u.ok().flatten())
            .map(|u| u.username);
        list.get().unwrap_or_default().into_iter().map(move |s| {
            let name = s.user.clone();
            let mine = me.as_deref() == Some(name.as_str());
            let change = {
                let name = name.clone();
                move |ev: leptos::ev::Event| {
                    let Some(r) = Role::from_id(&event_target_value(&ev)) else { return };
                    let name = name.clone();
                    spawn_local(async move { shown(sharing::set(ws.session, name, r).await) });
                }
            };
            let remove = {
                let name = name.clone();
                move |_| {
                    let name = name.clone();
                    spawn_local(async move {
                        match sharing::remove(ws.session, name).await {
                            // Left: nothing here is ours to see any more.
                            Ok(_) if mine => { let _ = window().location().set_href("/"); }
                            r => shown(r),
                        }
                    });
                }
            };
            let editable = manage() && s.role != Role::Owner && !mine;
            view! {
                <li class="share-row" data-user=name.clone()>
                    <span class="share-user">{name.clone()}{mine.then_some(" (you)")}</span>
                    {if editable {
                        view! {
                            <select class="share-role" aria-label=format!("Role of {name}") on:change=change>
                                {Role::SHARED.into_iter().map(|r| view! {
                                    <option value=r.id() selected=r == s.role>{r.id()}</option>
                                }).collect_view()}
                            </select>
                        }.into_any()
                    } else {
                        view! { <span class="share-role">{s.role.id()}</span> }.into_any()
                    }}
                    {(editable || (mine && s.role != Role::Owner)).then(|| view! {
                        <button class="link-button danger" on:click=remove>
                            {if mine { "Leave" } else { "Remove" }}
                        </button>
                    })}
                </li>
            }
            .into_any()
        }).collect_view()
    };
    view! {
        <div class="modal-backdrop" on:keydown=move |ev| if ev.key() == "Escape" { close.run(()) }>
            <div class="modal share-dialog" role="dialog" aria-modal="true" aria-label="Share">
                <h2>"Share this session"</h2>
                <Show when=manage fallback=|| view! {
                    <p class="hint">"The owner and admins decide who has access."</p>
                }>
                    <form class="share-form" on:submit=share>
                        <input id="share-user" placeholder="Username or email" aria-label="Username or email"
                            required bind:value=who />
                        <select id="share-role" aria-label="Role" bind:value=role>
                            {Role::SHARED.into_iter().map(|r| view! { <option value=r.id()>{r.id()}</option> }).collect_view()}
                        </select>
                        <button class="button primary" type="submit">"Share"</button>
                    </form>
                    <p class="hint">"Viewers read files and the terminal history; editors also edit files and use terminals; admins also manage sharing."</p>
                </Show>
                <p class="error" role="alert">{move || error.get()}</p>
                <ul class="share-list" aria-label="People with access">{rows}</ul>
                <Show when=manage>
                    <super::links::PublicLinks />
                </Show>
                <div class="modal-actions">
                    <button class="button" on:click=move |_| close.run(())>"Done"</button>
                </div>
            </div>
        </div>
    }
    .into_any()
}
