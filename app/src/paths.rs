//! Workspace paths: relative to the workspace root, `/`-separated. Validated here
//! and nowhere else, on the server for every request and in the browser before
//! sending, so both sides agree on what a valid path is.

use crate::AppError;

pub const MAX_PATH_LEN: usize = 1024;
pub const MAX_DEPTH: usize = 32;
pub const MAX_NAME_LEN: usize = 255;

/// The canonical form of `path` (no leading or trailing slash), or why it is refused.
pub fn validate(path: &str) -> Result<String, AppError> {
    let trimmed = path.strip_suffix('/').unwrap_or(path);
    if trimmed.is_empty() {
        return Err(AppError::invalid("the path is empty"));
    }
    if trimmed.starts_with('/') {
        return Err(AppError::invalid(format!(
            "{path:?}: paths are relative to the workspace root"
        )));
    }
    if trimmed.len() > MAX_PATH_LEN {
        return Err(AppError::invalid(format!(
            "the path is longer than {MAX_PATH_LEN} bytes"
        )));
    }
    let mut depth = 0;
    for segment in trimmed.split('/') {
        depth += 1;
        validate_name(segment)
            .map_err(|e| AppError::invalid(format!("{path:?}: {}", e.message)))?;
    }
    if depth > MAX_DEPTH {
        return Err(AppError::invalid(format!(
            "{path:?} is nested deeper than {MAX_DEPTH} levels"
        )));
    }
    Ok(trimmed.to_string())
}

/// One path segment: a file or folder name.
pub fn validate_name(name: &str) -> Result<(), AppError> {
    match name {
        "" => Err(AppError::invalid("empty path segment")),
        "." | ".." => Err(AppError::invalid(format!(
            "{name:?} is not allowed in a path"
        ))),
        _ if name.len() > MAX_NAME_LEN => Err(AppError::invalid(format!(
            "a name is longer than {MAX_NAME_LEN} bytes"
        ))),
        _ if name.contains('/') => Err(AppError::invalid("a name cannot contain '/'")),
        _ if name.chars().any(char::is_control) => Err(AppError::invalid(
            "control characters are not allowed in names",
        )),
        _ => Ok(()),
    }
}

/// Paths as a message names them: the first few, and how many more.
pub fn named(paths: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut s = paths
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if paths.len() > SHOWN {
        s.push_str(&format!(" and {} more", paths.len() - SHOWN));
    }
    s
}

/// The folder holding `path`, `None` at the root.
pub fn parent(path: &str) -> Option<&str> {
    path.rsplit_once('/').map(|(p, _)| p)
}

/// The last segment of `path`.
pub fn name(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, n)| n)
}

/// Whether `path` is `ancestor` itself or lies below it.
pub fn is_within(path: &str, ancestor: &str) -> bool {
    path == ancestor
        || (path.len() > ancestor.len()
            && path.starts_with(ancestor)
            && path.as_bytes()[ancestor.len()] == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises() {
        assert_eq!(validate("src/main.py").unwrap(), "src/main.py");
        assert_eq!(validate("src/").unwrap(), "src");
        assert_eq!(validate("naïve file.txt").unwrap(), "naïve file.txt");
        assert_eq!(validate(".hidden").unwrap(), ".hidden");
    }

    #[test]
    fn refuses_what_could_escape_or_confuse() {
        for bad in [
            "",
            "/",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a/./b",
            ".",
            "a//b",
            "a\0b",
            "a\nb",
            "a\u{7f}",
        ] {
            assert!(validate(bad).is_err(), "{bad:?} accepted");
        }
        assert!(validate(&"a/".repeat(MAX_DEPTH + 1)).is_err());
        assert!(validate(&"x".repeat(MAX_NAME_LEN + 1)).is_err());
        assert!(validate(&"abcdefgh/".repeat(120)).is_err());
    }

    #[test]
    fn parent_name_and_within() {
        assert_eq!(parent("a/b/c"), Some("a/b"));
        assert_eq!(parent("a"), None);
        assert_eq!(name("a/b/c"), "c");
        assert!(is_within("a/b", "a"));
        assert!(is_within("a", "a"));
        assert!(!is_within("ab", "a"));
    }
}
