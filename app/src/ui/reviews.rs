//! The Reviews page: the inboxes ("waiting on me", "submitted by me", "assigned
//! to me"), the queue of unclaimed requests for reviewers (by priority, then age)
//! and, for seniors, the juniors' open reviews.

use super::{layout::IdeLayout, use_user};
use crate::api::reviews;
use crate::wire::reviews::{Filter, ReviewSummary, Turn};
use leptos::prelude::*;
use leptos::task::spawn_local;

fn tab_label(f: Filter) -> &'static str {
    match f {
        Filter::WaitingOnMe => "Waiting on me",
        Filter::Submitted => "Submitted by me",
        Filter::Assigned => "Assigned to me",
        Filter::Queue => "Queue",
        Filter::Mentoring => "Juniors' reviews",
    }
}

pub fn turn_label(t: Turn) -> &'static str {
    match t {
        Turn::Reviewers => "any reviewer",
        Turn::Reviewer => "the reviewer",
        Turn::Senior => "a senior reviewer",
        Turn::Submitter => "the submitter",
        Turn::Nobody => "nobody",
    }
}

#[component]
pub fn ReviewsPage() -> impl IntoView {
    let user = use_user();
    let filter = RwSignal::new(Filter::WaitingOnMe);
    let list = Resource::new(move || filter.get(), |f| reviews::list(f.id().to_string()));
    let level = move || {
        user.get()
            .and_then(|u| u.ok().flatten())
            .map(|u| u.reviewer_level)
            .unwrap_or(0)
    };
    let tabs = move || {
        let mut tabs = vec![Filter::WaitingOnMe, Filter::Submitted];
        if level() >= 1 {
            tabs.extend([Filter::Assigned, Filter::Queue]);
        }
        if level() >= 2 {
            tabs.push(Filter::Mentoring);
        }
        tabs
    };
    view! {
        <IdeLayout
            title=Signal::derive(|| "Reviews".to_string())
            sidebar=move || view! {
                <nav class="review-tabs" aria-label="Review lists">
                    <Transition>
                        {move || tabs().into_iter().map(|f| view! {
                            <button class="tab-link" class:active=move || filter.get() == f
                                id=format!("reviews-{}", f.id()) on:click=move |_| filter.set(f)>
                                {tab_label(f)}
                            </button>
                        }).collect_view()}
                        // Inside the Transition: the user is known here on both sides.
                        <p class="hint">
                            {move || (level() == 0).then_some("To review others' code, choose it in your profile.")}
                        </p>
                    </Transition>
                </nav>
            }
            editor=move || view! {
                <div class="sessions-page">
                    <h1>{move || tab_label(filter.get())}</h1>
                    <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
                        {move || list.get().map(|r| match r {
                            Ok(items) if items.is_empty() => view! { <p class="empty">"Nothing here."</p> }.into_any(),
                            Ok(items) => view! { <ReviewTable items list queue=filter.get() == Filter::Queue /> }.into_any(),
                            Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                        })}
                    </Transition>
                </div>
            }
        />
    }
}

#[component]
fn ReviewTable(
    items: Vec<ReviewSummary>,
    list: Resource<Result<Vec<ReviewSummary>, crate::AppError>>,
    queue: bool,
) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    view! {
        <p class="error" role="alert">{move || error.get()}</p>
        <table class="review-list">
            <thead><tr>
                <th>"Title"</th><th>"Session"</th><th>"Priority"</th><th>"Status"</th>
                <th>"Whose move"</th><th>"Open issues"</th><th>"Submitted by"</th><th>"Reviewer"</th><th></th>
            </tr></thead>
            <tbody>
                {items.into_iter().map(|r| {
                    let id = r.id;
                    let claim = move |_| spawn_local(async move {
                        match reviews::claim(id).await {
                            Ok(_) => { let _ = window().location().set_href(&format!("/reviews/{id}")); }
                            Err(e) => { error.set(Some(e.message)); list.refetch(); }
                        }
                    });
                    view! {
                        <tr class="review-row">
                            <td><a href=format!("/reviews/{id}")>{r.title}</a></td>
                            <td>{r.session_name}</td>
                            <td><span class=format!("priority {}", r.priority.id())>{r.priority.id()}</span></td>
                            <td><span class=format!("status {}", r.status.id())>{r.status.label()}</span></td>
                            <td>{turn_label(r.whose_turn)}</td>
                            <td>{r.unresolved}</td>
                            <td>{r.submitted_by}</td>
                            <td>{r.assigned_to.unwrap_or_else(|| "—".into())}</td>
                            <td>{queue.then(|| view! { <button class="button" on:click=claim>"Claim"</button> })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
