//! Components: the HTML shell, the router, and the pages.

mod account;
mod assistant;
mod assistant_settings;
mod bridge;
mod dialog;
mod editor;
mod history;
mod layout;
mod links;
mod live;
#[cfg(feature = "hydrate")]
mod local_store;
#[cfg(feature = "hydrate")]
mod monaco;
mod offline;
mod output;
mod pages;
mod panel;
mod profile;
mod providers;
mod public_page;
mod quick_open;
mod review_page;
mod review_submit;
mod reviews;
mod search;
mod session_list;
mod settings;
mod share;
mod side;
mod terminal;
mod tree;
mod workspace;
#[cfg(feature = "hydrate")]
mod xterm;

use crate::api::auth::me;
use crate::wire::auth::User;
use crate::{AppError, BUNDLE_NAME};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

/// The HTML document the server renders around the app, in the user's theme
/// and with their settings (from the settings cookie) from the first byte.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let prefs = crate::server::settings::from_request().unwrap_or_default();
    #[cfg(feature = "ssr")]
    crate::server::csp::send();
    #[cfg(not(feature = "ssr"))]
    let prefs = crate::wire::settings::Settings::default();
    view! {
        <!DOCTYPE html>
        <html lang="en" data-theme=prefs.theme.id() data-prefs=prefs.to_compact()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                // Before the bundle: remembers what is clicked until it has hydrated.
                <script src="/early.js"></script>
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The signed-in user (or `None`), loaded once per page and shared.
pub type UserResource = Resource<Result<Option<User>, AppError>>;

/// False on the server and until the page has hydrated: forms stay disabled until
/// then, so an early click never falls back to a native submit that drops the input.
pub fn use_hydrated() -> ReadSignal<bool> {
    let (hydrated, set) = signal(false);
    Effect::new(move |_| set.set(true));
    hydrated
}

pub fn use_user() -> UserResource {
    expect_context::<UserResource>()
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let user: UserResource = Resource::new(|| (), |_| me());
    provide_context(user);
    dialog::Dialogs::provide();
    settings::Prefs::provide();
    offline::Connection::provide();
    view! {
        <Stylesheet id="leptos" href=format!("/pkg/{BUNDLE_NAME}.css") />
        <Title text="WebIDE" />
        // Pages wait for their data on the server (`Async`), so the HTML arrives
        // complete: readable without scripts, with the right status, tree included.
        <Router>
            <Routes fallback=pages::NotFound>
                <Route path=path!("/") view=pages::Home ssr=SsrMode::Async />
                <Route path=path!("/login") view=account::SignIn />
                <Route path=path!("/register") view=account::Register />
                <Route path=path!("/profile") view=profile::Profile ssr=SsrMode::Async />
                <Route path=path!("/settings") view=settings::SettingsPage ssr=SsrMode::Async />
                <Route path=path!("/s/:uuid") view=pages::SessionPage ssr=SsrMode::Async />
                <Route path=path!("/p/:token") view=public_page::PublicPage ssr=SsrMode::Async />
                <Route path=path!("/reviews") view=reviews::ReviewsPage ssr=SsrMode::Async />
                <Route path=path!("/reviews/:id") view=review_page::ReviewPage ssr=SsrMode::Async />
            </Routes>
        </Router>
        <dialog::DialogHost />
    }
}
