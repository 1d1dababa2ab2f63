//! Terminals: the history of commands, and the messages of the terminal socket
//! `/ws/terminal/{session}`. Binary frames carry raw PTY bytes both ways; text
//! frames carry one of these as JSON.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One command run in a session's terminals, as the shell integration marked it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct CommandRecord {
    pub id: i64,
    pub command: String,
    pub output: String,
    pub output_truncated: bool,
    pub exit_code: Option<i32>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// The query of the socket's URL: `?term=ID` reattaches, `cols` and `rows` size a new one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attach {
    pub term: Option<Uuid>,
    pub cols: Option<u16>,
    pub rows: Option<u16>,
}

/// From the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    Resize {
        cols: u16,
        rows: u16,
    },
    /// The user closed the terminal: end its shell.
    Close,
}

/// From the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// First: the terminal's id; a reattach is followed by its recent output.
    Attached {
        term: Uuid,
        reattached: bool,
    },
    /// The shell ended.
    Exit {
        code: i32,
    },
    Error {
        message: String,
    },
    /// The caller may no longer use this session's terminals (removed, signed
    /// out, their login expired): the socket closes and is not to be reopened.
    Revoked {
        message: String,
    },
}
