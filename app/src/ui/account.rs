//! Sign-in and registration pages, and the guest start.

use super::use_user;
use crate::api::auth;
use crate::AppError;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

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
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let navigate = use_navigate();
    let user = use_user();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            let r = auth::login(login.get_untracked(), password.get_untracked()).await;
            busy.set(false);
            match r {
                Ok(_) => {
                    user.refetch();
                    navigate("/", Default::default());
                }
                Err(e) => error.set(Some(describe(e))),
            }
        });
    };
    view! {
        <div class="auth-page">
            <h1>"Sign in"</h1>
            <form on:submit=submit class="form">
                <label>"Username or email" <input name="login" autocomplete="username" required bind:value=login /></label>
                <label>"Password" <input name="password" type="password" autocomplete="current-password" required bind:value=password /></label>
                <p class="error" role="alert">{move || error.get()}</p>
                <button class="button primary" type="submit" disabled=busy>"Sign in"</button>
            </form>
            <p>"No account? " <a href="/register">"Register"</a> " or "
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
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let navigate = use_navigate();
    let user = use_user();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // The same rules the server applies, so most mistakes are caught at once.
        let checked = auth::rules::username(username.get_untracked().trim())
            .and_then(|_| auth::rules::email(email.get_untracked().trim()))
            .and_then(|_| auth::rules::password(&password.get_untracked()));
        if let Err(e) = checked {
            error.set(Some(e.message));
            return;
        }
        busy.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            let r = auth::register(
                username.get_untracked(),
                email.get_untracked(),
                password.get_untracked(),
            )
            .await;
            busy.set(false);
            match r {
                Ok(_) => {
                    user.refetch();
                    navigate("/", Default::default());
                }
                Err(e) => error.set(Some(describe(e))),
            }
        });
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
                <button class="button primary" type="submit" disabled=busy>"Create account"</button>
            </form>
            <p>"Have an account? " <a href="/login">"Sign in"</a></p>
        </div>
    }
}

fn describe(e: AppError) -> String {
    match e.retry_after {
        Some(secs) => format!("Too many attempts. Try again in {secs} seconds."),
        None => e.message,
    }
}
