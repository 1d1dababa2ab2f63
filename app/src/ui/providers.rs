//! Sign-in providers in the UI: their buttons on the sign-in page (with why a
//! sign-in through one failed), and the settings' list of linked accounts with
//! Link and Unlink, and the username.

use crate::api::{account, auth};
use crate::wire::auth::{rules, SignInMethods, User};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// A query parameter of the page.
fn query(name: &'static str) -> Memo<Option<String>> {
    let q = leptos_router::hooks::use_query_map();
    Memo::new(move |_| q.with(|q| q.get(name)))
}

fn start_url(provider: &str, link: bool) -> String {
    let link = if link { "&link=true" } else { "" };
    format!("/api/auth/oauth/start?provider={provider}{link}")
}

/// "Continue with …" for each configured provider, and why the last try failed.
#[component]
pub fn ProviderButtons() -> impl IntoView {
    let offered = Resource::new(|| (), |_| auth::providers());
    let error = query("error");
    view! {
        <p class="error" role="alert" id="provider-error">{move || error.get()}</p>
        <Suspense fallback=|| ()>
            {move || offered.get().and_then(Result::ok).filter(|l| !l.is_empty()).map(|list| view! {
                <div class="providers" aria-label="Sign in with">
                    {list.into_iter().map(|p| view! {
                        // A navigation, not a fetch: the provider's pages take over.
                        <a class="button provider" rel="external" href=start_url(&p.id, false)
                            data-provider=p.id.clone()>{format!("Continue with {}", p.name)}</a>
                    }).collect_view()}
                </div>
                <p class="hint or">"or with your password"</p>
            })}
        </Suspense>
    }
}

/// The settings' "Sign-in methods": the password, each linked provider with
/// Unlink, each other configured provider with Link; and the username.
#[component]
pub fn SignInMethodsSection(user: User) -> impl IntoView {
    let methods = Resource::new(|| (), |_| account::list_sign_in_methods());
    let notice = RwSignal::new(None::<(String, bool)>);
    if let Some(linked) = query("linked").get_untracked() {
        notice.set(Some((
            format!("{linked} is linked: you can sign in with it."),
            false,
        )));
    }
    if let Some(e) = query("error").get_untracked() {
        notice.set(Some((e, true)));
    }
    let unlink = move |provider: String, name: String| {
        spawn_local(async move {
            match account::unlink_provider(provider).await {
                Ok(m) => {
                    methods.set(Some(Ok(m)));
                    notice.set(Some((format!("{name} is unlinked."), false)));
                }
                Err(e) => notice.set(Some((e.message, true))),
            }
        });
    };
    let username = RwSignal::new(user.username.clone());
    let users = super::use_user();
    let rename = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = username.get_untracked().trim().to_string();
        if let Err(e) = rules::username(&name) {
            notice.set(Some((e.message, true)));
            return;
        }
        spawn_local(async move {
            match account::change_username(name).await {
                Ok(u) => {
                    users.refetch();
                    notice.set(Some((
                        format!("Your username is now {}.", u.username),
                        false,
                    )));
                }
                Err(e) => notice.set(Some((e.message, true))),
            }
        });
    };
    let list = move |m: SignInMethods| {
        let only_one = !m.password && m.identities.len() == 1;
        view! {
            <ul class="sign-in-methods">
                <li data-method="password">
                    <span>"Password"</span>
                    <span class="hint">{if m.password { "set" } else { "none: set one under Change password" }}</span>
                </li>
                {m.identities.into_iter().map(|i| {
                    let (provider, name) = (i.provider.clone(), i.provider_name.clone());
                    view! {
                        <li data-method=i.provider.clone()>
                            <span>{i.provider_name.clone()}</span>
                            <span class="hint">{i.email.clone().unwrap_or_default()}</span>
                            <button class="button" type="button" disabled=only_one
                                title=if only_one { "Your only way to sign in" } else { "" }
                                on:click=move |_| unlink(provider.clone(), name.clone())>"Unlink"</button>
                        </li>
                    }
                }).collect_view()}
                {m.linkable.into_iter().map(|p| view! {
                    <li data-method=p.id.clone()>
                        <span>{p.name.clone()}</span>
                        <span class="hint">"not linked"</span>
                        <a class="button" rel="external" href=start_url(&p.id, true)>"Link"</a>
                    </li>
                }).collect_view()}
            </ul>
        }
    };
    view! {
        <section class="account" aria-label="Sign-in methods">
            <h2>"Sign-in methods"</h2>
            <p class:error=move || notice.get().is_some_and(|n| n.1) role="status" id="methods-notice">
                {move || notice.get().map(|n| n.0)}
            </p>
            <Suspense fallback=|| view! { <p class="hint">"Loading…"</p> }>
                {move || methods.get().map(|r| match r {
                    Ok(m) => list(m).into_any(),
                    Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                })}
            </Suspense>
            <form class="form narrow" on:submit=rename aria-label="Change username">
                <h3>"Username"</h3>
                <label>"Username" <input id="new-username" autocomplete="username" required bind:value=username /></label>
                <small>"3 to 32 letters, digits, '_', '-' or '.'"</small>
                <button class="button" type="submit">"Change username"</button>
            </form>
        </section>
    }
}
