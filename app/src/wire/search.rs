//! Workspace search as the API carries it. Lines and columns are 1-based;
//! columns count characters.

use serde::{Deserialize, Serialize};

/// A line that matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextMatch {
    pub path: String,
    pub line: u32,
    pub column: u32,
    /// One past the match's last character, on the same line (a match running
    /// over several lines ends at this line's end).
    pub end_column: u32,
    /// The line, cut to at most 1,000 characters around the match.
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TextResults {
    pub matches: Vec<TextMatch>,
    /// More matched than `max_results`: the list stops there.
    pub truncated: bool,
}

/// A file a replace changes (or would change), with the hash it is based on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileChange {
    pub path: String,
    pub hash: String,
    pub replacements: u32,
    /// Each changed line, before and after.
    pub lines: Vec<LineChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineChange {
    pub line: u32,
    pub before: String,
    pub after: String,
}

/// The files to replace in, as the preview gave them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileBase {
    pub path: String,
    pub hash: String,
}

/// A file left alone: it changed since the preview, or is gone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Replaced {
    /// With `preview`, what would change; applied, what changed.
    pub files: Vec<FileChange>,
    pub conflicts: Vec<Skipped>,
    /// Applied: the checkpoint made just before.
    pub checkpoint: Option<uuid::Uuid>,
    pub truncated: bool,
}

/// A file by fuzzy name, best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileHit {
    pub path: String,
    pub score: i64,
    /// Character positions in `path` that matched, for highlighting.
    pub positions: Vec<u32>,
}
