//! Coding sessions: each one workspace with its own URL `/s/{uuid}`. A user reaches
//! only their own; anyone else's answers 404, exactly like one that does not exist.

use crate::AppError;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct CodeSession {
    pub uuid: Uuid,
    pub name: String,
    pub language: Language,
    pub created_at: DateTime<Utc>,
    pub last_accessed_at: DateTime<Utc>,
}

/// The signed-in user's sessions, most recently used first.
#[server(prefix = "/api", endpoint = "sessions/list", input = Json)]
pub async fn list_sessions() -> Result<Vec<CodeSession>, AppError> {
    let (state, me) = ssr::caller().await?;
    Ok(sqlx::query_as(&format!(
        "SELECT {} FROM code_sessions WHERE user_id = $1 ORDER BY last_accessed_at DESC, id DESC",
        ssr::COLUMNS
    ))
    .bind(me.id)
    .fetch_all(&state.pool)
    .await?)
}

/// Creates a session with a starter file for its language.
#[server(prefix = "/api", endpoint = "sessions/create", input = Json)]
pub async fn create_session(
    name: String,
    language: Option<Language>,
) -> Result<CodeSession, AppError> {
    let (state, me) = ssr::caller().await?;
    let name = validate_name(&name)?;
    ssr::create(&state.pool, me.id, &name, language.unwrap_or_default()).await
}

/// Opens a session: returns it and marks it as the most recently used.
#[server(prefix = "/api", endpoint = "sessions/open", input = Json)]
pub async fn open_session(session: Uuid) -> Result<CodeSession, AppError> {
    let (state, me) = ssr::caller().await?;
    ssr::one(
        &state.pool,
        "UPDATE code_sessions SET last_accessed_at = now() WHERE uuid = $1 AND user_id = $2",
        session,
        me.id,
        None,
    )
    .await
}

#[server(prefix = "/api", endpoint = "sessions/rename", input = Json)]
pub async fn rename_session(session: Uuid, name: String) -> Result<CodeSession, AppError> {
    let (state, me) = ssr::caller().await?;
    let name = validate_name(&name)?;
    ssr::one(
        &state.pool,
        "UPDATE code_sessions SET name = $3, updated_at = now() WHERE uuid = $1 AND user_id = $2",
        session,
        me.id,
        Some(&name),
    )
    .await
}

/// Deletes a session with its files and history.
#[server(prefix = "/api", endpoint = "sessions/delete", input = Json)]
pub async fn delete_session(session: Uuid) -> Result<(), AppError> {
    let (state, me) = ssr::caller().await?;
    let done = sqlx::query("DELETE FROM code_sessions WHERE uuid = $1 AND user_id = $2")
        .bind(session)
        .bind(me.id)
        .execute(&state.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(ssr::not_found());
    }
    let change = crate::state::FileChange::SessionDeleted;
    state.hooks.changed(session, change).await;
    Ok(())
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

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::{CodeSession, Language};
    use crate::api::auth::ssr::{require_user, Authed};
    use crate::{state::AppState, AppError};
    use sqlx::PgPool;
    use uuid::Uuid;

    pub const COLUMNS: &str = "uuid, name, language, created_at, last_accessed_at";

    pub fn not_found() -> AppError {
        AppError::not_found("no such session")
    }

    /// The state and the signed-in user, or 401.
    pub async fn caller() -> Result<(AppState, Authed), AppError> {
        let state = AppState::current()?;
        let me = require_user(&state).await?;
        Ok((state, me))
    }

    /// The database id of `uuid` if `user_id` owns it; 404 otherwise.
    pub async fn owned_id(pool: &PgPool, uuid: Uuid, user_id: i64) -> Result<i64, AppError> {
        Ok(owned(pool, uuid, user_id).await?.0)
    }

    /// The database id and language of `uuid` if `user_id` owns it; 404 otherwise.
    pub async fn owned(
        pool: &PgPool,
        uuid: Uuid,
        user_id: i64,
    ) -> Result<(i64, Language), AppError> {
        sqlx::query_as("SELECT id, language FROM code_sessions WHERE uuid = $1 AND user_id = $2")
            .bind(uuid)
            .bind(user_id)
            .fetch_optional(pool)
            .await?
            .ok_or_else(not_found)
    }

    /// Runs `update` (on `$1` uuid, `$2` owner, optional `$3`) and returns the session.
    pub async fn one(
        pool: &PgPool,
        update: &str,
        uuid: Uuid,
        user_id: i64,
        arg: Option<&str>,
    ) -> Result<CodeSession, AppError> {
        let sql = format!("{update} RETURNING {COLUMNS}");
        let mut q = sqlx::query_as(&sql).bind(uuid).bind(user_id);
        if let Some(arg) = arg {
            q = q.bind(arg);
        }
        q.fetch_optional(pool).await?.ok_or_else(not_found)
    }

    /// A new session owned by `user_id`, with its language's starter file.
    pub async fn create(
        pool: &PgPool,
        user_id: i64,
        name: &str,
        language: Language,
    ) -> Result<CodeSession, AppError> {
        let mut tx = pool.begin().await?;
        let (id, session): (i64, CodeSession) = {
            let row: (i64,) = sqlx::query_as(
                "INSERT INTO code_sessions (uuid, user_id, name, language) VALUES ($1, $2, $3, $4)
                 RETURNING id",
            )
            .bind(Uuid::new_v4())
            .bind(user_id)
            .bind(name)
            .bind(language)
            .fetch_one(&mut *tx)
            .await?;
            let s = sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM code_sessions WHERE id = $1"
            ))
            .bind(row.0)
            .fetch_one(&mut *tx)
            .await?;
            (row.0, s)
        };
        let (file, content) = language.starter();
        crate::api::files::ssr::insert_file(&mut tx, id, session.uuid, None, file, content).await?;
        tx.commit().await?;
        Ok(session)
    }
}
