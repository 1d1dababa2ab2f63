//! The user's settings, applied to the whole page (theme, editors, terminals)
//! as they change, and the settings page: appearance, editor and terminal, and
//! the account (password, email, deletion).

use super::{layout::IdeLayout, use_user};
use crate::api::account;
use crate::wire::settings::{Settings, Theme, FONT_SIZES, SCROLLBACK, TAB_SIZES};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The settings in force on this page.
#[derive(Clone, Copy)]
pub struct Prefs(pub RwSignal<Settings>);

impl Prefs {
    pub fn provide() {
        let prefs = Prefs(RwSignal::new(initial()));
        provide_context(prefs);
        #[cfg(feature = "hydrate")]
        {
            // The page was rendered with them; later changes are applied here.
            Effect::new(move |first: Option<()>| {
                let s = prefs.0.get();
                if first.is_some() {
                    apply(&s);
                }
            });
            // Changes made on another device since this page's cookie was set,
            // asked once the page knows someone is signed in.
            let user = use_user();
            let asked = StoredValue::new(false);
            Effect::new(move |_| {
                let signed_in = user.get().and_then(|u| u.ok().flatten()).is_some();
                if signed_in && !asked.get_value() {
                    asked.set_value(true);
                    spawn_local(async move {
                        if let Ok(s) = account::get_settings().await {
                            if s != prefs.0.get_untracked() {
                                prefs.0.set(s);
                            }
                        }
                    });
                }
            });
        }
    }
}

/// On the server: what the request's cookie carries; in the browser: what the
/// server rendered into the page.
fn initial() -> Settings {
    #[cfg(feature = "ssr")]
    return crate::server::settings::from_request().unwrap_or_default();
    #[cfg(not(feature = "ssr"))]
    return document()
        .document_element()
        .and_then(|e| e.get_attribute("data-prefs"))
        .and_then(|p| Settings::from_compact(&p))
        .unwrap_or_default();
}

#[cfg(feature = "hydrate")]
fn apply(s: &Settings) {
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("data-theme", s.theme.id());
        let _ = root.set_attribute("data-prefs", &s.to_compact());
    }
    super::monaco::apply_prefs();
    super::xterm::apply_prefs();
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let user = use_user();
    view! {
        <IdeLayout
            title=Signal::derive(|| "Settings".to_string())
            sidebar=|| view! { <p class="empty"><a href="/">"Back to your sessions"</a></p> }
            editor=move || view! {
                <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
                    {move || user.get().map(|u| match u.ok().flatten() {
                        None => view! {
                            <div class="auth-page"><p>"Sign in to change your settings."</p>
                            <a class="button primary" href="/login?next=/settings">"Sign in"</a></div>
                        }.into_any(),
                        Some(u) => view! {
                            <div class="sessions-page settings-page">
                                <h1>"Settings"</h1>
                                <Appearance />
                                {(!u.is_guest).then(|| view! {
                                    <super::providers::SignInMethodsSection user=u.clone() />
                                    <super::assistant_settings::AssistantSection />
                                })}
                                <Account user=u />
                            </div>
                        }.into_any(),
                    })}
                </Transition>
            }
        />
    }
}

#[component]
fn Appearance() -> impl IntoView {
    let prefs = expect_context::<Prefs>();
    let draft = RwSignal::new(prefs.0.get_untracked());
    let notice = RwSignal::new(None::<(String, bool)>);
    let ready = super::use_hydrated();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let wanted = draft.get_untracked();
        if let Err(e) = wanted.validate() {
            return notice.set(Some((e.message, true)));
        }
        spawn_local(async move {
            match account::set_settings(wanted).await {
                Ok(s) => {
                    prefs.0.set(s);
                    notice.set(Some((
                        "Saved: applied everywhere in the IDE.".into(),
                        false,
                    )));
                }
                Err(e) => notice.set(Some((e.message, true))),
            }
        });
    };
    let number = move |id: &'static str,
                       label: &'static str,
                       range: std::ops::RangeInclusive<u32>,
                       get: fn(&Settings) -> u32,
                       put: fn(&mut Settings, u32)| {
        view! {
            <label>{label}
                <input id=id type="number" min=*range.start() max=*range.end()
                    prop:value=move || draft.with(|d| get(d).to_string())
                    on:change=move |ev| {
                        if let Ok(v) = event_target_value(&ev).parse() {
                            draft.update(|d| put(d, v));
                        }
                    } />
            </label>
        }
    };
    let check = move |id: &'static str,
                      label: &'static str,
                      get: fn(&Settings) -> bool,
                      put: fn(&mut Settings, bool)| {
        view! {
            <label class="check">
                <input id=id type="checkbox" prop:checked=move || draft.with(get)
                    on:change=move |ev| draft.update(|d| put(d, event_target_checked(&ev))) />
                {label}
            </label>
        }
    };
    view! {
        <form class="form narrow" on:submit=save aria-label="Appearance">
            <h2>"Appearance"</h2>
            <label>"Theme"
                <select id="setting-theme"
                    prop:value=move || draft.with(|d| d.theme.id())
                    on:change=move |ev| {
                        if let Ok(t) = Theme::parse(&event_target_value(&ev)) {
                            draft.update(|d| d.theme = t);
                        }
                    }>
                    {Theme::ALL.iter().map(|t| view! { <option value=t.id()>{t.label()}</option> }).collect_view()}
                </select>
            </label>
            {number("setting-editor-font", "Editor font size", FONT_SIZES, |s| s.editor_font_size, |s, v| s.editor_font_size = v)}
            {number("setting-tab-size", "Tab size", TAB_SIZES, |s| s.tab_size, |s, v| s.tab_size = v)}
            {check("setting-word-wrap", "Wrap long lines", |s| s.word_wrap, |s, v| s.word_wrap = v)}
            {check("setting-minimap", "Show the minimap", |s| s.minimap, |s, v| s.minimap = v)}
            {number("setting-terminal-font", "Terminal font size", FONT_SIZES, |s| s.terminal_font_size, |s, v| s.terminal_font_size = v)}
            {number("setting-scrollback", "Terminal scrollback (lines)", SCROLLBACK, |s| s.scrollback, |s, v| s.scrollback = v)}
            <button class="button primary" id="save-settings" type="submit" disabled=move || !ready.get()>"Save"</button>
            <p class:error=move || notice.get().is_some_and(|n| n.1) role="status" id="settings-notice">
                {move || notice.get().map(|n| n.0)}
            </p>
        </form>
    }
}

#[component]
fn Account(user: crate::wire::auth::User) -> impl IntoView {
    let users = use_user();
    let notice = RwSignal::new(None::<(String, bool)>);
    let (current, new) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let (email_password, email) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let confirm = RwSignal::new(String::new());
    let told = move |r: Result<String, crate::AppError>| match r {
        Ok(m) => notice.set(Some((m, false))),
        Err(e) => notice.set(Some((e.message, true))),
    };
    let change_password = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (c, n) = (current.get_untracked(), new.get_untracked());
        spawn_local(async move {
            let r = account::change_password(c, n).await;
            if r.is_ok() {
                current.set(String::new());
                new.set(String::new());
            }
            told(r.map(|()| "Password changed; your other sign-ins have ended.".into()));
        });
    };
    let change_email = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (p, e) = (email_password.get_untracked(), email.get_untracked());
        spawn_local(async move {
            let r = account::change_email(p, e).await;
            if r.is_ok() {
                email_password.set(String::new());
                users.refetch();
            }
            told(r.map(|u| format!("Email changed to {}.", u.email.unwrap_or_default())));
        });
    };
    let delete = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let c = confirm.get_untracked();
        spawn_local(async move {
            match account::delete_account(c).await {
                // A full load: nothing of the account stays in this page.
                Ok(()) => {
                    let _ = window().location().set_href("/");
                }
                Err(e) => notice.set(Some((e.message, true))),
            }
        });
    };
    let everywhere = move |_| {
        spawn_local(async move {
            match crate::api::auth::logout_everywhere().await {
                // A full load: this page's login has ended too.
                Ok(_) => {
                    let _ = window().location().set_href("/login");
                }
                Err(e) => notice.set(Some((e.message, true))),
            }
        });
    };
    let guest = user.is_guest;
    view! {
        <section class="account" aria-label="Account">
            <h2>"Account"</h2>
            <p class:error=move || notice.get().is_some_and(|n| n.1) role="status" id="account-notice">
                {move || notice.get().map(|n| n.0)}
            </p>
            {(!guest).then(|| view! {
                <form class="form narrow" on:submit=change_password aria-label="Change password">
                    <h3>"Change password"</h3>
                    <label>"Current password" <input id="current-password" type="password" autocomplete="current-password" bind:value=current /></label>
                    <small>"Empty if you have none yet (you signed up with a provider)"</small>
                    <label>"New password" <input id="new-password" type="password" autocomplete="new-password" required minlength="8" bind:value=new /></label>
                    <button class="button" type="submit">"Change password"</button>
                </form>
                <form class="form narrow" on:submit=change_email aria-label="Change email">
                    <h3>"Change email"</h3>
                    <p class="hint">{format!("Now: {}", user.email.clone().unwrap_or_default())}</p>
                    <label>"New email" <input id="new-email" type="email" autocomplete="email" required bind:value=email /></label>
                    <label>"Password" <input id="email-password" type="password" autocomplete="current-password" bind:value=email_password /></label>
                    <button class="button" type="submit">"Change email"</button>
                </form>
                <div class="form narrow">
                    <h3>"Sign-ins"</h3>
                    <p class="hint">"Signs you out on every device and browser, this one too; open terminals there close."</p>
                    <button class="button" id="logout-everywhere" type="button" on:click=everywhere>"Sign out everywhere"</button>
                </div>
            })}
            <form class="form narrow danger-zone" on:submit=delete aria-label="Delete account">
                <h3>"Delete account"</h3>
                <p class="hint">"Deletes your account and every session you own, with their files and history. This cannot be undone."</p>
                <label>{format!("Type your username ({}) to confirm", user.username)}
                    <input id="delete-confirm" autocomplete="off" required bind:value=confirm />
                </label>
                <button class="button danger" type="submit"
                    disabled=move || confirm.get().trim() != user.username>"Delete my account"</button>
            </form>
        </section>
    }
}
