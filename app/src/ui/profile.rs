//! The profile: who the user is, and whether they review others' code.

use super::{layout::IdeLayout, use_user};
use crate::api::users;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn Profile() -> impl IntoView {
    let user = use_user();
    // Outlives the form, which is rebuilt when the saved user reloads.
    let notice = RwSignal::new(None::<(String, bool)>);
    view! {
        <IdeLayout
            title=Signal::derive(|| "Profile".to_string())
            sidebar=|| view! { <p class="empty"><a href="/">"Back to your sessions"</a></p> }
            editor=move || view! {
                <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
                    {move || user.get().map(|u| match u.ok().flatten() {
                        None => view! {
                            <div class="auth-page"><p>"Sign in to see your profile."</p>
                            <a class="button primary" href="/login">"Sign in"</a></div>
                        }.into_any(),
                        Some(u) => view! { <ProfileForm user=u notice /> }.into_any(),
                    })}
                </Transition>
            }
        />
    }
}

#[component]
fn ProfileForm(
    user: crate::wire::auth::User,
    notice: RwSignal<Option<(String, bool)>>,
) -> impl IntoView {
    let users = use_user();
    let level = RwSignal::new(user.reviewer_level.to_string());
    let me = user.username.clone();
    let ready = super::use_hydrated();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let wanted = level.get_untracked().parse().unwrap_or(0);
        let me = me.clone();
        spawn_local(async move {
            match users::set_reviewer_level(me, wanted).await {
                Ok(_) => {
                    users.refetch();
                    notice.set(Some(("Saved.".into(), false)));
                }
                Err(e) => notice.set(Some((e.message, true))),
            }
        });
    };
    view! {
        <div class="sessions-page">
            <h1>"Profile"</h1>
            <p>"Username: " <strong>{user.username.clone()}</strong></p>
            {match (user.is_guest, user.email.clone()) {
                (true, _) => view! {
                    <p>"You are trying the IDE as a guest. "
                        <a href="/register">"Register"</a>
                        " to keep your sessions and sign in again later."</p>
                }.into_any(),
                (false, email) => view! { <p>"Email: " {email}</p> }.into_any(),
            }}
            {(!user.is_guest).then(|| view! {
            <form class="form narrow" on:submit=save>
                <label>
                    "Code review"
                    <select id="reviewer-level" bind:value=level>
                        <option value="0">"I do not review code"</option>
                        <option value="1">"Reviewer (junior)"</option>
                        // Only a senior makes someone senior: shown to seniors alone.
                        {(user.reviewer_level >= 2).then(|| view! {
                            <option value="2">"Senior reviewer"</option>
                        })}
                    </select>
                </label>
                <button class="button primary" type="submit" disabled=move || !ready.get()>"Save"</button>
                <p class:error=move || notice.get().is_some_and(|n| n.1) role="status">
                    {move || notice.get().map(|n| n.0)}
                </p>
                <p><a href="/reviews">"Reviews"</a></p>
            </form>
            })}
        </div>
    }
}
