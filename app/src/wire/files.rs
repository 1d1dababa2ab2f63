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

/// Most paths one `files/contents` request may name.
pub const MAX_READ_MANY: usize = 1000;

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
