//! The Share dialog's public links: make one (with an expiry), see its URL
//! once, list the links with their views, revoke one.

use super::workspace::use_ws;
use crate::api::links;
use crate::wire::links::{CreatedLink, Link, EXPIRY_CHOICES};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn PublicLinks() -> impl IntoView {
    let ws = use_ws();
    let list = RwSignal::new(Vec::<Link>::new());
    let error = RwSignal::new(None::<String>);
    let made = RwSignal::new(None::<CreatedLink>);
    let expiry = RwSignal::new("0".to_string());
    let reload = move || {
        spawn_local(async move {
            match links::list(ws.session).await {
                Ok(l) => list.set(l),
                Err(e) => error.set(Some(e.message)),
            }
        })
    };
    Effect::new(move |_| reload());
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let choice = expiry.get_untracked().parse::<usize>().unwrap_or(0);
        let secs = EXPIRY_CHOICES.get(choice).and_then(|c| c.0);
        spawn_local(async move {
            match links::create(ws.session, secs).await {
                Ok(link) => {
                    made.set(Some(link));
                    error.set(None);
                    reload();
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let revoke = move |id| {
        spawn_local(async move {
            match links::revoke(ws.session, id).await {
                Ok(()) => {
                    made.update(|m| {
                        if m.as_ref().is_some_and(|m| m.id == id) {
                            *m = None;
                        }
                    });
                    reload();
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
    };
    view! {
        <section class="public-links" aria-label="Public links">
            <h3>"Public links"</h3>
            <p class="hint">"Anyone with a link reads the current files, without signing in; nothing else."</p>
            <form class="share-form" on:submit=create>
                <label>"Expires after "
                    <select id="link-expiry" bind:value=expiry>
                        {EXPIRY_CHOICES.iter().enumerate().map(|(i, (_, label))| view! {
                            <option value=i.to_string()>{*label}</option>
                        }).collect_view()}
                    </select>
                </label>
                <button class="button" id="create-link" type="submit">"Create link"</button>
            </form>
            {move || made.get().map(|m| view! {
                <p class="link-made">
                    "Copy it now, it is shown only once: "
                    <input id="link-url" readonly value=m.url.clone() on:focus=move |ev| {
                        event_target::<web_sys::HtmlInputElement>(&ev).select();
                    } />
                </p>
            })}
            <p class="error" role="alert">{move || error.get()}</p>
            <ul class="link-list">
                {move || list.get().into_iter().map(|l| {
                    let id = l.id;
                    let expires = match (l.expired, when(l.expires_at)) {
                        (true, _) => "expired".to_string(),
                        (false, Some(t)) => format!("until {t}"),
                        (false, None) => "no expiry".to_string(),
                    };
                    let views = match (l.views, when(l.last_viewed_at)) {
                        (0, _) | (_, None) => "not viewed yet".to_string(),
                        (n, Some(t)) => format!("{n} view(s), last {t}"),
                    };
                    view! {
                        <li class="link-row" data-id=id.to_string()>
                            <span>{format!("made {}", when(Some(l.created_at)).unwrap_or_default())}</span>
                            <span>{expires}</span>
                            <span class="link-views">{views}</span>
                            <button class="link-button danger" on:click=move |_| revoke(id)>"Revoke"</button>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
    .into_any()
}
