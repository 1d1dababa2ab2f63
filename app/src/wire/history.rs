//! File history as the API carries it: versions, deleted items, checkpoints.

use super::files::ItemKind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What made a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "text", rename_all = "lowercase"))]
pub enum Source {
    /// What the file held when history began.
    Existing,
    /// A new session's starter files.
    Template,
    /// A save in the IDE.
    Editor,
    /// A save by another client of the API.
    Api,
    /// A change made in the terminal, synced back.
    Terminal,
    /// A version, a deleted file or a checkpoint restored.
    Restore,
    /// A search and replace.
    Replace,
    /// A review suggestion applied.
    Suggestion,
    Upload,
    /// A collaborative document written back.
    Collab,
    /// Copied when the session was forked.
    Fork,
}

impl Source {
    pub fn label(self) -> &'static str {
        match self {
            Self::Existing => "before history",
            Self::Template => "template",
            Self::Editor => "editor",
            Self::Api => "API",
            Self::Terminal => "terminal",
            Self::Restore => "restore",
            Self::Replace => "replace",
            Self::Suggestion => "review suggestion",
            Self::Upload => "upload",
            Self::Collab => "co-editing",
            Self::Fork => "fork",
        }
    }
}

/// One version of a file, newest first in lists (the creation last).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Version {
    pub version: i32,
    pub hash: String,
    pub size: i64,
    /// The user who made it (behind the terminal, for `terminal`), if known.
    pub author: Option<String>,
    pub source: Source,
    pub created_at: DateTime<Utc>,
    /// Where the file was then.
    pub path: String,
}

/// A version's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionContent {
    pub path: String,
    pub version: i32,
    pub content: String,
    pub hash: String,
    /// `base64` for a binary version, as `FileContent` has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<super::files::Encoding>,
}

/// Versions the retention sweep dropped, so the user sees what is gone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct PrunedVersions {
    pub versions: i32,
    pub oldest: DateTime<Utc>,
    pub newest: DateTime<Utc>,
    /// `thinned` (one a day kept past the full-retention days) or `quota`.
    pub reason: String,
    pub pruned_at: DateTime<Utc>,
}

/// A file's history: its versions and what was dropped of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileHistory {
    pub versions: Vec<Version>,
    pub pruned: Vec<PrunedVersions>,
}

/// Something deleted: a file or folder, or one inside a deleted folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct DeletedItem {
    pub path: String,
    pub kind: ItemKind,
    pub size: i64,
    /// The path that was deleted: this item, or the folder it was in.
    pub root: String,
    pub deleted_by: Option<String>,
    pub source: Source,
    pub deleted_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Checkpoint {
    pub id: Uuid,
    pub label: String,
    /// Made by the server before a restore or a bulk replace.
    pub auto: bool,
    pub author: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Files in it.
    pub files: i64,
}

/// A checkpoint against the workspace now.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckpointDiff {
    /// In the workspace now, not in the checkpoint.
    pub added: Vec<String>,
    /// In the checkpoint, gone now.
    pub removed: Vec<String>,
    /// In both, with other content.
    pub changed: Vec<String>,
}

/// A checkpoint restored: what changed, and the checkpoint made just before it
/// (restoring that one undoes this).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Restored {
    pub diff: CheckpointDiff,
    pub undo: Uuid,
}
