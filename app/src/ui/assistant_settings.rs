//! Settings → Assistant: the user's model keys (added, shown by provider, label
//! and last four characters, deleted; never shown again) and their usage: today
//! and in all, per model, with the allowance of the server's model.

use crate::api::assistant as api;
use crate::wire::assistant::{ModelProvider, Usage, UsageRow};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn AssistantSection() -> impl IntoView {
    let changed = RwSignal::new(0u32);
    let keys = Resource::new(move || changed.get(), |_| api::list_keys());
    let usage = Resource::new(move || changed.get(), |_| api::get_usage());
    let notice = RwSignal::new(None::<(String, bool)>);
    let provider = RwSignal::new(ModelProvider::Openai.id().to_string());
    let (base_url, model, label, key) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let optional =
            |s: RwSignal<String>| Some(s.get_untracked()).filter(|v| !v.trim().is_empty());
        let (p, u, m, l, k) = (
            provider.get_untracked(),
            optional(base_url),
            optional(model),
            label.get_untracked(),
            key.get_untracked(),
        );
        spawn_local(async move {
            match api::set_key(p, u, m, l, k).await {
                Ok(info) => {
                    key.set(String::new());
                    label.set(String::new());
                    notice.set(Some((
                        format!("Saved {} (…{}).", info.label, info.last4),
                        false,
                    )));
                    changed.update(|n| *n += 1);
                }
                Err(e) => notice.set(Some((e.message, true))),
            }
        });
    };
    let delete = move |id: uuid::Uuid| {
        spawn_local(async move {
            match api::delete_key(id).await {
                Ok(()) => changed.update(|n| *n += 1),
                Err(e) => notice.set(Some((e.message, true))),
            }
        });
    };
    view! {
        <section class="account" id="assistant" aria-label="Assistant">
            <h2>"Assistant"</h2>
            <p class="hint">
                "Your own API keys for the assistant. A key is stored encrypted and never shown again: "
                "only its provider, label and last four characters."
            </p>
            <p class:error=move || notice.get().is_some_and(|n| n.1) role="status" id="keys-notice">
                {move || notice.get().map(|n| n.0)}
            </p>
            <Transition fallback=|| ()>
                {move || keys.get().map(|r| match r {
                    Ok(list) if list.is_empty() => view! { <p class="hint" id="no-keys">"No keys yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="sign-in-methods" id="ai-keys">
                            {list.into_iter().map(|k| {
                                let id = k.id;
                                view! {
                                    <li>
                                        <span>{format!("{} · {}", k.label, k.provider.label())}</span>
                                        <span class="hint">{format!("{} · …{}", k.model, k.last4)}</span>
                                        <button class="button" type="button" on:click=move |_| delete(id)>"Delete"</button>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                })}
            </Transition>
            <form class="form narrow" on:submit=add aria-label="Add a key">
                <h3>"Add a key"</h3>
                <label>"Provider"
                    <select id="key-provider" on:change=move |ev| provider.set(event_target_value(&ev))>
                        {ModelProvider::ALL.iter().map(|p| view! {
                            <option value=p.id() selected=move || provider.get() == p.id()>{p.label()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>"Base URL (optional)"
                    <input id="key-base-url" bind:value=base_url
                        placeholder=move || ModelProvider::parse(&provider.get()).map(|p| p.default_base_url()).unwrap_or_default() />
                </label>
                <label>"Model (optional)"
                    <input id="key-model" bind:value=model
                        placeholder=move || ModelProvider::parse(&provider.get()).map(|p| p.default_model()).unwrap_or_default() />
                </label>
                <label>"Label" <input id="key-label" required bind:value=label /></label>
                <label>"Key" <input id="key-secret" type="password" autocomplete="off" required bind:value=key /></label>
                <button class="button primary" type="submit" id="key-save">"Save key"</button>
            </form>
            <h3>"Usage"</h3>
            <Transition fallback=|| ()>
                {move || usage.get().map(|r| match r {
                    Ok(u) => usage_view(u).into_any(),
                    Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

fn usage_view(u: Usage) -> impl IntoView {
    let table = |rows: Vec<UsageRow>, id: &'static str| {
        if rows.is_empty() {
            return view! { <p class="hint">"None."</p> }.into_any();
        }
        view! {
            <table class="usage" id=id>
                <thead><tr><th>"Model"</th><th>"Requests"</th><th>"Tokens in"</th><th>"Tokens out"</th><th>"Cost"</th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|r| view! {
                        <tr>
                            <td>{format!("{} ({}{})", r.model, r.provider, if r.by_default { ", the server's" } else { "" })}</td>
                            <td>{r.requests}</td>
                            <td>{r.tokens_in}</td>
                            <td>{r.tokens_out}</td>
                            <td>{r.cost_usd.map_or("—".to_string(), |c| format!("${c:.4}"))}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    };
    view! {
        {u.quota.map(|q| view! {
            <p class="hint">{format!(
                "The server's model: {} of {} tokens used today; resets {} UTC.",
                q.used_today, q.daily_tokens, q.resets_at.format("%Y-%m-%d %H:%M")
            )}</p>
        })}
        <h4>"Today"</h4>
        {table(u.today, "usage-today")}
        <h4>"In all"</h4>
        {table(u.all_time, "usage-all")}
    }
}
