//! Routed pages.

use super::{
    account::start_as_guest, editor::EditorArea, layout::IdeLayout, live, panel::Panel,
    session_list::SessionList, side::SidePanel, terminal::Terms, use_user, workspace::Ws,
};
use crate::api::{
    files,
    sessions::{self, open_session},
};
use crate::wire::{access::Role, files::TreeItem, sessions::CodeSession};

use crate::{AppError, ErrorCode};
use leptos::prelude::*;
use leptos_meta::Link;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

/// Signed in: the session list. Otherwise: what the product is and how to start.
#[component]
pub fn Home() -> impl IntoView {
    let user = use_user();
    // Created here rather than in the list, so the server waits for it too.
    let filter = RwSignal::new(crate::wire::sessions::SessionFilter::default());
    let list = Resource::new(
        move || filter.get(),
        |f| sessions::list_sessions(Some(f.query), f.language, f.tag, f.scope, f.sort),
    );
    let error = RwSignal::new(None::<String>);
    view! {
        <IdeLayout
            title=Signal::derive(|| "Sessions".to_string())
            sidebar=|| view! { <p class="empty">"Open a session to see its files."</p> }
            editor=move || view! {
                <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
                    {move || user.get().map(|u| match u.ok().flatten() {
                        Some(_) => view! { <SessionList list filter /> }.into_any(),
                        None => view! {
                            <div class="welcome">
                                <h1>"WebIDE"</h1>
                                <p>"Edit files and run code in a sandbox, from the browser."</p>
                                <p class="actions">
                                    <a class="button primary" href="/register">"Create an account"</a>
                                    <a class="button" href="/login">"Sign in"</a>
                                    <button class="button" id="try-guest" on:click=move |_| start_as_guest(error)>
                                        "Try without an account"
                                    </button>
                                </p>
                                <p class="error">{move || error.get()}</p>
                            </div>
                        }.into_any(),
                    })}
                </Transition>
            }
        />
    }
}

#[component]
pub fn SessionPage() -> impl IntoView {
    let params = use_params_map();
    let uuid = move || {
        params
            .read()
            .get("uuid")
            .and_then(|s| Uuid::parse_str(&s).ok())
    };
    // Session and tree in one resource, so the server renders the page complete.
    let session = Resource::new(uuid, |u| async move {
        let u = u.ok_or_else(|| AppError::not_found("no such session"))?;
        let session = open_session(u).await?;
        Ok::<_, AppError>((session, files::tree(u).await?))
    });
    view! {
        <Suspense fallback=|| view! { <p class="empty">"Opening session…"</p> }>
            {move || session.get().map(|r| match r {
                Ok((s, tree)) => view! { <Workspace session=s tree /> }.into_any(),
                Err(e) => view! {
                    <LoadError error=e sign_in_to="open this session" missing="Session not found"
                        back=("/", "Back to your sessions") />
                }.into_any(),
            })}
        </Suspense>
    }
}

/// Opens the file clicked in the tree before the page had hydrated (public/early.js).
#[cfg(feature = "hydrate")]
fn open_early_click(ws: Ws) {
    Effect::new(move |_| {
        let window = web_sys::window().expect("a window");
        let key = wasm_bindgen::JsValue::from_str("__webideEarlyOpen");
        let Some(path) = js_sys::Reflect::get(&window, &key)
            .ok()
            .and_then(|v| v.as_string())
        else {
            return;
        };
        let _ = js_sys::Reflect::delete_property(&window, &key);
        ws.tree.selected.set(Some(path.clone()));
        ws.open(path);
    });
}

#[cfg(not(feature = "hydrate"))]
fn open_early_click(_ws: Ws) {}

#[component]
fn Workspace(session: CodeSession, tree: Vec<TreeItem>) -> impl IntoView {
    let ws = Ws::provide(&session, tree);
    let terms = Terms::provide();
    let output = super::output::Output::provide(ws, terms);
    super::output::bind_f5(output);
    live::follow(ws, Some(terms));
    open_early_click(ws);
    ws.keep_offline();
    let title = match session.role {
        Role::Owner => session.name.clone(),
        _ => format!("{} · {}'s", session.name, session.owner),
    };
    view! {
        // Fetched while the bundle loads and hydrates, not after (xterm.js waits
        // for the terminal, which opens later: its preload would go unused).
        <Link rel="preload" href="/vendor/monaco/vs/loader.js" as_="script" />
        <Link rel="preload" href="/vendor/monaco/vs/editor/editor.main.js" as_="script" />
        <Link rel="preload" href="/vendor/monaco/vs/editor/editor.main.css" as_="style" />
        <IdeLayout
            title=Signal::derive(move || title.clone())
            sidebar=|| view! { <SidePanel /> }
            editor=|| view! { <EditorArea /> }
            panel=|| view! { <Panel /> }
        />
        {move || ws.revoked.get().map(|why| view! {
            <AccessEnded what="this session" why back=("/", "Back to your sessions") />
        })}
    }
}

/// A page whose subject could not be loaded: the error's status, and the way on.
#[component]
pub fn LoadError(
    error: AppError,
    /// "open this session", "see this review"
    sign_in_to: &'static str,
    /// "Session not found"
    missing: &'static str,
    back: (&'static str, &'static str),
) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(error.error.status());
    }
    let signed_out = error.error == ErrorCode::Unauthorized;
    view! {
        <div class="auth-page">
            <h1>{if signed_out { format!("Sign in to {sign_in_to}") } else { missing.to_string() }}</h1>
            <p>{error.message.clone()}</p>
            {if signed_out {
                view! { <a class="button primary" href="/login">"Sign in"</a> }.into_any()
            } else {
                view! { <a href=back.0>{back.1}</a> }.into_any()
            }}
        </div>
    }
}

/// Shown over a page whose access ended while it was open; no way back into it.
#[component]
pub fn AccessEnded(
    /// "this session"
    what: &'static str,
    why: String,
    back: (&'static str, &'static str),
) -> impl IntoView {
    view! {
        <div class="modal-backdrop">
            <div class="modal" role="alertdialog" aria-modal="true" id="access-ended" aria-label="Access ended">
                <h2>{format!("You no longer have access to {what}")}</h2>
                <p>{why}</p>
                <div class="modal-actions">
                    <a class="button primary" href=back.0>{back.1}</a>
                </div>
            </div>
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
