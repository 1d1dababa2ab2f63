//! Who has access to a session.

use super::access::Role;
use serde::{Deserialize, Serialize};

/// One person with access: the owner first, then collaborators by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Share {
    /// Their username.
    pub user: String,
    pub role: Role,
}
