//! Code review as the API carries it, and the workflow's rules: which status an
//! action leads to and who may take it. Both sides use them (the page shows only
//! the actions that are allowed); the server applies them in `server::reviews`.

use super::access::{Capability, Role};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

text_enum!(Priority {
    Low = "low",
    Medium = "medium",
    High = "high",
    Urgent = "urgent",
});

text_enum!(
    /// Where a request is. Approved and withdrawn are closed; the others are open.
    Status {
        Pending = "pending",
        InReview = "in_review",
        /// A junior approved a high or urgent request: a senior confirms it.
        AwaitingConfirmation = "awaiting_confirmation",
        Approved = "approved",
        /// Changes requested: the submitter's move.
        Rejected = "rejected",
        Withdrawn = "withdrawn",
    }
);

text_enum!(Kind {
    General = "general",
    Suggestion = "suggestion",
    Issue = "issue",
    Question = "question",
    Approval = "approval",
});

text_enum!(Decision {
    Approve = "approve",
    Reject = "reject",
    Confirm = "confirm",
});

text_enum!(
    /// The lists of `/api/reviews/list`.
    Filter {
        /// Pending requests nobody has claimed, by priority then age (reviewers).
        Queue = "queue",
        WaitingOnMe = "waiting_on_me",
        Submitted = "submitted",
        Assigned = "assigned",
        /// Open requests assigned to junior reviewers (seniors).
        Mentoring = "mentoring",
    }
);

text_enum!(
    /// Whose move a request waits for.
    Turn {
        /// Any reviewer may claim it.
        Reviewers = "reviewers",
        Reviewer = "reviewer",
        Senior = "senior",
        Submitter = "submitter",
        Nobody = "nobody",
    }
);

impl Status {
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Approved | Self::Withdrawn)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::InReview => "in review",
            Self::AwaitingConfirmation => "awaiting confirmation",
            Self::Approved => "approved",
            Self::Rejected => "changes requested",
            Self::Withdrawn => "withdrawn",
        }
    }
}

impl Priority {
    /// A junior's approval of these waits for a senior.
    pub fn needs_senior(self) -> bool {
        matches!(self, Self::High | Self::Urgent)
    }
}

/// Whose move it is: the reviewer's after submission or resubmission, the
/// submitter's once changes are requested (a rejection, or open issues).
pub fn whose_turn(status: Status, assigned: bool, unresolved: i64) -> Turn {
    match status {
        Status::Pending if assigned => Turn::Reviewer,
        Status::Pending => Turn::Reviewers,
        Status::InReview if unresolved > 0 => Turn::Submitter,
        Status::InReview => Turn::Reviewer,
        Status::AwaitingConfirmation => Turn::Senior,
        Status::Rejected => Turn::Submitter,
        Status::Approved | Status::Withdrawn => Turn::Nobody,
    }
}

/// Everything that moves a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Claim,
    Assign,
    Decide(Decision),
    Resubmit,
    Withdraw,
}

/// Who acts, as the access decision saw them.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub role: Role,
    /// 0, 1 (junior) or 2 (senior).
    pub level: i16,
    /// Whether the request is assigned to the actor.
    pub assigned: bool,
}

/// Why an action is refused: not the actor's to take (403), or not from this
/// status (409).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Forbidden(String),
    Illegal(String),
}

/// The workflow's rules, all of them: the status `action` leads to from `status`
/// when `actor` takes it.
pub fn transition(
    status: Status,
    priority: Priority,
    assigned: bool,
    action: Action,
    actor: Actor,
) -> Result<Status, Refusal> {
    use Status as S;
    let forbid = |need: Capability| Refusal::Forbidden(need.refusal(actor.role));
    let senior = actor.level >= 2 && actor.role == Role::Reviewer;
    let illegal = |what: &str| {
        Refusal::Illegal(format!(
            "a request that is {} cannot be {what}",
            status.label()
        ))
    };
    match action {
        Action::Claim => {
            if !actor.role.allows(Capability::Review) {
                return Err(forbid(Capability::Review));
            }
            match status {
                S::Pending if !assigned => Ok(S::InReview),
                S::Pending => Err(Refusal::Illegal("the request is already claimed".into())),
                _ => Err(illegal("claimed")),
            }
        }
        Action::Assign => {
            if !senior {
                return Err(Refusal::Forbidden(
                    "Assigning a reviewer needs a senior reviewer".into(),
                ));
            }
            match status {
                S::Pending => Ok(S::InReview),
                s if s.is_open() => Ok(s),
                _ => Err(illegal("assigned")),
            }
        }
        Action::Decide(d) => {
            let reviews = actor.role == Role::Reviewer && (actor.assigned || senior);
            if !reviews {
                return Err(forbid(Capability::Review));
            }
            match (d, status) {
                (Decision::Approve, S::InReview) if priority.needs_senior() && !senior => {
                    Ok(S::AwaitingConfirmation)
                }
                (Decision::Approve, S::InReview) => Ok(S::Approved),
                (Decision::Reject, S::InReview) => Ok(S::Rejected),
                (Decision::Reject | Decision::Confirm, S::AwaitingConfirmation) if !senior => {
                    Err(Refusal::Forbidden(
                        "A junior's approval is confirmed or sent back by a senior reviewer".into(),
                    ))
                }
                (Decision::Reject, S::AwaitingConfirmation) => Ok(S::Rejected),
                (Decision::Confirm, S::AwaitingConfirmation) => Ok(S::Approved),
                (Decision::Approve, _) => Err(illegal("approved")),
                (Decision::Reject, _) => Err(illegal("rejected")),
                (Decision::Confirm, _) => Err(illegal("confirmed")),
            }
        }
        Action::Resubmit | Action::Withdraw => {
            if !actor.role.submits() {
                return Err(Refusal::Forbidden(
                    Capability::Write
                        .refusal(actor.role)
                        .replace("Changing files", "Resubmitting or withdrawing"),
                ));
            }
            match (action, status) {
                (_, s) if !s.is_open() => Err(illegal(if action == Action::Resubmit {
                    "resubmitted"
                } else {
                    "withdrawn"
                })),
                (Action::Resubmit, _) if assigned => Ok(S::InReview),
                (Action::Resubmit, _) => Ok(S::Pending),
                _ => Ok(S::Withdrawn),
            }
        }
    }
}

/// A request in a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewSummary {
    pub id: Uuid,
    pub session: Uuid,
    pub session_name: String,
    pub title: String,
    pub status: Status,
    pub priority: Priority,
    pub submitted_by: String,
    pub assigned_to: Option<String>,
    pub revision: i32,
    pub unresolved: i64,
    pub whose_turn: Turn,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One request, whole: `/api/reviews/get`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    #[serde(flatten)]
    pub summary: ReviewSummary,
    pub description: String,
    /// The description's Markdown as safe HTML (no raw HTML, no script links).
    pub description_html: String,
    /// The caller's role on it, and their reviewer level.
    pub role: Role,
    pub level: i16,
    pub revisions: Vec<Revision>,
    /// Top-level comments, each with its replies; mentoring notes only for reviewers.
    pub comments: Vec<Comment>,
    pub history: Vec<HistoryEntry>,
    pub approvals: Vec<Approval>,
    /// Approved, then changed: the files whose content is no longer the approved one.
    pub changed_since_approval: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Revision {
    pub number: i32,
    pub by: Option<String>,
    pub note: String,
    pub files: i64,
    pub created_at: DateTime<Utc>,
}

/// How a file of a revision differs from the revision before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileChange {
    Added,
    Modified,
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevisionFile {
    pub path: String,
    /// The file's version (as in its history) at this revision.
    pub version: i32,
    pub hash: String,
    pub size: i64,
    pub change: FileChange,
}

/// A file's content at a revision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevisionContent {
    pub path: String,
    pub revision: i32,
    pub version: i32,
    pub hash: String,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    pub id: Uuid,
    pub author: Option<String>,
    pub kind: Kind,
    pub body: String,
    pub path: Option<String>,
    /// The lines as re-anchored to `revision` (the newest one they could follow
    /// to; an older one when `outdated`).
    pub line: Option<i32>,
    pub end_line: Option<i32>,
    pub revision: i32,
    /// The revision it was written on.
    pub written_on: i32,
    pub outdated: bool,
    pub suggestion: Option<String>,
    pub applied: bool,
    pub resolved: bool,
    /// A mentoring note: seen by reviewers only.
    pub private: bool,
    pub replies: Vec<Reply>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub id: Uuid,
    pub author: Option<String>,
    pub body: String,
    pub private: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct HistoryEntry {
    pub event: String,
    pub from_status: Option<Status>,
    pub to_status: Status,
    pub by: Option<String>,
    pub assignee: Option<String>,
    pub revision: Option<i32>,
    pub note: String,
    pub at: DateTime<Utc>,
}

/// An approval (a decision or an approval comment) given on a revision; stale
/// once a newer revision exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    pub by: Option<String>,
    pub revision: i32,
    pub stale: bool,
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, level: i16, assigned: bool) -> Actor {
        Actor {
            role,
            level,
            assigned,
        }
    }

    #[test]
    fn every_status_and_action() {
        let junior = actor(Role::Reviewer, 1, true);
        let senior = actor(Role::Reviewer, 2, false);
        let candidate = actor(Role::Candidate, 1, false);
        let submitter = actor(Role::Owner, 0, false);
        let viewer = actor(Role::Viewer, 0, false);
        let approve = Action::Decide(Decision::Approve);
        let confirm = Action::Decide(Decision::Confirm);
        let reject = Action::Decide(Decision::Reject);
        let (p, m, h) = (Status::Pending, Priority::Medium, Priority::High);
        use Status::*;
        let ok = |s, prio, assigned, a, who| transition(s, prio, assigned, a, who);
        assert_eq!(ok(p, m, false, Action::Claim, candidate), Ok(InReview));
        assert!(matches!(
            ok(p, m, true, Action::Claim, candidate),
            Err(Refusal::Illegal(_))
        ));
        assert!(matches!(
            ok(p, m, false, Action::Claim, submitter),
            Err(Refusal::Forbidden(_))
        ));
        assert!(matches!(
            ok(InReview, m, true, Action::Claim, senior),
            Err(Refusal::Illegal(_))
        ));
        assert_eq!(ok(p, m, false, Action::Assign, senior), Ok(InReview));
        assert_eq!(ok(Rejected, m, true, Action::Assign, senior), Ok(Rejected));
        assert!(matches!(
            ok(p, m, false, Action::Assign, junior),
            Err(Refusal::Forbidden(_))
        ));
        assert!(matches!(
            ok(Approved, m, true, Action::Assign, senior),
            Err(Refusal::Illegal(_))
        ));
        assert_eq!(ok(InReview, m, true, approve, junior), Ok(Approved));
        assert_eq!(
            ok(InReview, h, true, approve, junior),
            Ok(AwaitingConfirmation)
        );
        assert_eq!(ok(InReview, h, true, approve, senior), Ok(Approved));
        assert!(matches!(
            ok(p, m, true, approve, junior),
            Err(Refusal::Illegal(_))
        ));
        assert!(matches!(
            ok(InReview, m, true, approve, submitter),
            Err(Refusal::Forbidden(_))
        ));
        assert!(matches!(
            ok(InReview, m, true, approve, viewer),
            Err(Refusal::Forbidden(_))
        ));
        assert!(matches!(
            ok(InReview, m, false, approve, actor(Role::Reviewer, 1, false)),
            Err(Refusal::Forbidden(_))
        ));
        assert_eq!(
            ok(AwaitingConfirmation, h, true, confirm, senior),
            Ok(Approved)
        );
        assert_eq!(
            ok(AwaitingConfirmation, h, true, reject, senior),
            Ok(Rejected)
        );
        assert!(matches!(
            ok(AwaitingConfirmation, h, true, confirm, junior),
            Err(Refusal::Forbidden(_))
        ));
        assert!(matches!(
            ok(InReview, h, true, confirm, senior),
            Err(Refusal::Illegal(_))
        ));
        assert_eq!(ok(InReview, m, true, reject, junior), Ok(Rejected));
        assert!(matches!(
            ok(Approved, m, true, reject, junior),
            Err(Refusal::Illegal(_))
        ));
        for s in [Pending, InReview, AwaitingConfirmation, Rejected] {
            assert_eq!(ok(s, m, true, Action::Resubmit, submitter), Ok(InReview));
            assert_eq!(ok(s, m, false, Action::Resubmit, submitter), Ok(Pending));
            assert_eq!(ok(s, m, true, Action::Withdraw, submitter), Ok(Withdrawn));
            assert!(matches!(
                ok(s, m, true, Action::Withdraw, junior),
                Err(Refusal::Forbidden(_))
            ));
        }
        for s in [Approved, Withdrawn] {
            assert!(matches!(
                ok(s, m, true, Action::Resubmit, submitter),
                Err(Refusal::Illegal(_))
            ));
            assert!(matches!(
                ok(s, m, true, Action::Withdraw, submitter),
                Err(Refusal::Illegal(_))
            ));
        }
    }

    #[test]
    fn whose_move() {
        assert_eq!(whose_turn(Status::Pending, false, 0), Turn::Reviewers);
        assert_eq!(whose_turn(Status::InReview, true, 0), Turn::Reviewer);
        assert_eq!(whose_turn(Status::InReview, true, 2), Turn::Submitter);
        assert_eq!(whose_turn(Status::Rejected, true, 0), Turn::Submitter);
        assert_eq!(
            whose_turn(Status::AwaitingConfirmation, true, 0),
            Turn::Senior
        );
        assert_eq!(whose_turn(Status::Approved, true, 0), Turn::Nobody);
    }

    #[test]
    fn ids_parse_or_name_the_choices() {
        assert_eq!(Kind::parse("issue"), Ok(Kind::Issue));
        assert_eq!(
            Kind::parse("file").unwrap_err(),
            "unknown kind 'file'; one of general, suggestion, issue, question, approval"
        );
        assert_eq!(Status::parse("in_review"), Ok(Status::InReview));
    }
}
