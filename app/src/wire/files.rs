//! Files and folders of a workspace, as the API carries them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "text", rename_all = "lowercase"))]
pub enum ItemKind {
    File,
    Folder,
}

/// One entry of the tree; `hash` is `None` for folders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct TreeItem {
    pub path: String,
    pub kind: ItemKind,
    pub size: i64,
    pub hash: Option<String>,
    pub version: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct FileContent {
    pub path: String,
    pub content: String,
    pub hash: String,
    pub version: i32,
    pub size: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Saved {
    pub path: String,
    pub hash: String,
    pub version: i32,
}

/// Most paths one `files/contents` request may name.
pub const MAX_READ_MANY: usize = 1000;
