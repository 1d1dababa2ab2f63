//! Routed pages.

use super::layout::IdeLayout;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn Home() -> impl IntoView {
    view! {
        <IdeLayout
            title=Signal::derive(|| "Welcome".to_string())
            sidebar=|| view! { <p class="empty">"No session open."</p> }
            editor=|| {
                view! {
                    <div class="welcome">
                        <h1>"WebIDE"</h1>
                        <p>"Edit files and run code in a sandbox, from the browser."</p>
                    </div>
                }
            }
            panel=|| view! { <p class="empty">"No terminal."</p> }
        />
    }
}

#[component]
pub fn SessionPage() -> impl IntoView {
    let params = use_params_map();
    let uuid = Signal::derive(move || params.read().get("uuid").unwrap_or_default());
    view! {
        <IdeLayout
            title=uuid
            sidebar=|| view! { <p class="empty">"Empty workspace."</p> }
            editor=|| view! { <p class="empty">"Open a file from the explorer."</p> }
            panel=|| view! { <p class="empty">"No terminal."</p> }
        />
    }
}

#[component]
pub fn SignIn() -> impl IntoView {
    view! {
        <div class="auth-page">
            <h1>"Sign in"</h1>
            <p>"Accounts are not available yet."</p>
            <a href="/">"Back to the IDE"</a>
        </div>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <div class="auth-page">
            <h1>"Not found"</h1>
            <a href="/">"Back to the IDE"</a>
        </div>
    }
}
