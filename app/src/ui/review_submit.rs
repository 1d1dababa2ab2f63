//! "Submit for review" in the IDE's top bar (owner, admins and editors): a title,
//! a Markdown description, a priority and, optionally, a reviewer. The request
//! records the version of every file; its page opens after.

use super::workspace::use_ws;
use crate::api::reviews;
use crate::wire::access::Capability;
use crate::wire::reviews::Priority;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn SubmitButton() -> impl IntoView {
    let ws = use_ws();
    let open = RwSignal::new(false);
    view! {
        <Show when=move || ws.can(Capability::Write)>
            <button class="link-button" id="submit-review" title="Ask a reviewer to look at this session"
                on:click=move |_| open.set(true)>
                "Submit for review"
            </button>
        </Show>
        {move || open.get().then(|| view! { <SubmitDialog close=Callback::new(move |()| open.set(false)) /> })}
    }
}

#[component]
fn SubmitDialog(close: Callback<()>) -> impl IntoView {
    let ws = use_ws();
    let title = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let priority = RwSignal::new(Priority::Medium.id().to_string());
    let reviewer = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        spawn_local(async move {
            let who = reviewer.get_untracked();
            let made = reviews::submit(
                ws.session,
                title.get_untracked(),
                description.get_untracked(),
                priority.get_untracked(),
                (!who.trim().is_empty()).then_some(who),
            )
            .await;
            busy.set(false);
            match made {
                Ok(r) => {
                    let _ = window()
                        .location()
                        .set_href(&format!("/reviews/{}", r.summary.id));
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    view! {
        <div class="modal-backdrop" on:keydown=move |ev| if ev.key() == "Escape" { close.run(()) }>
            <form class="modal" role="dialog" aria-modal="true" aria-label="Submit for review"
                id="submit-review-dialog" on:submit=submit>
                <h2>"Submit for review"</h2>
                <p class="hint">"The reviewer sees every file as it is now; later changes go in with a resubmission."</p>
                <label>"Title"
                    <input id="review-title" required maxlength="200" bind:value=title autofocus />
                </label>
                <label>"Description (Markdown)"
                    <textarea id="review-description" rows="5" bind:value=description></textarea>
                </label>
                <label>"Priority"
                    <select id="review-priority" bind:value=priority>
                        {Priority::ALL.iter().map(|p| view! { <option value=p.id()>{p.id()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Reviewer (optional: username or email)"
                    <input id="review-reviewer" bind:value=reviewer />
                </label>
                <p class="error" role="alert">{move || error.get()}</p>
                <div class="modal-actions">
                    <button type="button" class="button" on:click=move |_| close.run(())>"Cancel"</button>
                    <button type="submit" class="button primary" disabled=move || busy.get()>"Submit"</button>
                </div>
            </form>
        </div>
    }
}
