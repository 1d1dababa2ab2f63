//! The events stream of a session, `/events/{session}`, and of a review request,
//! `/events/review/{review}` (server-sent events, one JSON object per message):
//! what open pages hear about.

use super::access::Role;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// First on every connection: the digest of the session's tree now
    /// (`files::tree_digest`), so a page that missed a change catches up.
    Hello { tree: String },
    /// Files changed (by a terminal or another page); no paths: reload everything.
    Tree { paths: Vec<String> },
    /// A command ended in one of the session's terminals.
    Command { exit_code: Option<i32> },
    /// Who has access changed.
    Sharing,
    /// The listener's own role changed.
    Role { role: Role },
    /// Something of a review request changed (a comment, a resolution, a status,
    /// a revision): its page reloads it. Also the first message of its stream.
    Review,
    /// Files made in the sandbox that the workspace had no room for: they stay
    /// there only.
    NotKept { paths: Vec<String>, message: String },
    /// The listener lost access; the stream ends after this.
    Revoked { message: String },
}
