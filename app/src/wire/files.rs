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

/// How a file's content travels in JSON: text as it is (the default, left out),
/// a binary file's bytes in base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "text", rename_all = "lowercase"))]
pub enum Encoding {
    Utf8,
    Base64,
}

/// One entry of the tree; `hash` is `None` for folders, `media_type` is there
/// for binary files only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct TreeItem {
    pub path: String,
    pub kind: ItemKind,
    pub size: i64,
    pub hash: Option<String>,
    pub version: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", sqlx(default))]
    pub media_type: Option<String>,
}

/// A file's content: text files as before; a binary file's bytes in base64 with
/// `encoding: "base64"` and its `media_type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct FileContent {
    pub path: String,
    pub content: String,
    pub hash: String,
    pub version: i32,
    pub size: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", sqlx(default))]
    pub encoding: Option<Encoding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", sqlx(default))]
    pub media_type: Option<String>,
}

impl FileContent {
    pub fn is_binary(&self) -> bool {
        self.encoding == Some(Encoding::Base64)
    }
}

/// One file of an upload, its path relative to the folder it goes into.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadFile {
    pub path: String,
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<Encoding>,
}

/// How an upload's 409 starts when files are in the way: the page then offers to replace them.
pub const ALREADY_THERE: &str = "already there";

/// Most entries a zip import may hold, and the most its files may expand to,
/// as a multiple of the archive's size: beyond either it is refused as a zip bomb.
pub const MAX_ZIP_ENTRIES: usize = 10_000;
pub const MAX_ZIP_RATIO: u64 = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Saved {
    pub path: String,
    pub hash: String,
    pub version: i32,
}

/// A digest of a tree (every path with its kind and content hash), the same on
/// both sides: a page compares the server's with its own to know whether it
/// missed a change. FNV-1a, 64 bits: not for security, only for telling apart.
pub fn tree_digest(items: &[TreeItem]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    let mut sorted: Vec<&TreeItem> = items.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    for i in sorted {
        eat(i.path.as_bytes());
        eat(&[0, matches!(i.kind, ItemKind::File) as u8, 0]);
        eat(i.hash.as_deref().unwrap_or("").as_bytes());
        eat(b"\n");
    }
    format!("{h:016x}")
}

/// Most paths one `files/contents` request may name…
pub const MAX_READ_MANY: usize = 1000;
/// …and most bytes of files its answer carries (unless it asks for one file).
pub const MAX_READ_MANY_BYTES: i64 = 16 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, hash: &str) -> TreeItem {
        TreeItem {
            path: path.into(),
            kind: ItemKind::File,
            size: 0,
            hash: Some(hash.into()),
            version: 1,
            media_type: None,
        }
    }

    #[test]
    fn a_digest_sees_every_change_and_no_order() {
        let a = vec![file("a.py", "1"), file("b.py", "2")];
        let b = vec![file("b.py", "2"), file("a.py", "1")];
        assert_eq!(tree_digest(&a), tree_digest(&b));
        assert_ne!(
            tree_digest(&a),
            tree_digest(&[file("a.py", "1"), file("b.py", "3")])
        );
        assert_ne!(tree_digest(&a), tree_digest(&[file("a.py", "1")]));
        assert_ne!(
            tree_digest(&a),
            tree_digest(&[file("a.py", "1"), file("c.py", "2")])
        );
    }
}
