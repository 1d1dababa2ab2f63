//! `/api/reviews/*`: submitting a session for review, the lists, a request with
//! its revisions, comments and history, and the workflow's moves.

// A comment's fields are the endpoint's JSON arguments, one parameter each; the
// client half the macro generates cannot carry an allow of its own.
#![allow(clippy::too_many_arguments)]

use crate::wire::files::Saved;
use crate::wire::reviews::{self as wire, Review, ReviewSummary, RevisionContent, RevisionFile};
use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use uuid::Uuid;

#[cfg(feature = "ssr")]
use crate::{
    server::{
        access::{self, ReviewKey},
        reviews as data,
    },
    wire::access::Capability,
};

/// Submits `session` for review (its owner, an admin or an editor): revision 1
/// records the version of every file.
#[server(prefix = "/api", endpoint = "reviews/submit", input = Json)]
pub async fn submit(
    session: Uuid,
    title: String,
    description: String,
    priority: String,
    reviewer: Option<String>,
) -> Result<Review, AppError> {
    let (state, g) = access::session(session, Capability::Write).await?;
    let s = data::Submission {
        title,
        description,
        priority,
        reviewer,
    };
    data::submit(&state, &g, s).await
}

/// `queue`, `waiting_on_me`, `submitted`, `assigned` or `mentoring`.
#[server(prefix = "/api", endpoint = "reviews/list", input = Json)]
pub async fn list(filter: String) -> Result<Vec<ReviewSummary>, AppError> {
    let (state, login) = access::caller().await?;
    data::list(&state.pool, &login, &filter).await
}

#[server(prefix = "/api", endpoint = "reviews/get", input = Json)]
pub async fn get(id: Uuid) -> Result<Review, AppError> {
    let (state, rg) = access::review(ReviewKey::Id(id), Capability::Glance).await?;
    data::get(&state, &rg).await
}

/// Takes a pending request nobody has claimed (a reviewer).
#[server(prefix = "/api", endpoint = "reviews/claim", input = Json)]
pub async fn claim(id: Uuid) -> Result<Review, AppError> {
    let (state, rg) = access::review(ReviewKey::Id(id), Capability::Review).await?;
    data::claim(&state, &rg).await?;
    again(id).await
}

/// Assigns or reassigns the request to `reviewer` (a username or email): seniors.
#[server(prefix = "/api", endpoint = "reviews/assign", input = Json)]
pub async fn assign(id: Uuid, reviewer: String) -> Result<Review, AppError> {
    let (state, rg) = access::review(ReviewKey::Id(id), Capability::Glance).await?;
    data::assign(&state, &rg, &reviewer).await?;
    again(id).await
}

/// The files of a revision (the newest by default), each against the one before.
#[server(prefix = "/api", endpoint = "reviews/files", input = Json)]
pub async fn files(id: Uuid, revision: Option<i32>) -> Result<Vec<RevisionFile>, AppError> {
    let (state, rg) = access::review(ReviewKey::Id(id), Capability::Glance).await?;
    data::files(&state.pool, &rg, revision).await
}

#[server(prefix = "/api", endpoint = "reviews/read", input = Json)]
pub async fn read(
    id: Uuid,
    path: String,
    revision: Option<i32>,
) -> Result<RevisionContent, AppError> {
    let (state, rg) = access::review(ReviewKey::Id(id), Capability::Read).await?;
    data::read(&state.pool, &rg, &path, revision).await
}

/// A comment on the request, a file or a line range of the newest revision, or
/// a reply (`reply_to`); `private` makes a senior's mentoring note.
#[server(prefix = "/api", endpoint = "reviews/comment", input = Json)]
pub async fn comment(
    id: Uuid,
    path: Option<String>,
    line: Option<i32>,
    end_line: Option<i32>,
    kind: String,
    body: String,
    suggestion: Option<String>,
    reply_to: Option<Uuid>,
    private: Option<bool>,
) -> Result<wire::Comment, AppError> {
    let (state, rg) = access::review(ReviewKey::Id(id), Capability::Comment).await?;
    let c = data::NewComment {
        path,
        line,
        end_line,
        kind,
        body,
        suggestion,
        reply_to,
        private: private.unwrap_or(false),
    };
    let made = data::comment(&state, &rg, c).await?;
    data::threads(&state.pool, &rg)
        .await?
        .into_iter()
        .find(|c| c.id == made || c.replies.iter().any(|r| r.id == made))
        .ok_or_else(|| AppError::internal("a new comment missing from its review"))
}

/// Marks a comment thread resolved or open again (the submitting side or its author).
#[server(prefix = "/api", endpoint = "reviews/resolve", input = Json)]
pub async fn resolve(comment: Uuid, resolved: bool) -> Result<(), AppError> {
    let (state, rg) = access::review(ReviewKey::Comment(comment), Capability::Read).await?;
    data::resolve(&state, &rg, comment, resolved).await
}

/// Applies a suggestion to its file; 409 with the current file if it changed since.
#[server(prefix = "/api", endpoint = "reviews/apply", input = Json)]
pub async fn apply(comment: Uuid) -> Result<Saved, AppError> {
    let (state, rg) = access::review(ReviewKey::Comment(comment), Capability::Write).await?;
    data::apply(&state, &rg, comment).await
}

/// `approve`, `reject` or `confirm` (a senior, after a junior's approval).
#[server(prefix = "/api", endpoint = "reviews/decide", input = Json)]
pub async fn decide(id: Uuid, decision: String, note: Option<String>) -> Result<Review, AppError> {
    let (state, rg) = access::review(ReviewKey::Id(id), Capability::Review).await?;
    data::decide(&state, &rg, &decision, note.as_deref().unwrap_or("")).await?;
    again(id).await
}

/// A new revision with the files as they are now, back to the reviewer.
#[server(prefix = "/api", endpoint = "reviews/resubmit", input = Json)]
pub async fn resubmit(id: Uuid, note: Option<String>) -> Result<Review, AppError> {
    let (state, rg) = access::review(ReviewKey::Id(id), Capability::Write).await?;
    data::resubmit(&state, &rg, note.as_deref().unwrap_or("")).await?;
    again(id).await
}

#[server(prefix = "/api", endpoint = "reviews/withdraw", input = Json)]
pub async fn withdraw(id: Uuid) -> Result<Review, AppError> {
    let (state, rg) = access::review(ReviewKey::Id(id), Capability::Write).await?;
    data::withdraw(&state, &rg).await?;
    again(id).await
}

/// The request after a move, as the caller now sees it.
#[cfg(feature = "ssr")]
async fn again(id: Uuid) -> Result<Review, AppError> {
    let (state, rg) = access::review(ReviewKey::Id(id), Capability::Glance).await?;
    data::get(&state, &rg).await
}
