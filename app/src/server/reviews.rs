//! Code review: requests with their revisions (the version of every file at each
//! submission), comments anchored to those versions and re-anchored on each new
//! revision, the workflow's moves (the rules are `wire::reviews::transition`) and
//! the lists. Every change is recorded in `review_history` and announced, so
//! open review pages refresh and streams whose reader lost access close.

use super::access::{self, Change, Grant, Login, ReviewGrant};
use super::content::Body;
use super::files::{self, Writer};
use super::state::AppState;
use super::{anchors, blobs, markdown};
use crate::paths;
use crate::wire::access::{Capability, Role};
use crate::wire::files::Saved;
use crate::wire::history::Source;
use crate::wire::reviews::{
    transition, whose_turn, Action, Actor, Approval, Comment, Decision, FileChange, Filter,
    HistoryEntry, Kind, Priority, Refusal, Reply, Review, ReviewSummary, Revision, RevisionContent,
    RevisionFile, Status, Turn,
};
use crate::{error::constraint_of, AppError};
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Transaction};
use std::collections::HashMap;
use uuid::Uuid;

const MAX_TITLE: usize = 200;
const MAX_DESCRIPTION: usize = 20_000;
const MAX_BODY: usize = 10_000;

/// What a submission says.
pub struct Submission {
    pub title: String,
    pub description: String,
    pub priority: String,
    pub reviewer: Option<String>,
}

/// Submits the session of `g` for review: revision 1 holds the version of every file.
pub async fn submit(state: &AppState, g: &Grant, s: Submission) -> Result<Review, AppError> {
    let title = s.title.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE {
        return Err(AppError::invalid(format!(
            "a title is 1 to {MAX_TITLE} characters"
        )));
    }
    if s.description.chars().count() > MAX_DESCRIPTION {
        return Err(AppError::invalid(format!(
            "a description is at most {MAX_DESCRIPTION} characters"
        )));
    }
    let priority = Priority::parse(&s.priority).map_err(AppError::invalid)?;
    let reviewer = match s
        .reviewer
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        Some(name) => Some(reviewer_for(&state.pool, g.session_id, g.login.id, name).await?),
        None => None,
    };
    let mut tx = state.pool.begin().await?;
    let status = if reviewer.is_some() {
        Status::InReview
    } else {
        Status::Pending
    };
    let inserted: Result<(i64, Uuid), sqlx::Error> = sqlx::query_as(
        "INSERT INTO review_requests (session_id, title, description, priority, status, submitted_by, assigned_to)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, uuid",
    )
    .bind(g.session_id)
    .bind(title)
    .bind(&s.description)
    .bind(priority)
    .bind(status)
    .bind(g.login.id)
    .bind(reviewer)
    .fetch_one(&mut *tx)
    .await;
    let (id, uuid) = match inserted {
        Err(e) if constraint_of(&e) == Some("review_requests_one_open") => {
            return Err(AppError::conflict(
                "this session already has an open review request: resubmit or withdraw it",
            ))
        }
        other => other?,
    };
    snapshot(&mut tx, id, g.session_id, 1, g.login.id, "").await?;
    record(
        &mut tx,
        id,
        g.login.id,
        None,
        status,
        "submitted",
        Some(1),
        reviewer,
        "",
    )
    .await?;
    tx.commit().await?;
    let rg = ReviewGrant {
        grant: g.clone(),
        review: access::ReviewRef {
            id,
            uuid,
            status,
            priority,
            submitted_by: g.login.id,
            assigned_to: reviewer,
        },
    };
    get(state, &rg).await
}

/// The user named `name` (username or email), if they may review the session:
/// a reviewer, and not of its submitting side.
async fn reviewer_for(pool: &PgPool, sid: i64, me: i64, name: &str) -> Result<i64, AppError> {
    let found: Option<(i64, String, i16, Option<Role>)> = sqlx::query_as(
        "SELECT u.id, u.username, u.reviewer_level, r.role FROM users u
         LEFT JOIN session_roles r ON r.session_id = $1 AND r.user_id = u.id
         WHERE lower(u.username) = lower($2) OR lower(u.email) = lower($2)",
    )
    .bind(sid)
    .bind(name)
    .fetch_optional(pool)
    .await?;
    let (id, username, level, role) =
        found.ok_or_else(|| AppError::invalid(format!("no user named {name}")))?;
    if level < 1 {
        return Err(AppError::invalid(format!("{username} is not a reviewer")));
    }
    if id == me || role.is_some_and(Role::submits) {
        return Err(AppError::invalid(format!(
            "{username} can change this session's files, so cannot review it"
        )));
    }
    Ok(id)
}

/// Records revision `number`: the current version of every file of the session.
async fn snapshot(
    tx: &mut Transaction<'_, Postgres>,
    review: i64,
    sid: i64,
    number: i32,
    by: i64,
    note: &str,
) -> Result<(), AppError> {
    let revision: i64 = sqlx::query_scalar(
        "INSERT INTO review_revisions (review_id, number, created_by, note) VALUES ($1, $2, $3, $4)
         RETURNING id",
    )
    .bind(review)
    .bind(number)
    .bind(by)
    .bind(note)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO review_revision_files (revision_id, path, version_id)
         SELECT $1, i.full_path, v.id FROM workspace_items i
         CROSS JOIN LATERAL (
             SELECT id FROM file_versions v
             WHERE v.session_id = i.session_id AND v.file_key = i.file_key AND v.hash = i.content_hash
             ORDER BY v.id DESC LIMIT 1) v
         WHERE i.session_id = $2 AND i.kind = 'file'",
    )
    .bind(revision)
    .bind(sid)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn record(
    tx: &mut Transaction<'_, Postgres>,
    review: i64,
    by: i64,
    from: Option<Status>,
    to: Status,
    event: &str,
    revision: Option<i32>,
    assignee: Option<i64>,
    note: &str,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO review_history (review_id, changed_by, from_status, to_status, event, revision, assignee, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(review)
    .bind(by)
    .bind(from)
    .bind(to)
    .bind(event)
    .bind(revision)
    .bind(assignee)
    .bind(note)
    .execute(&mut **tx)
    .await?;
    let uuid: Uuid = sqlx::query_scalar(
        "UPDATE review_requests SET updated_at = now() WHERE id = $1 RETURNING uuid",
    )
    .bind(review)
    .fetch_one(&mut **tx)
    .await?;
    access::announce(&mut **tx, &Change::Review(uuid)).await?;
    Ok(())
}

/// Tells the request's pages that something changed.
async fn touched(tx: &mut Transaction<'_, Postgres>, rg: &ReviewGrant) -> Result<(), AppError> {
    sqlx::query("UPDATE review_requests SET updated_at = now() WHERE id = $1")
        .bind(rg.review.id)
        .execute(&mut **tx)
        .await?;
    access::announce(&mut **tx, &Change::Review(rg.review.uuid)).await?;
    Ok(())
}

fn refused(r: Refusal) -> AppError {
    match r {
        Refusal::Forbidden(m) => AppError::forbidden(m),
        Refusal::Illegal(m) => AppError::conflict(m),
    }
}

fn actor(rg: &ReviewGrant) -> Actor {
    Actor {
        role: rg.grant.role,
        level: rg.level(),
        assigned: rg.assigned(),
    }
}

/// Moves the request by `action` if the rules allow it from its status now.
async fn step(
    state: &AppState,
    rg: &ReviewGrant,
    action: Action,
    assignee: Option<i64>,
    note: &str,
) -> Result<Status, AppError> {
    let r = &rg.review;
    let to = transition(
        r.status,
        r.priority,
        r.assigned_to.is_some(),
        action,
        actor(rg),
    )
    .map_err(refused)?;
    let mut tx = state.pool.begin().await?;
    let assigned = match action {
        Action::Claim => Some(rg.grant.login.id),
        Action::Assign => assignee,
        _ => r.assigned_to,
    };
    // Only from the status the decision was taken on: a concurrent move wins.
    let moved = sqlx::query(
        "UPDATE review_requests SET status = $3, assigned_to = $4,
                resolved_at = CASE WHEN $3 IN ('approved', 'withdrawn') THEN now() END
         WHERE id = $1 AND status = $2 AND assigned_to IS NOT DISTINCT FROM $5",
    )
    .bind(r.id)
    .bind(r.status)
    .bind(to)
    .bind(assigned)
    .bind(r.assigned_to)
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() == 0 {
        return Err(AppError::conflict(
            "the request changed meanwhile; reload it and try again",
        ));
    }
    let revision = newest_revision(&mut tx, r.id).await?;
    let event = match action {
        Action::Claim => "claimed",
        Action::Assign => "assigned",
        Action::Decide(Decision::Approve) if to == Status::AwaitingConfirmation => {
            "awaiting_confirmation"
        }
        Action::Decide(Decision::Approve) => "approved",
        Action::Decide(Decision::Confirm) => "confirmed",
        Action::Decide(Decision::Reject) => "rejected",
        Action::Resubmit => "resubmitted",
        Action::Withdraw => "withdrawn",
    };
    let revision = if action == Action::Resubmit {
        let next = revision + 1;
        snapshot(
            &mut tx,
            r.id,
            rg.grant.session_id,
            next,
            rg.grant.login.id,
            note,
        )
        .await?;
        reanchor(&mut tx, rg.grant.session_id, r.id, revision, next).await?;
        next
    } else {
        revision
    };
    let who = matches!(action, Action::Claim | Action::Assign)
        .then_some(assigned)
        .flatten();
    let from = Some(r.status);
    record(
        &mut tx,
        r.id,
        rg.grant.login.id,
        from,
        to,
        event,
        Some(revision),
        who,
        note,
    )
    .await?;
    tx.commit().await?;
    Ok(to)
}

async fn newest_revision(tx: &mut Transaction<'_, Postgres>, review: i64) -> Result<i32, AppError> {
    Ok(
        sqlx::query_scalar("SELECT max(number) FROM review_revisions WHERE review_id = $1")
            .bind(review)
            .fetch_one(&mut **tx)
            .await?,
    )
}

pub async fn claim(state: &AppState, rg: &ReviewGrant) -> Result<Status, AppError> {
    step(state, rg, Action::Claim, None, "").await
}

pub async fn assign(
    state: &AppState,
    rg: &ReviewGrant,
    reviewer: &str,
) -> Result<Status, AppError> {
    // The rules first: a junior learns they may not assign before who may be.
    transition(
        rg.review.status,
        rg.review.priority,
        true,
        Action::Assign,
        actor(rg),
    )
    .map_err(refused)?;
    let me = rg.review.submitted_by;
    let id = reviewer_for(&state.pool, rg.grant.session_id, me, reviewer).await?;
    step(state, rg, Action::Assign, Some(id), "").await
}

pub async fn decide(
    state: &AppState,
    rg: &ReviewGrant,
    decision: &str,
    note: &str,
) -> Result<Status, AppError> {
    let decision = Decision::parse(decision).map_err(AppError::invalid)?;
    if decision != Decision::Reject {
        let open = unresolved_issues(&state.pool, rg.review.id).await?;
        if !open.is_empty() && transition_allowed(rg, Action::Decide(decision)) {
            return Err(AppError::conflict(format!(
                "{} unresolved issue{} block{} approval: {}",
                open.len(),
                if open.len() == 1 { "" } else { "s" },
                if open.len() == 1 { "s" } else { "" },
                open.join("; ")
            )));
        }
    }
    step(state, rg, Action::Decide(decision), None, note).await
}

fn transition_allowed(rg: &ReviewGrant, action: Action) -> bool {
    let r = &rg.review;
    transition(
        r.status,
        r.priority,
        r.assigned_to.is_some(),
        action,
        actor(rg),
    )
    .is_ok()
}

/// The open issue comments, as "path:line “body”".
async fn unresolved_issues(pool: &PgPool, review: i64) -> Result<Vec<String>, AppError> {
    let rows: Vec<(Option<String>, Option<i32>, String)> = sqlx::query_as(
        "SELECT file_path, anchor_line, body FROM review_comments
         WHERE review_id = $1 AND reply_to IS NULL AND comment_type = 'issue' AND NOT is_resolved
           AND visibility = 'all'
         ORDER BY created_at",
    )
    .bind(review)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(path, line, body)| {
            let short: String = body.chars().take(60).collect();
            match (path, line) {
                (Some(p), Some(l)) => format!("{p}:{l} “{short}”"),
                (Some(p), None) => format!("{p} “{short}”"),
                _ => format!("“{short}”"),
            }
        })
        .collect())
}

pub async fn resubmit(state: &AppState, rg: &ReviewGrant, note: &str) -> Result<Status, AppError> {
    step(state, rg, Action::Resubmit, None, note).await
}

pub async fn withdraw(state: &AppState, rg: &ReviewGrant) -> Result<Status, AppError> {
    step(state, rg, Action::Withdraw, None, "").await
}

/// A revision's file: its version row and the file's identity.
#[derive(sqlx::FromRow)]
struct AtRevision {
    path: String,
    version: i32,
    hash: String,
    size: i64,
    file_key: i64,
}

async fn files_at(
    db: impl sqlx::PgExecutor<'_>,
    review: i64,
    number: i32,
) -> Result<Vec<AtRevision>, AppError> {
    Ok(sqlx::query_as(
        "SELECT f.path, v.version, v.hash, v.size, v.file_key
         FROM review_revisions r
         JOIN review_revision_files f ON f.revision_id = r.id
         JOIN file_versions v ON v.id = f.version_id
         WHERE r.review_id = $1 AND r.number = $2 ORDER BY f.path",
    )
    .bind(review)
    .bind(number)
    .fetch_all(db)
    .await?)
}

/// A version's text; a binary version reads as one line saying what it is, so a
/// review shows it (and may comment on it) without a text view of its bytes.
async fn text_of(db: &mut sqlx::PgConnection, sid: i64, hash: &str) -> Result<String, AppError> {
    let bytes = blobs::content(db, sid, hash, &mut blobs::Cache::default()).await?;
    let size = bytes.len();
    Ok(match String::from_utf8(bytes) {
        Ok(t) if !t.contains('\0') => t,
        _ => format!("(binary file, {size} bytes)\n"),
    })
}

/// Moves every comment that could follow its lines from revision `from` to `to`;
/// the others are marked outdated and stay shown against the revision they were on.
async fn reanchor(
    tx: &mut Transaction<'_, Postgres>,
    sid: i64,
    review: i64,
    from: i32,
    to: i32,
) -> Result<(), AppError> {
    let comments: Vec<(i64, String, Option<i32>, Option<i32>)> = sqlx::query_as(
        "SELECT id, file_path, anchor_line, anchor_end_line FROM review_comments
         WHERE review_id = $1 AND reply_to IS NULL AND file_path IS NOT NULL
           AND NOT outdated AND anchor_revision = $2",
    )
    .bind(review)
    .bind(from)
    .fetch_all(&mut **tx)
    .await?;
    if comments.is_empty() {
        return Ok(());
    }
    let old: HashMap<String, AtRevision> = files_at(&mut **tx, review, from)
        .await?
        .into_iter()
        .map(|f| (f.path.clone(), f))
        .collect();
    let new: HashMap<i64, AtRevision> = files_at(&mut **tx, review, to)
        .await?
        .into_iter()
        .map(|f| (f.file_key, f))
        .collect();
    let mut texts: HashMap<String, String> = HashMap::new();
    for (id, path, line, end) in comments {
        // The same file in the new revision, wherever it moved.
        let followed = match old
            .get(&path)
            .and_then(|o| Some((o, new.get(&o.file_key)?)))
        {
            None => None,
            Some((o, n)) => match line {
                None => Some((n.path.clone(), None)),
                Some(first) => {
                    for hash in [&o.hash, &n.hash] {
                        if !texts.contains_key(hash.as_str()) {
                            let text = text_of(tx, sid, hash).await?;
                            texts.insert(hash.clone(), text);
                        }
                    }
                    let last = end.unwrap_or(first);
                    anchors::follow(&texts[&o.hash], &texts[&n.hash], first, last)
                        .map(|lines| (n.path.clone(), Some(lines)))
                }
            },
        };
        match followed {
            Some((path, lines)) => {
                sqlx::query(
                    "UPDATE review_comments SET file_path = $2, anchor_revision = $3,
                            anchor_line = $4, anchor_end_line = $5 WHERE id = $1",
                )
                .bind(id)
                .bind(path)
                .bind(to)
                .bind(lines.map(|l| l.0))
                .bind(lines.map(|l| l.1))
                .execute(&mut **tx)
                .await?;
            }
            None => {
                sqlx::query("UPDATE review_comments SET outdated = true WHERE id = $1")
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
            }
        }
    }
    Ok(())
}

/// What a comment says and where.
pub struct NewComment {
    pub path: Option<String>,
    pub line: Option<i32>,
    pub end_line: Option<i32>,
    pub kind: String,
    pub body: String,
    pub suggestion: Option<String>,
    pub reply_to: Option<Uuid>,
    pub private: bool,
}

pub async fn comment(state: &AppState, rg: &ReviewGrant, c: NewComment) -> Result<Uuid, AppError> {
    let kind = Kind::parse(&c.kind).map_err(AppError::invalid)?;
    let body = c.body.trim();
    if body.is_empty() || body.chars().count() > MAX_BODY {
        return Err(AppError::invalid(format!(
            "a comment is 1 to {MAX_BODY} characters"
        )));
    }
    let senior = rg.grant.role == Role::Reviewer && rg.level() >= 2;
    let mut tx = state.pool.begin().await?;
    let revision = newest_revision(&mut tx, rg.review.id).await?;
    let (parent, private) = match c.reply_to {
        Some(parent) => {
            let found: Option<(i64, String)> = sqlx::query_as(
                "SELECT id, visibility FROM review_comments
                 WHERE uuid = $1 AND review_id = $2 AND reply_to IS NULL",
            )
            .bind(parent)
            .bind(rg.review.id)
            .fetch_optional(&mut *tx)
            .await?;
            let (id, visibility) =
                found.ok_or_else(|| AppError::not_found("no such comment to reply to"))?;
            if visibility == "reviewers" && rg.grant.role != Role::Reviewer {
                return Err(AppError::not_found("no such comment to reply to"));
            }
            (Some(id), visibility == "reviewers")
        }
        None => (None, c.private),
    };
    if private && !senior {
        return Err(AppError::forbidden(
            "Mentoring notes are written by senior reviewers",
        ));
    }
    let (path, line, end_line) = if parent.is_some() {
        (None, None, None)
    } else {
        where_on(&mut tx, rg, revision, &c).await?
    };
    let suggestion = match (kind, c.suggestion) {
        (Kind::Suggestion, Some(s)) if line.is_some() => Some(s),
        (Kind::Suggestion, Some(_)) => {
            return Err(AppError::invalid(
                "a suggestion replaces lines: give the line",
            ))
        }
        (_, Some(_)) => {
            return Err(AppError::invalid(
                "replacement text goes with a comment of kind suggestion",
            ))
        }
        (_, None) => None,
    };
    let uuid: Uuid = sqlx::query_scalar(
        "INSERT INTO review_comments (review_id, author_id, file_path, line_number, end_line,
             comment_type, body, suggestion, reply_to, revision, anchor_revision, anchor_line,
             anchor_end_line, visibility)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $4, $5, $11) RETURNING uuid",
    )
    .bind(rg.review.id)
    .bind(rg.grant.login.id)
    .bind(&path)
    .bind(line)
    .bind(end_line)
    .bind(if parent.is_some() {
        Kind::General
    } else {
        kind
    })
    .bind(body)
    .bind(suggestion)
    .bind(parent)
    .bind(revision)
    .bind(if private { "reviewers" } else { "all" })
    .fetch_one(&mut *tx)
    .await?;
    touched(&mut tx, rg).await?;
    tx.commit().await?;
    Ok(uuid)
}

/// The file and lines of a new comment, checked against the newest revision.
async fn where_on(
    tx: &mut Transaction<'_, Postgres>,
    rg: &ReviewGrant,
    revision: i32,
    c: &NewComment,
) -> Result<(Option<String>, Option<i32>, Option<i32>), AppError> {
    let Some(path) = c.path.as_deref() else {
        if c.line.is_some() {
            return Err(AppError::invalid("a line goes with a path"));
        }
        return Ok((None, None, None));
    };
    let path = paths::validate(path)?;
    let file = files_at(&mut **tx, rg.review.id, revision)
        .await?
        .into_iter()
        .find(|f| f.path == path)
        .ok_or_else(|| AppError::invalid(format!("{path} is not in revision {revision}")))?;
    let Some(line) = c.line else {
        return Ok((Some(path), None, None));
    };
    let end = c.end_line.unwrap_or(line);
    let text = text_of(tx, rg.grant.session_id, &file.hash).await?;
    let lines = anchors::line_count(&text);
    if line < 1 || end < line || end > lines {
        return Err(AppError::invalid(format!(
            "{path} has lines 1 to {lines} in revision {revision}; {line}–{end} is not among them"
        )));
    }
    Ok((Some(path), Some(line), (end != line).then_some(end)))
}

/// Marks a comment resolved or not: the submitting side or its author.
pub async fn resolve(
    state: &AppState,
    rg: &ReviewGrant,
    comment: Uuid,
    resolved: bool,
) -> Result<(), AppError> {
    let author: Option<Option<i64>> = sqlx::query_scalar(
        "SELECT author_id FROM review_comments WHERE uuid = $1 AND reply_to IS NULL",
    )
    .bind(comment)
    .fetch_optional(&state.pool)
    .await?;
    let author =
        author.ok_or_else(|| AppError::invalid("replies are resolved with their thread"))?;
    if !rg.grant.role.submits() && author != Some(rg.grant.login.id) {
        return Err(AppError::forbidden(
            "A comment is resolved by the submitting side or its author",
        ));
    }
    let mut tx = state.pool.begin().await?;
    sqlx::query(
        "UPDATE review_comments SET is_resolved = $2, resolved_by = CASE WHEN $2 THEN $3 END,
                updated_at = now() WHERE uuid = $1",
    )
    .bind(comment)
    .bind(resolved)
    .bind(rg.grant.login.id)
    .execute(&mut *tx)
    .await?;
    touched(&mut tx, rg).await?;
    tx.commit().await?;
    Ok(())
}

/// Applies a suggestion to its file: a new version through the usual save, 409
/// with the file as it is when it changed since the suggestion's revision.
pub async fn apply(state: &AppState, rg: &ReviewGrant, comment: Uuid) -> Result<Saved, AppError> {
    rg.require(Capability::Write)?;
    #[derive(sqlx::FromRow)]
    struct Suggested {
        path: Option<String>,
        line: Option<i32>,
        end_line: Option<i32>,
        revision: Option<i32>,
        suggestion: Option<String>,
        outdated: bool,
        applied: bool,
    }
    let s: Suggested = sqlx::query_as(
        "SELECT file_path AS path, anchor_line AS line, anchor_end_line AS end_line,
                anchor_revision AS revision, suggestion, outdated, applied_at IS NOT NULL AS applied
         FROM review_comments WHERE uuid = $1",
    )
    .bind(comment)
    .fetch_one(&state.pool)
    .await?;
    let (Some(path), Some(line), Some(revision), Some(text)) =
        (s.path, s.line, s.revision, s.suggestion)
    else {
        return Err(AppError::invalid("this comment suggests no change"));
    };
    if s.applied {
        return Err(AppError::conflict("this suggestion is applied already"));
    }
    if s.outdated {
        return Err(AppError::conflict(
            "the lines of this suggestion changed since it was made",
        ));
    }
    let base = files_at(&state.pool, rg.review.id, revision)
        .await?
        .into_iter()
        .find(|f| f.path == path)
        .ok_or_else(|| AppError::internal(format!("{path} missing from revision {revision}")))?;
    let now = files::current(&state.pool, rg.grant.session_id, &path)
        .await?
        .ok_or_else(|| files::no_file(&path))?;
    if now.hash != base.hash {
        return Err(AppError::stale(now));
    }
    let new = anchors::replace_lines(&now.content, line, s.end_line.unwrap_or(line), &text)
        .ok_or_else(|| AppError::internal("a suggestion's lines outside its file"))?;
    let w = Writer::of(&rg.grant, Source::Suggestion);
    let saved = files::save_as(state, &rg.grant, &path, Body::Text(new), &base.hash, w).await?;
    let mut tx = state.pool.begin().await?;
    sqlx::query(
        "UPDATE review_comments SET applied_at = now(), is_resolved = true, resolved_by = $2
         WHERE uuid = $1",
    )
    .bind(comment)
    .bind(rg.grant.login.id)
    .execute(&mut *tx)
    .await?;
    touched(&mut tx, rg).await?;
    tx.commit().await?;
    Ok(saved)
}

/// The files of revision `number` (the newest without one), each compared with
/// the revision before it.
pub async fn files(
    pool: &PgPool,
    rg: &ReviewGrant,
    number: Option<i32>,
) -> Result<Vec<RevisionFile>, AppError> {
    let number = revision_number(pool, rg, number).await?;
    let before: HashMap<i64, String> = if number > 1 {
        files_at(pool, rg.review.id, number - 1)
            .await?
            .into_iter()
            .map(|f| (f.file_key, f.hash))
            .collect()
    } else {
        HashMap::new()
    };
    Ok(files_at(pool, rg.review.id, number)
        .await?
        .into_iter()
        .map(|f| RevisionFile {
            change: match before.get(&f.file_key) {
                None => FileChange::Added,
                Some(h) if *h == f.hash => FileChange::Unchanged,
                Some(_) => FileChange::Modified,
            },
            path: f.path,
            version: f.version,
            hash: f.hash,
            size: f.size,
        })
        .collect())
}

/// `number` if the request has that revision, else the newest.
async fn revision_number(
    pool: &PgPool,
    rg: &ReviewGrant,
    number: Option<i32>,
) -> Result<i32, AppError> {
    let newest: i32 =
        sqlx::query_scalar("SELECT max(number) FROM review_revisions WHERE review_id = $1")
            .bind(rg.review.id)
            .fetch_one(pool)
            .await?;
    match number {
        None => Ok(newest),
        Some(n) if (1..=newest).contains(&n) => Ok(n),
        Some(n) => Err(AppError::not_found(format!(
            "no revision {n}; this request has 1 to {newest}"
        ))),
    }
}

pub async fn read(
    pool: &PgPool,
    rg: &ReviewGrant,
    path: &str,
    number: Option<i32>,
) -> Result<RevisionContent, AppError> {
    let path = paths::validate(path)?;
    let number = revision_number(pool, rg, number).await?;
    let file = files_at(pool, rg.review.id, number)
        .await?
        .into_iter()
        .find(|f| f.path == path)
        .ok_or_else(|| AppError::not_found(format!("{path} is not in revision {number}")))?;
    let mut db = pool.acquire().await?;
    let content = text_of(&mut db, rg.grant.session_id, &file.hash).await?;
    Ok(RevisionContent {
        path,
        revision: number,
        version: file.version,
        hash: file.hash,
        content,
    })
}

const SUMMARY: &str = "SELECT q.uuid AS id, s.uuid AS session, s.name AS session_name, q.title,
        q.status, q.priority, sub.username AS submitted_by, asg.username AS assigned_to,
        COALESCE((SELECT max(number) FROM review_revisions v WHERE v.review_id = q.id), 1) AS revision,
        (SELECT count(*) FROM review_comments c WHERE c.review_id = q.id AND c.reply_to IS NULL
            AND c.comment_type = 'issue' AND NOT c.is_resolved AND c.visibility = 'all') AS unresolved,
        q.created_at, q.updated_at, q.id AS review_id, q.submitted_by AS submitter_id,
        q.assigned_to AS assignee_id, r.role AS session_role, asg.reviewer_level AS assignee_level
    FROM review_requests q
    JOIN code_sessions s ON s.id = q.session_id
    JOIN users sub ON sub.id = q.submitted_by
    LEFT JOIN users asg ON asg.id = q.assigned_to
    LEFT JOIN session_roles r ON r.session_id = s.id AND r.user_id = $1";

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: Uuid,
    session: Uuid,
    session_name: String,
    title: String,
    status: Status,
    priority: Priority,
    submitted_by: String,
    assigned_to: Option<String>,
    revision: i32,
    unresolved: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    review_id: i64,
    submitter_id: i64,
    assignee_id: Option<i64>,
    session_role: Option<Role>,
    assignee_level: Option<i16>,
}

impl SummaryRow {
    /// The caller's role on it, by the access module's rule.
    fn role(&self, login: &Login) -> Option<Role> {
        let r = access::ReviewRef {
            id: self.review_id,
            uuid: self.id,
            status: self.status,
            priority: self.priority,
            submitted_by: self.submitter_id,
            assigned_to: self.assignee_id,
        };
        access::review_role(self.session_role, login.id, login.user.reviewer_level, &r)
    }

    fn summary(self) -> ReviewSummary {
        ReviewSummary {
            whose_turn: whose_turn(self.status, self.assignee_id.is_some(), self.unresolved),
            id: self.id,
            session: self.session,
            session_name: self.session_name,
            title: self.title,
            status: self.status,
            priority: self.priority,
            submitted_by: self.submitted_by,
            assigned_to: self.assigned_to,
            revision: self.revision,
            unresolved: self.unresolved,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// One of the caller's lists; every row passes the access module's rule.
pub async fn list(
    pool: &PgPool,
    login: &Login,
    filter: &str,
) -> Result<Vec<ReviewSummary>, AppError> {
    let filter = Filter::parse(filter).map_err(AppError::invalid)?;
    let open = "q.status IN ('pending', 'in_review', 'awaiting_confirmation', 'rejected')";
    let (wanted, order) = match filter {
        Filter::Queue => (
            "q.status = 'pending' AND q.assigned_to IS NULL".to_string(),
            "CASE q.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, q.created_at",
        ),
        Filter::Submitted => ("q.submitted_by = $1".into(), "q.updated_at DESC"),
        Filter::Assigned => (format!("q.assigned_to = $1 AND {open}"), "q.updated_at DESC"),
        Filter::WaitingOnMe => (
            format!("{open} AND (r.role IS NOT NULL OR q.assigned_to = $1 OR $2 >= 2)"),
            "q.updated_at",
        ),
        Filter::Mentoring => (
            format!("{open} AND $2 >= 2 AND asg.reviewer_level = 1"),
            "q.updated_at DESC",
        ),
    };
    let rows: Vec<SummaryRow> = sqlx::query_as(&format!(
        "{SUMMARY} WHERE {wanted} ORDER BY {order} LIMIT 500"
    ))
    .bind(login.id)
    .bind(login.user.reviewer_level)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter(|row| {
            let Some(role) = row.role(login) else {
                return false;
            };
            match filter {
                Filter::Queue => role.allows(Capability::Review),
                Filter::WaitingOnMe => waits_on(row, role, login),
                Filter::Mentoring => row.assignee_level == Some(1),
                Filter::Submitted | Filter::Assigned => true,
            }
        })
        .map(SummaryRow::summary)
        .collect())
}

fn waits_on(row: &SummaryRow, role: Role, login: &Login) -> bool {
    match whose_turn(row.status, row.assignee_id.is_some(), row.unresolved) {
        Turn::Submitter => role.submits(),
        Turn::Reviewer => row.assignee_id == Some(login.id),
        Turn::Senior => role == Role::Reviewer && login.user.reviewer_level >= 2,
        Turn::Reviewers | Turn::Nobody => false,
    }
}

/// The request, whole, as the caller may see it.
pub async fn get(state: &AppState, rg: &ReviewGrant) -> Result<Review, AppError> {
    let pool = &state.pool;
    let login = &rg.grant.login;
    let row: SummaryRow = sqlx::query_as(&format!("{SUMMARY} WHERE q.id = $2"))
        .bind(login.id)
        .bind(rg.review.id)
        .fetch_one(pool)
        .await?;
    let description: String =
        sqlx::query_scalar("SELECT description FROM review_requests WHERE id = $1")
            .bind(rg.review.id)
            .fetch_one(pool)
            .await?;
    let summary = row.summary();
    let role = rg.grant.role;
    let reads = role.allows(Capability::Read);
    let revisions: Vec<Revision> = sqlx::query_as(
        "SELECT r.number, u.username AS by, r.note, r.created_at,
                (SELECT count(*) FROM review_revision_files f WHERE f.revision_id = r.id) AS files
         FROM review_revisions r LEFT JOIN users u ON u.id = r.created_by
         WHERE r.review_id = $1 ORDER BY r.number",
    )
    .bind(rg.review.id)
    .fetch_all(pool)
    .await?;
    let comments = if reads {
        threads(pool, rg).await?
    } else {
        Vec::new()
    };
    let history: Vec<HistoryEntry> = sqlx::query_as(
        "SELECT h.event, h.from_status, h.to_status, u.username AS by, a.username AS assignee,
                h.revision, h.note, h.created_at AS at
         FROM review_history h
         LEFT JOIN users u ON u.id = h.changed_by LEFT JOIN users a ON a.id = h.assignee
         WHERE h.review_id = $1 ORDER BY h.id",
    )
    .bind(rg.review.id)
    .fetch_all(pool)
    .await?;
    let newest = summary.revision;
    let mut approvals: Vec<Approval> = history
        .iter()
        .filter(|h| {
            matches!(
                h.event.as_str(),
                "approved" | "awaiting_confirmation" | "confirmed"
            )
        })
        .map(|h| Approval {
            by: h.by.clone(),
            revision: h.revision.unwrap_or(1),
            stale: h.revision.unwrap_or(1) < newest,
            at: h.at,
        })
        .collect();
    approvals.extend(
        comments
            .iter()
            .filter(|c| c.kind == Kind::Approval)
            .map(|c| Approval {
                by: c.author.clone(),
                revision: c.written_on,
                stale: c.written_on < newest,
                at: c.created_at,
            }),
    );
    approvals.sort_by_key(|a| a.at);
    let changed_since_approval = if summary.status == Status::Approved && reads {
        changed_since(pool, rg, newest).await?
    } else {
        Vec::new()
    };
    Ok(Review {
        summary,
        description_html: markdown::render(&description),
        description,
        role,
        level: login.user.reviewer_level,
        revisions,
        comments,
        history: if reads { history } else { Vec::new() },
        approvals: if reads { approvals } else { Vec::new() },
        changed_since_approval,
    })
}

/// The files whose content now differs from revision `number` (added, changed
/// or gone).
async fn changed_since(
    pool: &PgPool,
    rg: &ReviewGrant,
    number: i32,
) -> Result<Vec<String>, AppError> {
    Ok(sqlx::query_scalar(
        "WITH rev AS (
             SELECT f.path, v.hash FROM review_revisions r
             JOIN review_revision_files f ON f.revision_id = r.id
             JOIN file_versions v ON v.id = f.version_id
             WHERE r.review_id = $1 AND r.number = $2),
         now AS (SELECT full_path AS path, content_hash AS hash FROM workspace_items
                 WHERE session_id = $3 AND kind = 'file')
         SELECT COALESCE(rev.path, now.path) FROM rev FULL JOIN now ON now.path = rev.path
         WHERE rev.hash IS DISTINCT FROM now.hash ORDER BY 1",
    )
    .bind(rg.review.id)
    .bind(number)
    .bind(rg.grant.session_id)
    .fetch_all(pool)
    .await?)
}

#[derive(sqlx::FromRow)]
struct CommentRow {
    id: Uuid,
    author: Option<String>,
    kind: Kind,
    body: String,
    path: Option<String>,
    line: Option<i32>,
    end_line: Option<i32>,
    revision: Option<i32>,
    written_on: i32,
    outdated: bool,
    suggestion: Option<String>,
    applied: bool,
    resolved: bool,
    private: bool,
    parent: Option<Uuid>,
    created_at: DateTime<Utc>,
}

/// The request's threads as the caller may see them (mentoring notes to reviewers).
pub async fn threads(pool: &PgPool, rg: &ReviewGrant) -> Result<Vec<Comment>, AppError> {
    comments(pool, rg.review.id, rg.grant.role == Role::Reviewer).await
}

async fn comments(pool: &PgPool, review: i64, reviewer: bool) -> Result<Vec<Comment>, AppError> {
    let rows: Vec<CommentRow> = sqlx::query_as(
        "SELECT c.uuid AS id, u.username AS author, c.comment_type AS kind, c.body,
                c.file_path AS path, c.anchor_line AS line, c.anchor_end_line AS end_line,
                c.anchor_revision AS revision, c.revision AS written_on, c.outdated, c.suggestion,
                c.applied_at IS NOT NULL AS applied, c.is_resolved AS resolved,
                c.visibility = 'reviewers' AS private, p.uuid AS parent, c.created_at
         FROM review_comments c
         LEFT JOIN users u ON u.id = c.author_id
         LEFT JOIN review_comments p ON p.id = c.reply_to
         WHERE c.review_id = $1 AND ($2 OR c.visibility = 'all')
         ORDER BY c.id",
    )
    .bind(review)
    .bind(reviewer)
    .fetch_all(pool)
    .await?;
    let mut threads: Vec<Comment> = Vec::new();
    let mut at: HashMap<Uuid, usize> = HashMap::new();
    for r in rows {
        match r.parent {
            Some(parent) => {
                if let Some(&i) = at.get(&parent) {
                    threads[i].replies.push(Reply {
                        id: r.id,
                        author: r.author,
                        body: r.body,
                        private: r.private,
                        created_at: r.created_at,
                    });
                }
            }
            None => {
                at.insert(r.id, threads.len());
                threads.push(Comment {
                    id: r.id,
                    author: r.author,
                    kind: r.kind,
                    body: r.body,
                    path: r.path,
                    line: r.line,
                    end_line: r.end_line.or(r.line),
                    revision: r.revision.unwrap_or(r.written_on),
                    written_on: r.written_on,
                    outdated: r.outdated,
                    suggestion: r.suggestion,
                    applied: r.applied,
                    resolved: r.resolved,
                    private: r.private,
                    replies: Vec::new(),
                    created_at: r.created_at,
                });
            }
        }
    }
    Ok(threads)
}

/// Sets `user`'s reviewer level: a senior sets anyone's; others set their own
/// to 0 or 1 (guests are not reviewers).
pub async fn set_level(pool: &PgPool, me: &Login, user: &str, level: i16) -> Result<i16, AppError> {
    if !(0..=2).contains(&level) {
        return Err(AppError::invalid("the reviewer level is 0, 1 or 2"));
    }
    let target: Option<(i64, bool)> = sqlx::query_as(
        "SELECT id, is_guest FROM users WHERE lower(username) = lower($1) OR lower(email) = lower($1)",
    )
    .bind(user.trim())
    .fetch_optional(pool)
    .await?;
    let senior = me.user.reviewer_level >= 2;
    let (id, guest) = match target {
        Some(t) if t.0 == me.id || senior => t,
        // Someone else, to a non-senior: whether they exist is not told.
        _ => {
            return Err(AppError::forbidden(
                "Setting another user's reviewer level needs a senior reviewer",
            ))
        }
    };
    if id == me.id && !senior && level > 1 {
        return Err(AppError::forbidden(
            "Becoming a senior reviewer needs a senior reviewer to make you one",
        ));
    }
    if guest && level > 0 {
        return Err(AppError::invalid(
            "guests are not reviewers; register first",
        ));
    }
    store_level(pool, id, level).await?;
    // Their open review pages and queue see the change.
    access::announce(pool, &Change::User(id)).await?;
    Ok(level)
}

/// Writes a reviewer level (also the server's `users set-level` command).
pub async fn store_level(pool: &PgPool, user: i64, level: i16) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE users SET reviewer_level = $2, is_reviewer = $2 > 0, updated_at = now() WHERE id = $1",
    )
    .bind(user)
    .bind(level)
    .execute(pool)
    .await?;
    Ok(())
}
