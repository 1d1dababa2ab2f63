//! Names and labels of a session's objects on the cluster, derived and read back
//! in this one place.

use std::collections::BTreeMap;
use uuid::Uuid;

/// Label every exec pod and workspace volume carries; the NetworkPolicy selects on it.
pub const APP: (&str, &str) = ("app", "webide-exec");
pub const SESSION_LABEL: &str = "webide.dev/session";
pub const USER_LABEL: &str = "webide.dev/user";

pub fn pod(uuid: Uuid) -> String {
    format!("exec-{uuid}")
}

pub fn pvc(uuid: Uuid) -> String {
    format!("workspace-{uuid}")
}

/// The session an object belongs to, from its name (`exec-…` or `workspace-…`).
pub fn session_of(name: &str) -> Option<Uuid> {
    let id = name
        .strip_prefix("exec-")
        .or_else(|| name.strip_prefix("workspace-"))?;
    // Only the canonical form we write: a name that merely parses is not ours.
    Uuid::parse_str(id).ok().filter(|u| u.to_string() == id)
}

pub fn labels(uuid: Uuid, user: i64) -> BTreeMap<String, String> {
    BTreeMap::from([
        (APP.0.to_string(), APP.1.to_string()),
        (SESSION_LABEL.to_string(), uuid.to_string()),
        (USER_LABEL.to_string(), user.to_string()),
    ])
}

/// Selects every object the runner made.
pub fn selector() -> String {
    format!("{}={}", APP.0, APP.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_valid_and_read_back() {
        let u = Uuid::new_v4();
        for name in [pod(u), pvc(u)] {
            // RFC 1123 labels: lowercase alphanumerics and '-', at most 63.
            assert!(name.len() <= 63, "{name}");
            assert!(name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
            assert_eq!(session_of(&name), Some(u));
        }
        assert_eq!(session_of("exec-not-a-uuid"), None);
        assert_eq!(session_of(&format!("exec-{}", u.simple())), None);
        assert_eq!(session_of("postgres-0"), None);
        assert_eq!(labels(u, 7)[USER_LABEL], "7");
    }
}
