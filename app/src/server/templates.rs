//! Starter projects (one per language at least, from the repository's
//! `templates/` folder, compiled in and written to Postgres at start) and the
//! sessions users mark as templates: what a new session can start from.

use super::{access, content::Body, files, state::AppState};
use crate::wire::history::Source;
use crate::wire::sessions::{Language, Template};
use crate::AppError;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

struct Starter {
    slug: &'static str,
    name: &'static str,
    language: Language,
    description: &'static str,
    files: &'static [(&'static str, &'static str)],
}

macro_rules! files {
    ($dir:literal: $($file:literal),+) => {
        &[$(($file, include_str!(concat!("../../../templates/", $dir, "/", $file)))),+]
    };
}

const STARTERS: [Starter; 4] = [
    Starter {
        slug: "python",
        name: "Python",
        language: Language::Python,
        description: "A program that reads input, and a module it imports",
        files: files!("python": "README.md", "main.py", "stats.py"),
    },
    Starter {
        slug: "javascript",
        name: "JavaScript (Node.js)",
        language: Language::Javascript,
        description: "Reads lines from standard input and answers each",
        files: files!("javascript": "README.md", "main.js"),
    },
    Starter {
        slug: "c",
        name: "C",
        language: Language::C,
        description: "A program compiled with gcc, and a Makefile",
        files: files!("c": "README.md", "main.c", "Makefile"),
    },
    Starter {
        slug: "bash",
        name: "Bash",
        language: Language::Bash,
        description: "A script that looks at the workspace",
        files: files!("bash": "README.md", "main.sh"),
    },
];

/// Writes the starters into Postgres, replacing what an older server wrote.
pub async fn seed(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for s in &STARTERS {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO templates (slug, name, language, description) VALUES ($1, $2, $3, $4)
             ON CONFLICT (slug) DO UPDATE SET name = $2, language = $3, description = $4,
                 updated_at = now()
             RETURNING id",
        )
        .bind(s.slug)
        .bind(s.name)
        .bind(s.language)
        .bind(s.description)
        .fetch_one(&mut *tx)
        .await?;
        let (paths, contents): (Vec<&str>, Vec<&str>) = s.files.iter().copied().unzip();
        sqlx::query("DELETE FROM template_files WHERE template_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO template_files (template_id, path, content)
             SELECT $1, * FROM unnest($2::text[], $3::text[])",
        )
        .bind(id)
        .bind(&paths)
        .bind(&contents)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// The starters, then `user`'s own sessions marked as templates.
pub async fn list(pool: &PgPool, user: i64) -> Result<Vec<Template>, AppError> {
    Ok(sqlx::query_as(
        "SELECT * FROM (
             SELECT slug AS id, name, language, description, false AS mine, id AS n
             FROM templates
             UNION ALL
             SELECT s.uuid::text, s.name, s.language, '', true, s.id
             FROM code_sessions s
             JOIN session_roles r ON r.session_id = s.id AND r.user_id = $1 AND r.role = 'owner'
             WHERE s.is_template) t
         ORDER BY mine, CASE WHEN mine THEN name END, n",
    )
    .bind(user)
    .fetch_all(pool)
    .await?)
}

/// What a new session starts from.
pub enum Origin {
    /// Its language's single starter file.
    Blank,
    /// A starter project, by slug.
    Starter(i64),
    /// A session of the caller's marked as a template: its current files.
    Session(i64),
    /// A session the caller may read, forked: its current files.
    Fork(i64),
}

impl Origin {
    /// The session a new one is a fork of.
    pub fn forked_from(&self) -> Option<i64> {
        match *self {
            Self::Fork(id) => Some(id),
            _ => None,
        }
    }
}

/// What `template` (a starter's slug, or the uuid of a session of the caller's
/// marked as a template) names; 404 when it names nothing the caller may use.
pub async fn origin(state: &AppState, template: Option<&str>) -> Result<Origin, AppError> {
    let Some(t) = template.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(Origin::Blank);
    };
    if let Ok(uuid) = Uuid::parse_str(t) {
        let (_, g) = access::session(uuid, crate::wire::access::Capability::Read).await?;
        let marked: bool =
            sqlx::query_scalar("SELECT is_template FROM code_sessions WHERE id = $1")
                .bind(g.session_id)
                .fetch_one(&state.pool)
                .await?;
        if !marked {
            return Err(AppError::invalid(
                "that session is not a template; fork it instead",
            ));
        }
        return Ok(Origin::Session(g.session_id));
    }
    sqlx::query_scalar("SELECT id FROM templates WHERE slug = $1")
        .bind(t)
        .fetch_optional(&state.pool)
        .await?
        .map(Origin::Starter)
        .ok_or_else(|| AppError::not_found(format!("no template named '{t}'")))
}

/// The language a session made from `origin` has when none is asked for.
pub async fn language(pool: &PgPool, origin: &Origin) -> Result<Language, AppError> {
    Ok(match *origin {
        Origin::Blank => Language::default(),
        Origin::Starter(id) => {
            sqlx::query_scalar("SELECT language FROM templates WHERE id = $1")
                .bind(id)
                .fetch_one(pool)
                .await?
        }
        Origin::Session(id) | Origin::Fork(id) => {
            sqlx::query_scalar("SELECT language FROM code_sessions WHERE id = $1")
                .bind(id)
                .fetch_one(pool)
                .await?
        }
    })
}

/// Fills a new session (`sid`, `uuid`) from `origin`, as made by `by`.
pub async fn fill(
    tx: &mut Transaction<'_, Postgres>,
    origin: &Origin,
    sid: i64,
    uuid: Uuid,
    language: Language,
    by: i64,
) -> Result<(), AppError> {
    match *origin {
        Origin::Blank => {
            let (file, content) = language.starter();
            let w = files::Writer {
                by: Some(by),
                source: Source::Template,
            };
            let body = Body::Text(content.to_string());
            files::insert_file(tx, sid, uuid, None, file, &body, w, None).await?;
        }
        // Starters are flat: every file at the root.
        Origin::Starter(id) => {
            sqlx::query(
                "INSERT INTO workspace_items (session_id, session_uuid, name, kind, content,
                     content_hash, size_bytes, full_path, changed_by, change_source)
                 SELECT $2, $3, path, 'file', content, encode(sha256(convert_to(content, 'UTF8')), 'hex'),
                        octet_length(content), path, $4, 'template'
                 FROM template_files WHERE template_id = $1",
            )
            .bind(id)
            .bind(sid)
            .bind(uuid)
            .bind(by)
            .execute(&mut **tx)
            .await?;
        }
        Origin::Session(from) => files::copy_all(tx, from, sid, uuid, by, Source::Template).await?,
        Origin::Fork(from) => files::copy_all(tx, from, sid, uuid, by, Source::Fork).await?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starters_are_flat_and_each_has_a_readme() {
        for s in &STARTERS {
            assert!(s.files.iter().any(|(p, _)| *p == "README.md"), "{}", s.slug);
            assert!(s.files.iter().all(|(p, _)| !p.contains('/')), "{}", s.slug);
        }
    }
}
