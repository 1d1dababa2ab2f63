//! Public read-only links: made by a session's owner or admins, read by anyone
//! holding the token (no account), who sees the current files and nothing else.

use super::files::TreeItem;
use super::sessions::Language;
use crate::AppError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A link as its session's managers list it (the token is never shown again).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Link {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Who made it.
    pub created_by: Option<String>,
    pub views: i64,
    pub last_viewed_at: Option<DateTime<Utc>>,
    pub expired: bool,
}

/// A link just made: its token, shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedLink {
    pub id: Uuid,
    pub token: String,
    /// The page that shows the session: `{origin}/p/{token}`.
    pub url: String,
    pub expires_at: Option<DateTime<Utc>>,
}

/// What a link holder sees of the session: its name, whose it is, its files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicSession {
    pub name: String,
    pub owner: String,
    pub language: Language,
    pub forks: i64,
    pub tree: Vec<TreeItem>,
}

/// An expiry in seconds from now: positive, and at most `max_secs`.
pub fn validate_expiry(secs: Option<i64>, max_secs: i64) -> Result<Option<i64>, AppError> {
    match secs {
        None => Ok(None),
        Some(s) if s <= 0 => Err(AppError::invalid(
            "a link's expiry is a positive number of seconds",
        )),
        Some(s) if s > max_secs => Err(AppError::invalid(format!(
            "a link expires within {} days at most",
            max_secs / 86_400
        ))),
        Some(s) => Ok(Some(s)),
    }
}

/// The choices the share dialog offers, in seconds (`None`: never).
pub const EXPIRY_CHOICES: [(Option<i64>, &str); 4] = [
    (Some(86_400), "1 day"),
    (Some(7 * 86_400), "7 days"),
    (Some(30 * 86_400), "30 days"),
    (None, "never"),
];
