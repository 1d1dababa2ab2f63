//! Who may do what in a session: the roles and the capabilities they allow. The
//! table is shared by both sides (the browser hides what a role cannot do); the
//! server decides with it in `server::access`.

use serde::{Deserialize, Serialize};

/// A principal's relation to one session, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "text", rename_all = "lowercase"))]
pub enum Role {
    /// A reviewer who may claim an open request not yet claimed: sees its title,
    /// priority and file names, nothing more.
    Candidate,
    /// The assigned reviewer of a request, or a senior reviewer: reads the
    /// reviewed revisions and comments, never writes or runs.
    Reviewer,
    Viewer,
    Editor,
    Admin,
    Owner,
}

/// What an operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Capability {
    /// A review request's title, priority and file names.
    Glance,
    /// The tree, files, terminal history, search (a reviewer: the reviewed revisions).
    Read,
    /// Change files.
    Write,
    /// Terminals and runs.
    Run,
    /// Comment on a review.
    Comment,
    /// Claim a review request, approve or reject it.
    Review,
    /// Rename, sharing, settings.
    Manage,
    /// Delete the session: the owner's alone.
    Delete,
}

impl Role {
    /// Roles a collaborator can be given (the owner is the session's creator).
    pub const SHARED: [Role; 3] = [Role::Viewer, Role::Editor, Role::Admin];
    /// The roles a session's collaborators and owner have, least first.
    pub const SESSION: [Role; 4] = [Role::Viewer, Role::Editor, Role::Admin, Role::Owner];
    pub const ALL: [Role; 6] = [
        Role::Candidate,
        Role::Reviewer,
        Role::Viewer,
        Role::Editor,
        Role::Admin,
        Role::Owner,
    ];

    /// A collaborator who may change the files: submits, resubmits and withdraws
    /// a review, resolves and applies its comments, never reviews it.
    pub fn submits(self) -> bool {
        self >= Role::Editor
    }

    pub fn allows(self, need: Capability) -> bool {
        use Capability as C;
        match need {
            C::Glance => true,
            C::Read => self != Role::Candidate,
            C::Write | C::Run => self >= Role::Editor,
            C::Comment => self >= Role::Editor || self == Role::Reviewer,
            C::Review => matches!(self, Role::Reviewer | Role::Candidate),
            C::Manage => self >= Role::Admin,
            C::Delete => self == Role::Owner,
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            Self::Candidate => "candidate",
            Self::Reviewer => "reviewer",
            Self::Viewer => "viewer",
            Self::Editor => "editor",
            Self::Admin => "admin",
            Self::Owner => "owner",
        }
    }

    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.id() == id)
    }

    /// "a viewer", "an editor", …
    pub fn with_article(self) -> String {
        let article = match self {
            Self::Editor | Self::Admin | Self::Owner => "an",
            _ => "a",
        };
        format!("{article} {}", self.id())
    }
}

impl Capability {
    /// What the capability lets one do, for messages: "… needs {}".
    pub fn describe(self) -> &'static str {
        match self {
            Self::Glance => "seeing this review",
            Self::Read => "reading this session",
            Self::Write => "changing files",
            Self::Run => "terminals and runs",
            Self::Comment => "commenting",
            Self::Review => "reviewing",
            Self::Manage => "managing sharing and settings",
            Self::Delete => "deleting the session",
        }
    }

    /// The least session role that has it (reviewing is no session role's).
    pub fn least_role(self) -> Role {
        Role::SESSION
            .into_iter()
            .find(|r| r.allows(self))
            .unwrap_or(Role::Owner)
    }

    /// Why `role` is refused this capability, naming what is missing.
    pub fn refusal(self, role: Role) -> String {
        let least = self.least_role();
        let needs = if self == Self::Review {
            "the request's reviewer".to_string()
        } else if least == Role::Owner {
            "the owner".to_string()
        } else {
            format!("{} role or higher", least.with_article())
        };
        format!(
            "{} needs {needs}; you are {} of this session",
            capitalise(self.describe()),
            role.with_article()
        )
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::{Capability as C, Role as R};

    #[test]
    fn the_table_of_the_design() {
        let rows = [
            (R::Owner, [true, true, true, true, true, true]),
            (R::Admin, [true, true, true, true, true, false]),
            (R::Editor, [true, true, true, true, false, false]),
            (R::Viewer, [true, false, false, false, false, false]),
            (R::Reviewer, [true, false, false, true, false, false]),
            (R::Candidate, [false, false, false, false, false, false]),
        ];
        let caps = [C::Read, C::Write, C::Run, C::Comment, C::Manage, C::Delete];
        for role in R::ALL {
            assert!(role.allows(C::Glance));
            assert_eq!(
                role.allows(C::Review),
                matches!(role, R::Reviewer | R::Candidate)
            );
        }
        for (role, allowed) in rows {
            for (cap, want) in caps.iter().zip(allowed) {
                assert_eq!(role.allows(*cap), want, "{role:?} {cap:?}");
            }
        }
    }

    #[test]
    fn refusals_name_what_is_missing() {
        assert_eq!(
            C::Write.refusal(R::Viewer),
            "Changing files needs an editor role or higher; you are a viewer of this session"
        );
        assert_eq!(
            C::Delete.refusal(R::Admin),
            "Deleting the session needs the owner; you are an admin of this session"
        );
        assert_eq!(
            C::Review.refusal(R::Editor),
            "Reviewing needs the request's reviewer; you are an editor of this session"
        );
    }
}
