//! Sign-in and registration pages, and the guest start.

use super::{use_hydrated, use_user};
use crate::api::auth;
use crate::wire::auth::{rules, User};
use crate::AppError;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::{hooks::use_navigate, NavigateOptions};

/// Starts a guest account and opens its first session.
pub fn start_as_guest(error: RwSignal<Option<String>>) {
    let navigate = use_navigate();
    let user = use_user();
    spawn_local(async move {
        match auth::guest().await {
            Ok(start) => {
                user.refetch();
                navigate(&format!("/s/{}", start.session.uuid), Default::default());
            }
            Err(e) => error.set(Some(e.message)),
        }
    });
}

#[component]
pub fn SignIn() -> impl IntoView {
    let login = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let form = AuthForm::new();
    let error = form.error;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.run(auth::login(login.get_untracked(), password.get_untracked()));
    };
    view! {
        <div class="auth-page">
            <h1>"Sign in"</h1>
            <super::providers::ProviderButtons />
            <form on:submit=submit class="form">
                <label>"Username or email" <input name="login" autocomplete="username" required bind:value=login /></label>
                <label>"Password" <input name="password" type="password" autocomplete="current-password" required bind:value=password /></label>
                <p class="error" role="alert">{move || error.get()}</p>
                <button class="button primary" type="submit" disabled=move || form.disabled()>"Sign in"</button>
            </form>
            <p>"No account? " <a href="/register" id="register-link">"Register"</a> " or "
                <button class="link-button" id="guest" on:click=move |_| start_as_guest(error)>"try without an account"</button>"."
            </p>
        </div>
    }
}

#[component]
pub fn Register() -> impl IntoView {
    let username = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let form = AuthForm::new();
    let error = form.error;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // The same rules the server applies, so most mistakes are caught at once.
        let checked = rules::username(username.get_untracked().trim())
            .and_then(|_| rules::email(email.get_untracked().trim()))
            .and_then(|_| rules::password(&password.get_untracked()));
        if let Err(e) = checked {
            error.set(Some(e.message));
            return;
        }
        form.run(auth::register(
            username.get_untracked(),
            email.get_untracked(),
            password.get_untracked(),
        ));
    };
    view! {
        <div class="auth-page">
            <h1>"Create an account"</h1>
            <form on:submit=submit class="form">
                <label>"Username" <input name="username" autocomplete="username" required bind:value=username /></label>
                <small>"3 to 32 letters, digits, '_', '-' or '.'"</small>
                <label>"Email" <input name="email" type="email" autocomplete="email" required bind:value=email /></label>
                <label>"Password" <input name="password" type="password" autocomplete="new-password" required bind:value=password /></label>
                <small>"At least 8 characters"</small>
                <p class="error" role="alert">{move || error.get()}</p>
                <button class="button primary" type="submit" disabled=move || form.disabled()>"Create account"</button>
            </form>
            <p>"Have an account? " <a href="/login">"Sign in"</a></p>
        </div>
    }
}

type Navigate = Box<dyn Fn(&str, NavigateOptions)>;

/// The state of a sign-in or registration form, and what success does: reload the
/// user and open the session list.
#[derive(Clone, Copy)]
struct AuthForm {
    busy: RwSignal<bool>,
    ready: ReadSignal<bool>,
    error: RwSignal<Option<String>>,
    user: super::UserResource,
    navigate: StoredValue<Navigate, LocalStorage>,
    /// Where to go on success: the page that sent the user here (`?next=`).
    next: StoredValue<String>,
}

impl AuthForm {
    fn new() -> Self {
        Self {
            busy: RwSignal::new(false),
            ready: use_hydrated(),
            error: RwSignal::new(None),
            user: use_user(),
            navigate: StoredValue::new_local(Box::new(use_navigate())),
            next: StoredValue::new(local_path(
                leptos_router::hooks::use_query_map()
                    .get_untracked()
                    .get("next")
                    .as_deref(),
            )),
        }
    }

    /// The submit button waits for hydration and for the call under way.
    fn disabled(&self) -> bool {
        self.busy.get() || !self.ready.get()
    }

    fn run(self, call: impl std::future::Future<Output = Result<User, AppError>> + 'static) {
        self.busy.set(true);
        spawn_local(async move {
            let r = call.await;
            self.busy.set(false);
            match r {
                Ok(_) => {
                    self.user.refetch();
                    let next = self.next.get_value();
                    self.navigate.with_value(|go| go(&next, Default::default()));
                }
                Err(e) => self.error.set(Some(describe(e))),
            }
        });
    }
}

/// `next` when it is a path of this site, else the home page: a link from
/// elsewhere cannot send a signed-in user off the site.
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.to_string(),
        _ => "/".to_string(),
    }
}

/// The sign-in page, coming back to `here` after.
pub fn sign_in_href(here: &str) -> String {
    format!("/login?next={}", percent_encode(here))
}

/// `s` for a URL's query: what is not plain stays as %XX.
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn describe(e: AppError) -> String {
    match e.retry_after {
        Some(secs) => format!("Too many attempts. Try again in {secs} seconds."),
        None => e.message,
    }
}
