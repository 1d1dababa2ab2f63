//! `/p/{token}`: a session seen through a public link, without signing in: its
//! tree and its files, read-only, and a way to fork it. Rendered complete on
//! the server (the first file included); Monaco takes over once hydrated.

use super::{
    account::sign_in_href, editor::BinaryView, layout::IdeLayout, pages::LoadError,
    tree::visible_rows, use_user, workspace::Binary,
};
use crate::api::{links, sessions::fork_session};
use crate::wire::files::{FileContent, ItemKind};
use crate::wire::links::PublicSession;
use crate::AppError;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map};

#[component]
pub fn PublicPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let data = Resource::new(token, |t| async move {
        let session = links::tree(t.clone()).await?;
        let first = first_file(&session);
        let file = match first {
            Some(path) => Some(links::read(t, path).await?),
            None => None,
        };
        Ok::<_, AppError>((session, file))
    });
    view! {
        <Suspense fallback=|| view! { <p class="empty">"Opening…"</p> }>
            {move || data.get().map(|r| match r {
                Ok((session, file)) => view! { <PublicView token=token() session file /> }.into_any(),
                Err(e) => view! {
                    <LoadError error=e sign_in_to="see this link" missing="Link not found"
                        back=("/", "Go to WebIDE") />
                }.into_any(),
            })}
        </Suspense>
    }
}

/// The file shown first: the README at the root, else the first file.
fn first_file(s: &PublicSession) -> Option<String> {
    let files = || s.tree.iter().filter(|i| i.kind == ItemKind::File);
    files()
        .find(|i| i.path.eq_ignore_ascii_case("readme.md"))
        .or_else(|| files().next())
        .map(|i| i.path.clone())
}

#[component]
fn PublicView(token: String, session: PublicSession, file: Option<FileContent>) -> impl IntoView {
    let shown = RwSignal::new(file);
    let error = RwSignal::new(None::<String>);
    let expanded = session
        .tree
        .iter()
        .filter(|i| i.kind == ItemKind::Folder)
        .map(|i| i.path.clone())
        .collect();
    let rows = visible_rows(&session.tree, &expanded);
    let tok = token.clone();
    let open = move |path: String| {
        let token = tok.clone();
        spawn_local(async move {
            match links::read(token, path).await {
                Ok(f) => {
                    shown.set(Some(f));
                    error.set(None);
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let sidebar = move || {
        let open = open.clone();
        view! {
            <div class="tree" role="tree" aria-label="Files">
                {rows.clone().into_iter().map(|(item, depth)| {
                    let path = item.path.clone();
                    let is_folder = item.kind == ItemKind::Folder;
                    let open = open.clone();
                    let p = path.clone();
                    let selected = move || shown.with(|f| f.as_ref().is_some_and(|f| f.path == p));
                    let p = path.clone();
                    view! {
                        <div class="tree-row" class:folder=is_folder class:selected=selected role="treeitem"
                            tabindex="0" data-path=path.clone() style=format!("padding-left: {}px", 8 + depth * 14)
                            on:click=move |_| if !is_folder { open(p.clone()) }>
                            <span class="tree-name">{crate::paths::name(&path).to_string()}</span>
                        </div>
                    }
                }).collect_view()}
            </div>
        }
    };
    let title = format!("{} · {}'s (read-only)", session.name, session.owner);
    let editor = move || view! { <PublicFile shown error /> };
    view! {
        <IdeLayout
            title=Signal::derive(move || title.clone())
            sidebar=sidebar
            editor=editor
        />
        <ForkBar token forks=session.forks />
    }
}

/// The shown file: its text on the server, a read-only Monaco once hydrated.
#[component]
fn PublicFile(
    shown: RwSignal<Option<FileContent>>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let host = NodeRef::<leptos::html::Div>::new();
    let ready = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    viewer(host, shown, ready, error);
    let binary = move || {
        shown.with(|f| {
            let f = f.as_ref()?;
            let binary = Binary::of(f)?;
            Some(view! { <BinaryView path=f.path.clone() binary /> })
        })
    };
    view! {
        <section class="public-file">
            <p class="public-path" id="public-path">{move || shown.with(|f| f.as_ref().map(|f| f.path.clone()))}</p>
            <p class="error" role="alert">{move || error.get()}</p>
            {binary}
            <pre class="public-code" hidden=move || ready.get()>
                {move || shown.with(|f| f.as_ref().filter(|f| !f.is_binary()).map(|f| f.content.clone()))}
            </pre>
            <div class="review-editor" id="public-editor" node_ref=host class:hidden=move || !ready.get()></div>
        </section>
    }
}

#[cfg(feature = "hydrate")]
fn viewer(
    host: NodeRef<leptos::html::Div>,
    shown: RwSignal<Option<FileContent>>,
    ready: RwSignal<bool>,
    error: RwSignal<Option<String>>,
) {
    use super::monaco;
    use wasm_bindgen::prelude::Closure;
    let editor = StoredValue::new_local(None::<wasm_bindgen::JsValue>);
    // Lines are not commented on here: clicks on them do nothing.
    let on_line = StoredValue::new_local(Closure::<dyn FnMut(u32)>::new(|_| {}));
    let loaded = RwSignal::new(false);
    spawn_local(async move {
        match monaco::load().await {
            Ok(()) => loaded.set(true),
            Err(e) => error.set(Some(e)),
        }
    });
    Effect::new(move |_| {
        let (true, Some(el)) = (loaded.get(), host.get()) else {
            return;
        };
        if editor.with_value(Option::is_none) {
            let e = on_line.with_value(|cb| monaco::create_review_editor(&el.into(), cb));
            editor.set_value(Some(e));
        }
        shown.with(|f| {
            if let (Some(f), Some(e)) = (f.as_ref().filter(|f| !f.is_binary()), editor.get_value())
            {
                monaco::show_review_file(
                    &e,
                    &format!("{}/{}", f.hash, f.path),
                    &f.path,
                    &f.content,
                    "[]",
                );
                ready.set(true);
            }
        });
    });
}

/// Who shared it, how often it was forked, and the Fork button (or the way to
/// sign in first).
#[component]
fn ForkBar(token: String, forks: i64) -> impl IntoView {
    let user = use_user();
    let error = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let here = format!("/p/{token}");
    let fork = move |_| {
        let (token, navigate) = (token.clone(), navigate.clone());
        spawn_local(async move {
            match fork_session(None, Some(token), None).await {
                Ok(s) => navigate(&format!("/s/{}", s.uuid), Default::default()),
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let forks = match forks {
        1 => "forked once".to_string(),
        n => format!("forked {n} times"),
    };
    view! {
        <div class="fork-bar" id="fork-bar">
            <span class="hint">"Read-only link · " {forks}</span>
            <Transition>
                {move || {
                    let signed_in = user.get().and_then(|u| u.ok().flatten()).is_some();
                    let fork = fork.clone();
                    if signed_in {
                        view! { <button class="button primary" id="fork-button" on:click=fork>"Fork"</button> }.into_any()
                    } else {
                        view! { <a class="button" id="fork-sign-in" href=sign_in_href(&here)>"Sign in to fork"</a> }.into_any()
                    }
                }}
            </Transition>
            <span class="error" role="alert">{move || error.get()}</span>
        </div>
    }
}
