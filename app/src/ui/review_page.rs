//! A review request's page: its status and whose move it is, the actions the
//! caller may take, the files of a revision in a read-only Monaco with comment
//! threads in the gutter and inline, a diff between revisions, the threads with
//! their replies, resolutions and suggestions, and the history. Everything
//! follows the request's events stream, so changes made by others show at once.

use super::{
    layout::IdeLayout,
    pages::{AccessEnded, LoadError},
    reviews::turn_label,
    use_user,
};
use crate::api::reviews;
use crate::wire::access::{Capability, Role};
use crate::wire::reviews::{
    transition, Action, Actor, Comment, Decision, FileChange, Kind, Review, RevisionFile,
};
use crate::AppError;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

#[component]
pub fn ReviewPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|s| Uuid::parse_str(&s).ok())
    };
    let review = Resource::new(id, |id| async move {
        reviews::get(id.ok_or_else(|| AppError::not_found("no such review"))?).await
    });
    view! {
        <Suspense fallback=|| view! { <p class="empty">"Opening review…"</p> }>
            {move || review.get().map(|r| match r {
                Ok(r) => view! { <ReviewView review=r /> }.into_any(),
                Err(e) => view! {
                    <LoadError error=e sign_in_to="see this review" missing="Review not found"
                        back=("/reviews", "Back to reviews") />
                }.into_any(),
            })}
        </Suspense>
    }
}

/// What the page shares between its parts.
#[derive(Clone, Copy)]
struct Page {
    review: RwSignal<Review>,
    /// The revision shown, and the one compared with (a diff) if any.
    revision: RwSignal<i32>,
    compare: RwSignal<Option<i32>>,
    path: RwSignal<Option<String>>,
    /// The line range the comment form is about.
    lines: RwSignal<(String, String)>,
    error: RwSignal<Option<String>>,
    revoked: RwSignal<Option<String>>,
}

impl Page {
    fn id(&self) -> Uuid {
        self.review.with_untracked(|r| r.summary.id)
    }

    /// Shows a review the server returned, or what went wrong.
    fn show(&self, r: Result<Review, AppError>) {
        match r {
            Ok(r) => {
                let newest = r.summary.revision;
                let was_newest = self.review.with_untracked(|old| old.summary.revision)
                    == self.revision.get_untracked();
                if was_newest && self.revision.get_untracked() != newest {
                    self.revision.set(newest);
                }
                self.review.set(r);
                self.error.set(None);
            }
            Err(e) => self.error.set(Some(e.message)),
        }
    }

    fn reload(self) {
        let id = self.id();
        spawn_local(async move { self.show(reviews::get(id).await) });
    }

    /// Runs a move, then shows the request as it is after it.
    fn act<F>(self, f: F)
    where
        F: std::future::Future<Output = Result<Review, AppError>> + 'static,
    {
        spawn_local(async move { self.show(f.await) });
    }

    fn can(&self, need: Capability) -> bool {
        self.review.with(|r| r.role.allows(need))
    }
}

#[component]
fn ReviewView(review: Review) -> impl IntoView {
    let newest = review.summary.revision;
    let page = Page {
        review: RwSignal::new(review),
        revision: RwSignal::new(newest),
        compare: RwSignal::new(None),
        path: RwSignal::new(None),
        lines: RwSignal::new((String::new(), String::new())),
        error: RwSignal::new(None),
        revoked: RwSignal::new(None),
    };
    provide_context(page);
    follow(page);
    let title = move || page.review.with(|r| r.summary.title.clone());
    view! {
        <IdeLayout
            title=Signal::derive(move || format!("Review · {}", title()))
            sidebar=move || view! { <FilesPanel /> }
            editor=move || view! {
                <div class="review-page" id="review-page">
                    <Header />
                    <p class="error" role="alert" id="review-error">{move || page.error.get()}</p>
                    <FileView />
                    <CommentForm />
                    <Threads />
                    <History />
                </div>
            }
        />
        {move || page.revoked.get().map(|why| view! {
            <AccessEnded what="this review" why back=("/reviews", "Back to reviews") />
        })}
    }
}

/// Follows `/events/review/{id}`: any change reloads the request.
#[cfg(feature = "hydrate")]
fn follow(page: Page) {
    use crate::wire::events::Event;
    super::live::listen(
        &format!("/events/review/{}", page.id()),
        move |event: Event, source| match event {
            Event::Revoked { message } => {
                source.close();
                page.revoked.set(Some(message));
            }
            _ => page.reload(),
        },
    );
}

#[cfg(not(feature = "hydrate"))]
fn follow(_page: Page) {}

fn page() -> Page {
    expect_context::<Page>()
}

#[component]
fn Header() -> impl IntoView {
    let page = page();
    let user = use_user();
    let me = move || {
        user.get()
            .and_then(|u| u.ok().flatten())
            .map(|u| u.username)
            .unwrap_or_default()
    };
    let r = page.review;
    // The moves the rules allow the caller now: only those are offered.
    let allowed = move |action: Action| {
        r.with(|r| {
            let actor = Actor {
                role: r.role,
                level: r.level,
                assigned: r.summary.assigned_to.as_deref() == Some(me().as_str()),
            };
            let s = &r.summary;
            transition(s.status, s.priority, s.assigned_to.is_some(), action, actor).is_ok()
        })
    };
    let id = move || page.id();
    let note = RwSignal::new(String::new());
    let reviewer = RwSignal::new(String::new());
    let take_note = move || {
        let n = note.get_untracked();
        note.set(String::new());
        (!n.trim().is_empty()).then_some(n)
    };
    let decide = move |d: Decision| {
        let n = take_note();
        page.act(reviews::decide(id(), d.id().to_string(), n));
    };
    let button = move |action: Action,
                       dom_id: &'static str,
                       label: &'static str,
                       primary: bool,
                       run: Callback<()>| {
        view! {
            <Show when=move || allowed(action)>
                <button class="button" class:primary=primary id=dom_id on:click=move |_| run.run(())>{label}</button>
            </Show>
        }
    };
    view! {
        <section class="review-header">
            <div class="review-badges">
                <span id="review-status" class=move || format!("status {}", r.with(|r| r.summary.status.id()))>
                    {move || r.with(|r| r.summary.status.label())}
                </span>
                <span class=move || format!("priority {}", r.with(|r| r.summary.priority.id()))>
                    {move || r.with(|r| r.summary.priority.id())}
                </span>
                <span>"Revision " {move || r.with(|r| r.summary.revision)}</span>
                <span>"Move: " <strong id="whose-turn">{move || turn_label(r.with(|r| r.summary.whose_turn))}</strong></span>
                <span>"Open issues: " <strong id="unresolved-count">{move || r.with(|r| r.summary.unresolved)}</strong></span>
                <span>"Submitted by " {move || r.with(|r| r.summary.submitted_by.clone())}</span>
                <span id="review-reviewer">"Reviewer: " {move || r.with(|r| r.summary.assigned_to.clone().unwrap_or_else(|| "none yet".into()))}</span>
                <a href=move || format!("/s/{}", r.with(|r| r.summary.session))
                    class:hidden=move || !r.with(|r| r.role.submits() || r.role == Role::Viewer)>
                    {move || r.with(|r| r.summary.session_name.clone())}
                </a>
            </div>
            <div class="review-description" inner_html=move || r.with(|r| r.description_html.clone())></div>
            <Show when=move || r.with(|r| !r.changed_since_approval.is_empty())>
                <p class="warning" id="approval-outdated">
                    "The approval no longer matches the code: changed since approval: "
                    {move || r.with(|r| r.changed_since_approval.join(", "))}
                </p>
            </Show>
            <Show when=move || r.with(|r| !r.approvals.is_empty())>
                <ul class="approvals">
                    {move || r.with(|r| r.approvals.iter().map(|a| view! {
                        <li class="approval" class:stale=a.stale>
                            {format!("Approved by {} on revision {}", a.by.clone().unwrap_or_default(), a.revision)}
                            {a.stale.then_some(" — stale: the code changed since")}
                        </li>
                    }).collect_view())}
                </ul>
            </Show>
            <div class="review-actions">
                <input id="review-note" placeholder="Note (optional)" bind:value=note />
                {button(Action::Claim, "review-claim", "Claim", true, Callback::new(move |()| page.act(reviews::claim(id()))))}
                {button(Action::Decide(Decision::Approve), "review-approve", "Approve", true, Callback::new(move |()| decide(Decision::Approve)))}
                {button(Action::Decide(Decision::Confirm), "review-confirm", "Confirm approval", true, Callback::new(move |()| decide(Decision::Confirm)))}
                {button(Action::Decide(Decision::Reject), "review-reject", "Request changes", false, Callback::new(move |()| decide(Decision::Reject)))}
                {button(Action::Resubmit, "review-resubmit", "Resubmit", true, Callback::new(move |()| {
                    let n = take_note();
                    page.act(reviews::resubmit(id(), n));
                }))}
                {button(Action::Withdraw, "review-withdraw", "Withdraw", false, Callback::new(move |()| page.act(reviews::withdraw(id()))))}
                <Show when=move || allowed(Action::Assign)>
                    <input id="assign-to" placeholder="Reviewer" bind:value=reviewer />
                    <button class="button" id="review-assign" on:click=move |_| {
                        let who = reviewer.get_untracked();
                        page.act(reviews::assign(id(), who));
                    }>"Assign"</button>
                </Show>
            </div>
        </section>
    }
}

/// The revision picker and its files, each marked by how it changed.
#[component]
fn FilesPanel() -> impl IntoView {
    let page = page();
    let r = page.review;
    let files = Resource::new(
        move || (page.revision.get(), r.with(|r| r.summary.revision)),
        move |(rev, _)| {
            let id = page.id();
            async move { reviews::files(id, Some(rev)).await }
        },
    );
    // The first file opens by itself.
    Effect::new(move |_| {
        if page.path.with_untracked(Option::is_none) {
            if let Some(Ok(list)) = files.get() {
                if let Some(f) = list.first() {
                    page.path.set(Some(f.path.clone()));
                }
            }
        }
    });
    let pick = move |ev: leptos::ev::Event| {
        if let Ok(n) = event_target_value(&ev).parse() {
            page.revision.set(n);
        }
    };
    let against = move |ev: leptos::ev::Event| {
        page.compare.set(event_target_value(&ev).parse().ok());
    };
    view! {
        <div class="review-files">
            <label>"Revision "
                <select id="revision-select" on:change=pick prop:value=move || page.revision.get().to_string()>
                    {move || r.with(|r| r.revisions.iter().map(|v| view! {
                        <option value=v.number.to_string()>{format!("{} · {}", v.number, v.by.clone().unwrap_or_default())}</option>
                    }).collect_view())}
                </select>
            </label>
            <label>"Compare with "
                <select id="compare-select" on:change=against>
                    <option value="">"nothing"</option>
                    {move || r.with(|r| r.revisions.iter().map(|v| view! {
                        <option value=v.number.to_string()>{format!("revision {}", v.number)}</option>
                    }).collect_view())}
                </select>
            </label>
            <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
                {move || files.get().map(|f| match f {
                    Ok(list) => view! { <FileList list /> }.into_any(),
                    Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                })}
            </Transition>
        </div>
    }
}

#[component]
fn FileList(list: Vec<RevisionFile>) -> impl IntoView {
    let page = page();
    let count = move |path: &str| {
        page.review.with(|r| {
            r.comments
                .iter()
                .filter(|c| c.path.as_deref() == Some(path) && !c.resolved)
                .count()
        })
    };
    view! {
        <ul class="review-file-list">
            {list.into_iter().map(|f| {
                let path = f.path.clone();
                let p2 = f.path.clone();
                let p3 = f.path.clone();
                let mark = match f.change {
                    FileChange::Added => "A",
                    FileChange::Modified => "M",
                    FileChange::Unchanged => "",
                };
                view! {
                    <li>
                        <button class="review-file" data-path=f.path.clone()
                            class:active=move || page.path.get().as_deref() == Some(p2.as_str())
                            on:click=move |_| page.path.set(Some(path.clone()))>
                            <span class="change">{mark}</span>
                            {f.path.clone()}
                            {move || match count(&p3) { 0 => None, n => Some(view! { <span class="count">{n}</span> }) }}
                        </button>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// Monaco with the open file at the chosen revision (or a diff with another).
#[component]
fn FileView() -> impl IntoView {
    let page = page();
    if !page.can(Capability::Read) {
        return view! { <p class="hint">"Claim the request to read its files."</p> }.into_any();
    }
    let host = NodeRef::<leptos::html::Div>::new();
    let diff_host = NodeRef::<leptos::html::Div>::new();
    let texts = LocalResource::new(move || {
        let (id, path, rev, other) = (
            page.id(),
            page.path.get(),
            page.revision.get(),
            page.compare.get(),
        );
        async move {
            let Some(path) = path else { return Ok(None) };
            let this = reviews::read(id, path.clone(), Some(rev)).await?;
            let before = match other {
                Some(n) => Some(reviews::read(id, path, Some(n)).await?.content),
                None => None,
            };
            Ok::<_, AppError>(Some((this, before)))
        }
    });
    #[cfg(feature = "hydrate")]
    viewer(page, host, diff_host, texts);
    view! {
        <section class="review-file-view">
            <p class="hint">
                {move || page.path.get().map(|p| format!("{p} · revision {}", page.revision.get()))}
                {move || page.compare.get().map(|n| format!(" · compared with revision {n} (left)"))}
                " · click a line number to comment on it"
            </p>
            <p class="error">{move || match texts.get().map(|t| t.as_ref().err().map(|e| e.message.clone())) { Some(Some(m)) => Some(m), _ => None }}</p>
            <div class="review-editor" node_ref=host class:hidden=move || page.compare.get().is_some()></div>
            <div class="review-editor" node_ref=diff_host class:hidden=move || page.compare.get().is_none()></div>
        </section>
    }
    .into_any()
}

#[cfg(feature = "hydrate")]
type Texts = LocalResource<
    Result<Option<(crate::wire::reviews::RevisionContent, Option<String>)>, AppError>,
>;

#[cfg(feature = "hydrate")]
fn viewer(
    page: Page,
    host: NodeRef<leptos::html::Div>,
    diff_host: NodeRef<leptos::html::Div>,
    texts: Texts,
) {
    use super::monaco;
    use wasm_bindgen::prelude::Closure;
    let editor = StoredValue::new_local(None::<wasm_bindgen::JsValue>);
    let on_line = StoredValue::new_local(None::<Closure<dyn FnMut(u32)>>);
    let dispose_diff = StoredValue::new_local(None::<js_sys::Function>);
    let loaded = RwSignal::new(false);
    spawn_local(async move {
        match monaco::load().await {
            Ok(()) => loaded.set(true),
            Err(e) => page.error.set(Some(e)),
        }
    });
    Effect::new(move |_| {
        let (true, Some(el)) = (loaded.get(), host.get()) else {
            return;
        };
        if editor.with_value(Option::is_none) {
            let cb = Closure::<dyn FnMut(u32)>::new(move |line: u32| {
                page.lines.set((line.to_string(), String::new()));
            });
            editor.set_value(Some(monaco::create_review_editor(&el.into(), &cb)));
            on_line.set_value(Some(cb));
        }
    });
    Effect::new(move |_| {
        let threads = page
            .review
            .with(|r| threads_json(&r.comments, page.path.get().as_deref(), page.revision.get()));
        let (true, Some(Ok(Some((file, _))))) = (loaded.get(), texts.get()) else {
            return;
        };
        editor.with_value(|e| {
            if let Some(e) = e {
                let key = format!("{}/{}", file.revision, file.path);
                monaco::show_review_file(e, &key, &file.path, &file.content, &threads);
            }
        });
    });
    // Apart from the threads: a diff is remade only when its texts change (one
    // disposed while computing makes Monaco complain).
    Effect::new(move |_| {
        let (true, Some(Ok(Some((file, before))))) = (loaded.get(), texts.get()) else {
            return;
        };
        if let Some(f) = dispose_diff.get_value() {
            let _ = f.call0(&wasm_bindgen::JsValue::NULL);
            dispose_diff.set_value(None);
        }
        if let (Some(before), Some(el)) = (before, diff_host.get_untracked()) {
            dispose_diff.set_value(Some(monaco::show_diff(
                &el.into(),
                &file.path,
                &before,
                &file.content,
            )));
        }
    });
    on_cleanup(move || {
        if let Some(f) = dispose_diff.try_get_value().flatten() {
            let _ = f.call0(&wasm_bindgen::JsValue::NULL);
        }
        if let Some(e) = editor.try_get_value().flatten() {
            monaco::dispose_editor(&e);
        }
    });
}

/// The threads of `path` anchored at `revision`, for the viewer's gutter and zones.
#[cfg(feature = "hydrate")]
fn threads_json(comments: &[Comment], path: Option<&str>, revision: i32) -> String {
    let threads: Vec<serde_json::Value> = comments
        .iter()
        .filter(|c| c.path.as_deref() == path && c.revision == revision)
        .filter_map(|c| {
            let line = c.line?;
            Some(serde_json::json!({
                "line": line,
                "endLine": c.end_line.unwrap_or(line),
                "resolved": c.resolved,
                "heading": heading(c),
                "body": match &c.suggestion {
                    Some(s) => format!("{}\nSuggested:\n{s}", c.body),
                    None => c.body.clone(),
                },
                "replies": c.replies.iter().map(|r| format!("{}: {}", r.author.clone().unwrap_or_default(), r.body)).collect::<Vec<_>>(),
            }))
        })
        .collect();
    serde_json::Value::Array(threads).to_string()
}

fn heading(c: &Comment) -> String {
    let mut h = format!("{} · {}", c.author.clone().unwrap_or_default(), c.kind.id());
    if c.resolved {
        h.push_str(" · resolved");
    }
    if c.outdated {
        h.push_str(" · outdated");
    }
    if c.private {
        h.push_str(" · mentoring note (reviewers only)");
    }
    h
}

fn place(c: &Comment) -> String {
    match (&c.path, c.line, c.end_line) {
        (Some(p), Some(l), Some(e)) if e != l => format!("{p}:{l}–{e} (revision {})", c.revision),
        (Some(p), Some(l), _) => format!("{p}:{l} (revision {})", c.revision),
        (Some(p), None, _) => p.clone(),
        _ => "General".into(),
    }
}

#[component]
fn CommentForm() -> impl IntoView {
    let page = page();
    if !page.can(Capability::Comment) {
        return ().into_any();
    }
    let kind = RwSignal::new(Kind::General.id().to_string());
    let body = RwSignal::new(String::new());
    let suggestion = RwSignal::new(String::new());
    let on_file = RwSignal::new(true);
    let private = RwSignal::new(false);
    let senior = move || {
        page.review
            .with(|r| r.role == Role::Reviewer && r.level >= 2)
    };
    let newest = move || page.review.with(|r| r.summary.revision) == page.revision.get();
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (first, last) = page.lines.get_untracked();
        let path = on_file
            .get_untracked()
            .then(|| page.path.get_untracked())
            .flatten();
        let line = path.as_ref().and_then(|_| first.trim().parse::<i32>().ok());
        let end_line = line.and_then(|_| last.trim().parse::<i32>().ok());
        let k = kind.get_untracked();
        let s = (k == Kind::Suggestion.id()).then(|| suggestion.get_untracked());
        let (b, p) = (
            body.get_untracked(),
            private.get_untracked().then_some(true),
        );
        let id = page.id();
        spawn_local(async move {
            match reviews::comment(id, path, line, end_line, k, b, s, None, p).await {
                Ok(_) => {
                    body.set(String::new());
                    suggestion.set(String::new());
                    page.reload();
                }
                Err(e) => page.error.set(Some(e.message)),
            }
        });
    };
    view! {
        <form class="comment-form" id="comment-form" on:submit=send>
            <Show when=move || !newest()>
                <p class="hint">"Comments go on the newest revision; pick it to comment on lines."</p>
            </Show>
            <div class="row">
                <label><input type="checkbox" id="comment-on-file" bind:checked=on_file />
                    {move || page.path.get().map(|p| format!(" on {p}")).unwrap_or_else(|| " on a file".into())}
                </label>
                <label>"Line " <input id="comment-line" size="4"
                    prop:value=move || page.lines.get().0
                    on:input=move |ev| { let v = event_target_value(&ev); page.lines.update(|l| l.0 = v) } /></label>
                <label>"to " <input id="comment-end-line" size="4"
                    prop:value=move || page.lines.get().1
                    on:input=move |ev| { let v = event_target_value(&ev); page.lines.update(|l| l.1 = v) } /></label>
                <label>"Kind "
                    <select id="comment-kind" bind:value=kind>
                        {Kind::ALL.iter().map(|k| view! { <option value=k.id()>{k.id()}</option> }).collect_view()}
                    </select>
                </label>
                <Show when=senior>
                    <label><input type="checkbox" id="comment-private" bind:checked=private />" mentoring note (reviewers only)"</label>
                </Show>
            </div>
            <textarea id="comment-body" rows="3" placeholder="Comment" bind:value=body required></textarea>
            <Show when=move || kind.get() == Kind::Suggestion.id()>
                <textarea id="comment-suggestion" rows="3" placeholder="Replacement text for the lines" bind:value=suggestion></textarea>
            </Show>
            <button type="submit" class="button primary" id="comment-submit">"Comment"</button>
        </form>
    }
    .into_any()
}

#[component]
fn Threads() -> impl IntoView {
    let page = page();
    view! {
        <section class="threads" id="threads">
            <h2>"Comments"</h2>
            {move || page.review.with(|r| {
                if r.comments.is_empty() {
                    return view! { <p class="empty">"No comments yet."</p> }.into_any();
                }
                r.comments.iter().cloned().map(|c| view! { <Thread c /> }).collect_view().into_any()
            })}
        </section>
    }
}

#[component]
fn Thread(c: Comment) -> impl IntoView {
    let page = page();
    let user = use_user();
    let mine = {
        let author = c.author.clone();
        move || {
            user.get()
                .and_then(|u| u.ok().flatten())
                .is_some_and(|u| Some(u.username) == author)
        }
    };
    let submits = move || page.review.with(|r| r.role.submits());
    let reply = RwSignal::new(String::new());
    let (id, resolved) = (c.id, c.resolved);
    let toggle = move |_| {
        spawn_local(async move {
            match reviews::resolve(id, !resolved).await {
                Ok(()) => page.reload(),
                Err(e) => page.error.set(Some(e.message)),
            }
        });
    };
    let apply = move |_| {
        spawn_local(async move {
            match reviews::apply(id).await {
                Ok(_) => page.reload(),
                Err(e) => page.error.set(Some(e.message)),
            }
        });
    };
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = reply.get_untracked();
        let review = page.id();
        spawn_local(async move {
            let kind = Kind::General.id().to_string();
            match reviews::comment(review, None, None, None, kind, body, None, Some(id), None).await
            {
                Ok(_) => {
                    reply.set(String::new());
                    page.reload();
                }
                Err(e) => page.error.set(Some(e.message)),
            }
        });
    };
    let can_apply = c.suggestion.is_some() && !c.applied && !c.outdated;
    let goto = {
        let (path, revision, line) = (c.path.clone(), c.revision, c.line);
        move |_| {
            if let Some(p) = path.clone() {
                page.compare.set(None);
                page.revision.set(revision);
                page.path.set(Some(p));
                if let Some(l) = line {
                    page.lines.set((l.to_string(), String::new()));
                }
            }
        }
    };
    view! {
        <article class="thread" data-kind=c.kind.id() class:resolved=c.resolved class:outdated=c.outdated>
            <header>
                <button class="link-button thread-where" on:click=goto>{place(&c)}</button>
                <span class="thread-heading">{heading(&c)}</span>
            </header>
            <p class="thread-body">{c.body.clone()}</p>
            {c.suggestion.clone().map(|s| view! {
                <pre class="suggestion">{s}</pre>
                {c.applied.then_some(view! { <p class="hint">"Applied."</p> })}
            })}
            <ul class="replies">
                {c.replies.iter().map(|r| view! {
                    <li class="reply"><strong>{r.author.clone().unwrap_or_default()}</strong>": "{r.body.clone()}</li>
                }).collect_view()}
            </ul>
            <div class="thread-actions">
                <Show when=move || can_apply && submits()>
                    <button class="button primary apply-suggestion" on:click=apply>"Apply suggestion"</button>
                </Show>
                <Show when=move || submits() || mine()>
                    <button class="button resolve-thread" on:click=toggle>{if resolved { "Reopen" } else { "Resolve" }}</button>
                </Show>
            </div>
            <Show when=move || page.can(Capability::Comment)>
                <form class="reply-form" on:submit=send>
                    <input class="reply-body" placeholder="Reply" bind:value=reply required />
                    <button type="submit" class="button reply-thread">"Reply"</button>
                </form>
            </Show>
        </article>
    }
}

#[component]
fn History() -> impl IntoView {
    let page = page();
    view! {
        <section class="review-history">
            <h2>"History"</h2>
            <ol id="review-history">
                {move || page.review.with(|r| r.history.iter().map(|h| {
                    let mut line = format!("{} · {} {}", h.at.format("%Y-%m-%d %H:%M"), h.by.clone().unwrap_or_default(), h.event.replace('_', " "));
                    if let Some(a) = &h.assignee {
                        line.push_str(&format!(" → {a}"));
                    }
                    if let Some(n) = h.revision {
                        line.push_str(&format!(" (revision {n})"));
                    }
                    if h.from_status != Some(h.to_status) {
                        line.push_str(&format!(" · {}", h.to_status.label()));
                    }
                    if !h.note.is_empty() {
                        line.push_str(&format!(" — {}", h.note));
                    }
                    view! { <li data-event=h.event.clone()>{line}</li> }
                }).collect_view())}
            </ol>
        </section>
    }
}
