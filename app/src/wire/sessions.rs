//! Coding sessions: each one workspace with its own URL `/s/{uuid}`.

use super::access::Role;
use crate::AppError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "text", rename_all = "lowercase"))]
pub enum Language {
    #[default]
    Python,
    Javascript,
    Typescript,
    C,
    Cpp,
    Rust,
    Java,
    Go,
    Bash,
}

impl Language {
    pub const ALL: [Language; 9] = [
        Self::Python,
        Self::Javascript,
        Self::Typescript,
        Self::C,
        Self::Cpp,
        Self::Rust,
        Self::Java,
        Self::Go,
        Self::Bash,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Self::Python => "python",
            Self::Javascript => "javascript",
            Self::Typescript => "typescript",
            Self::C => "c",
            Self::Cpp => "cpp",
            Self::Rust => "rust",
            Self::Java => "java",
            Self::Go => "go",
            Self::Bash => "bash",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Python => "Python",
            Self::Javascript => "JavaScript",
            Self::Typescript => "TypeScript",
            Self::C => "C",
            Self::Cpp => "C++",
            Self::Rust => "Rust",
            Self::Java => "Java",
            Self::Go => "Go",
            Self::Bash => "Bash",
        }
    }

    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.id() == id)
    }

    /// The file a new session starts with.
    pub fn starter(self) -> (&'static str, &'static str) {
        match self {
            Self::Python => ("main.py", "print(\"Hello, world!\")\n"),
            Self::Javascript => ("main.js", "console.log(\"Hello, world!\");\n"),
            Self::Typescript => ("main.ts", "const greeting: string = \"Hello, world!\";\nconsole.log(greeting);\n"),
            Self::C => ("main.c", "#include <stdio.h>\n\nint main(void) {\n    printf(\"Hello, world!\\n\");\n    return 0;\n}\n"),
            Self::Cpp => ("main.cpp", "#include <iostream>\n\nint main() {\n    std::cout << \"Hello, world!\" << std::endl;\n}\n"),
            Self::Rust => ("main.rs", "fn main() {\n    println!(\"Hello, world!\");\n}\n"),
            Self::Java => ("Main.java", "public class Main {\n    public static void main(String[] args) {\n        System.out.println(\"Hello, world!\");\n    }\n}\n"),
            Self::Go => ("main.go", "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"Hello, world!\")\n}\n"),
            Self::Bash => ("main.sh", "#!/usr/bin/env bash\necho \"Hello, world!\"\n"),
        }
    }
}

/// A session as its list and its page show it, for one viewer of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct CodeSession {
    pub uuid: Uuid,
    pub name: String,
    pub language: Language,
    pub created_at: DateTime<Utc>,
    pub last_accessed_at: DateTime<Utc>,
    /// The caller's role in it.
    pub role: Role,
    /// The owner's username.
    pub owner: String,
    /// Offered as a template when its owner creates a session.
    pub is_template: bool,
    /// How many sessions were forked from it.
    pub forks: i64,
    pub description: String,
    pub tags: Vec<String>,
}

text_enum!(
    /// Which of the caller's sessions a list shows.
    Scope {
        All = "all",
        Owned = "owned",
        Shared = "shared",
    }
);

text_enum!(
    /// The order of a list of sessions.
    Sort {
        Recent = "recent",
        Name = "name",
        Created = "created",
    }
);

/// What the session list searches for and how it orders it; every part optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionFilter {
    /// Words in the name, the description or a tag (any case).
    pub query: String,
    pub language: Option<Language>,
    pub tag: Option<String>,
    pub scope: Option<Scope>,
    pub sort: Option<Sort>,
}

pub const MAX_DESCRIPTION: usize = 2000;
pub const MAX_TAGS: usize = 20;

/// A description (at most 2,000 characters) and tags (at most 20, each 1 to 32
/// letters, digits, `-`, `_` or `.`, kept lower case, without repeats).
pub fn validate_details(
    description: &str,
    tags: &[String],
) -> Result<(String, Vec<String>), AppError> {
    let description = description.trim();
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(AppError::invalid(
            "a description has at most 2,000 characters",
        ));
    }
    let mut clean: Vec<String> = Vec::new();
    for t in tags {
        let t = t.trim().trim_start_matches('#').to_lowercase();
        if t.is_empty() {
            continue;
        }
        if t.chars().count() > 32 || !t.chars().all(|c| c.is_alphanumeric() || "-_.".contains(c)) {
            return Err(AppError::invalid(format!(
                "a tag has 1 to 32 letters, digits, '-', '_' or '.': not '{t}'"
            )));
        }
        if !clean.contains(&t) {
            clean.push(t);
        }
    }
    if clean.len() > MAX_TAGS {
        return Err(AppError::invalid("a session has at most 20 tags"));
    }
    Ok((description.to_string(), clean))
}

/// Tags as typed in one field: separated by commas or spaces.
pub fn split_tags(text: &str) -> Vec<String> {
    text.split([',', ' '])
        .filter(|t| !t.trim().is_empty())
        .map(|t| t.trim().to_string())
        .collect()
}

/// A starting point for a new session: a starter project (`id` is its slug) or
/// one of the user's own sessions marked as a template (`id` is its uuid).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Template {
    pub id: String,
    pub name: String,
    pub language: Language,
    pub description: String,
    /// One of the caller's sessions rather than a starter project.
    pub mine: bool,
}

/// A session name: trimmed, 1 to 100 characters, no control characters.
pub fn validate_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "a session name has 1 to 100 characters and no control characters",
        ));
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_cleaned_and_checked() {
        let (d, t) = validate_details("  notes ", &split_tags("Rust, #cli  rust,web")).unwrap();
        assert_eq!(d, "notes");
        assert_eq!(t, ["rust", "cli", "web"]);
        assert!(validate_details("", &["a b".into()]).is_err());
        assert!(validate_details("", &["x".repeat(33)]).is_err());
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(validate_details("", &many).is_err());
        assert!(validate_details(&"d".repeat(2001), &[]).is_err());
    }
}
