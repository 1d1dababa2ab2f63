//! Workspace search. Postgres narrows a search to the files that can match (a
//! trigram index on a copy of the contents that the server keeps up to date in
//! the background from a queue the database fills; files the copy does not have
//! as they are now are always candidates), then the server
//! matches lines with Rust's `regex`, whatever the query's syntax needs; include
//! and exclude globs filter paths. Replace goes through a
//! preview that names each file's hash, and applies only to files still at it.

use super::access::Grant;
use super::checkpoints;
use super::content::Body;
use super::files::{self, Writer};
use super::state::{AppState, FileChange as Mirrored};
use crate::fuzzy;
use crate::wire::history::Source;
use crate::wire::search::{
    FileBase, FileChange, FileHit, LineChange, Replaced, Skipped, TextMatch, TextResults,
};
use crate::AppError;
use futures_util::TryStreamExt;
use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::{Regex, RegexBuilder};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use sqlx::PgPool;
use std::time::{Duration, Instant};

/// Matches returned unless the caller asks for another number.
pub const DEFAULT_RESULTS: u32 = 2_000;
pub const MAX_RESULTS: u32 = 20_000;
/// Longest line text sent with a match.
const TEXT_CHARS: usize = 1_000;
/// Changed lines a replace preview shows per file.
const PREVIEW_LINES: usize = 200;
/// Files one replace may change.
const MAX_REPLACE_FILES: usize = 5_000;

/// What to look for: the arguments every search function takes.
#[derive(Debug, Clone)]
pub struct Query {
    pub query: String,
    pub regex: bool,
    pub case_sensitive: bool,
    pub whole_word: bool,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

pub struct Compiled {
    re: Regex,
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
    /// A file can match only if it contains one of these (empty: any file can).
    needles: Vec<String>,
    case_sensitive: bool,
}

impl Compiled {
    pub fn new(q: &Query) -> Result<Self, AppError> {
        if q.query.is_empty() {
            return Err(AppError::invalid("the search is empty"));
        }
        let pattern = if q.regex {
            check_syntax(&q.query)?;
            q.query.clone()
        } else {
            regex::escape(&q.query)
        };
        let pattern = if q.whole_word {
            format!(r"\b(?:{pattern})\b")
        } else {
            pattern
        };
        let re = RegexBuilder::new(&pattern)
            .case_insensitive(!q.case_sensitive)
            .multi_line(true)
            .build()
            .map_err(|e| AppError::invalid(format!("invalid regular expression: {e}")))?;
        Ok(Self {
            re,
            include: globs(&q.include)?,
            exclude: globs(&q.exclude)?,
            needles: needles(&pattern),
            case_sensitive: q.case_sensitive,
        })
    }

    fn wants(&self, path: &str) -> bool {
        self.include.as_ref().is_none_or(|g| g.is_match(path))
            && !self.exclude.as_ref().is_some_and(|g| g.is_match(path))
    }

    /// Calls `each(path, content, hash)` for every file of session `sid` that can
    /// match, until it returns false: the files the index copy finds (as the copy
    /// has them, when they are still so), then those the copy does not have as
    /// they are now, filtered the same way without the index. One query, read as
    /// it streams, so Postgres reads on while the server matches; in no order.
    async fn scan(
        &self,
        pool: &PgPool,
        sid: i64,
        mut each: impl FnMut(&str, &str, &str) -> bool,
    ) -> Result<(), AppError> {
        let op = if self.case_sensitive { "LIKE" } else { "ILIKE" };
        let filter = |column: &str| {
            if self.needles.is_empty() {
                String::new()
            } else {
                format!("AND {column} {op} ANY($2)")
            }
        };
        let patterns: Vec<String> = self
            .needles
            .iter()
            .map(|n| format!("%{}%", like_escape(n)))
            .collect();
        // The files the copy lacks are found first without reading any content,
        // or Postgres would read every file's to filter them.
        let sql = format!(
            "WITH pending AS MATERIALIZED (
                 SELECT i.id FROM workspace_items i
                 LEFT JOIN search_docs d ON d.item_id = i.id AND d.hash = i.content_hash
                 WHERE i.session_id = $1 AND i.kind = 'file' AND i.content IS NOT NULL
                   AND d.item_id IS NULL)
             SELECT i.full_path, d.content, d.hash FROM search_docs d
             JOIN workspace_items i ON i.id = d.item_id AND i.content_hash = d.hash
             WHERE d.session_id = $1 {}
             UNION ALL
             SELECT i.full_path, i.content, i.content_hash FROM pending p
             JOIN workspace_items i ON i.id = p.id
             WHERE true {}",
            filter("d.content"),
            filter("i.content"),
        );
        let started = Instant::now();
        let (mut files, mut matching) = (0usize, Duration::ZERO);
        let mut rows = sqlx::query_as::<_, (String, String, String)>(&sql)
            .bind(sid)
            .bind(&patterns)
            .fetch(pool);
        while let Some((path, content, hash)) = rows.try_next().await? {
            if !self.wants(&path) {
                continue;
            }
            files += 1;
            let t = Instant::now();
            let more = each(&path, &content, &hash);
            matching += t.elapsed();
            if !more {
                break;
            }
        }
        tracing::debug!(
            files,
            ms = started.elapsed().as_secs_f64() * 1e3,
            match_ms = matching.as_secs_f64() * 1e3,
            "searched"
        );
        Ok(())
    }
}

/// Brings the index copy up to date for the files queued since (at most
/// `limit` queue entries); how many entries it took. Several servers may run it:
/// each takes entries no other has locked.
pub async fn index(pool: &PgPool, limit: i64) -> Result<usize, AppError> {
    let taken: i64 = sqlx::query_scalar(
        "WITH batch AS (
             DELETE FROM search_queue WHERE id IN (
                 SELECT id FROM search_queue ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
             RETURNING session_id, file_key),
         copied AS (
             INSERT INTO search_docs (item_id, session_id, hash, content)
             SELECT i.id, i.session_id, i.content_hash, i.content FROM workspace_items i
             JOIN (SELECT DISTINCT session_id, file_key FROM batch) b
               ON i.session_id = b.session_id AND i.file_key = b.file_key
             WHERE i.kind = 'file' AND i.content IS NOT NULL
             ON CONFLICT (item_id) DO UPDATE SET hash = EXCLUDED.hash, content = EXCLUDED.content
             WHERE search_docs.hash IS DISTINCT FROM EXCLUDED.hash)
         SELECT count(*) FROM batch",
    )
    .bind(limit)
    .fetch_one(pool)
    .await?;
    Ok(taken as usize)
}

/// Fresh statistics for the index copy, after it grew a lot: the planner then
/// takes the trigram index for selective searches at once, not after autovacuum.
pub async fn analyze(pool: &PgPool) -> Result<(), AppError> {
    sqlx::query("ANALYZE search_docs").execute(pool).await?;
    Ok(())
}

/// 422 with where the pattern is wrong, in Rust's regex syntax.
fn check_syntax(pattern: &str) -> Result<(), AppError> {
    regex_syntax::ParserBuilder::new()
        .build()
        .parse(pattern)
        .map(|_| ())
        .map_err(|e| {
            let (column, what) = match &e {
                regex_syntax::Error::Parse(e) => (e.span().start.column, e.kind().to_string()),
                regex_syntax::Error::Translate(e) => (e.span().start.column, e.kind().to_string()),
                other => (1, other.to_string()),
            };
            AppError::invalid(format!(
                "invalid regular expression at column {column}: {what}"
            ))
        })
}

/// Literals one of which every match contains, long enough for the trigram
/// index (3 characters); none when the pattern has no such set.
fn needles(pattern: &str) -> Vec<String> {
    let Ok(hir) = regex_syntax::ParserBuilder::new().build().parse(pattern) else {
        return Vec::new();
    };
    let mut best: Vec<String> = Vec::new();
    for kind in [ExtractKind::Prefix, ExtractKind::Suffix] {
        let seq = Extractor::new().kind(kind).extract(&hir);
        let Some(literals) = seq.literals() else {
            continue;
        };
        let texts: Option<Vec<String>> = literals
            .iter()
            .map(|l| String::from_utf8(l.as_bytes().to_vec()).ok())
            .collect();
        let Some(texts) = texts else { continue };
        let shortest = texts.iter().map(|t| t.chars().count()).min().unwrap_or(0);
        let best_shortest = best.iter().map(|t| t.chars().count()).min().unwrap_or(0);
        if !texts.is_empty() && texts.len() <= 64 && shortest >= 3 && shortest > best_shortest {
            best = texts;
        }
    }
    best
}

/// `s` matched literally by LIKE.
pub fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Globs as VS Code reads them: `*.py` matches in any folder, `src` means
/// everything under any folder named so.
fn globs(patterns: &[String]) -> Result<Option<GlobSet>, AppError> {
    let patterns: Vec<&str> = patterns
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect();
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut set = GlobSetBuilder::new();
    for p in patterns {
        let p = p.trim_start_matches("./").trim_end_matches('/');
        let anywhere = if p.starts_with("**/") || p.starts_with('/') {
            p.trim_start_matches('/').to_string()
        } else {
            format!("**/{p}")
        };
        for g in [anywhere.clone(), format!("{anywhere}/**")] {
            let glob = Glob::new(&g)
                .map_err(|e| AppError::invalid(format!("invalid glob {p:?}: {}", e.kind())))?;
            set.add(glob);
        }
    }
    set.build()
        .map(Some)
        .map_err(|e| AppError::invalid(format!("invalid globs: {e}")))
}

/// The matches of `re` in one file, with 1-based lines and character columns.
fn matches_in(
    re: &Regex,
    path: &str,
    content: &str,
    room: usize,
    out: &mut Vec<TextMatch>,
) -> bool {
    let mut line = 1u32;
    let mut line_start = 0usize;
    let mut scanned = 0usize;
    for m in re.find_iter(content) {
        for nl in newlines(&content.as_bytes()[scanned..m.start()]) {
            line += 1;
            line_start = scanned + nl + 1;
        }
        scanned = m.start();
        let line_end = content[line_start..]
            .find('\n')
            .map_or(content.len(), |i| line_start + i);
        let text = content[line_start..line_end].trim_end_matches('\r');
        let column = content[line_start..m.start()].chars().count() as u32 + 1;
        let end = m.end().min(line_start + text.len());
        let end_column = content[line_start..end].chars().count() as u32 + 1;
        out.push(TextMatch {
            path: path.to_string(),
            line,
            column,
            end_column,
            text: around(text, column as usize - 1),
        });
        if out.len() >= room {
            return false;
        }
    }
    true
}

fn newlines(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i)
}

/// `line`, cut to at most `TEXT_CHARS` characters around character `at`.
fn around(line: &str, at: usize) -> String {
    let count = line.chars().count();
    if count <= TEXT_CHARS {
        return line.to_string();
    }
    let start = at.saturating_sub(TEXT_CHARS / 4).min(count - TEXT_CHARS);
    line.chars().skip(start).take(TEXT_CHARS).collect()
}

/// Every match in the session's files, in path order, at most `max_results`.
pub async fn text(
    pool: &PgPool,
    sid: i64,
    q: &Query,
    max_results: u32,
) -> Result<TextResults, AppError> {
    let c = Compiled::new(q)?;
    let room = max_results as usize;
    let mut out = Vec::new();
    let mut truncated = false;
    c.scan(pool, sid, |path, content, _| {
        if !matches_in(&c.re, path, content, room + 1, &mut out) || out.len() > room {
            truncated = true;
            return false;
        }
        true
    })
    .await?;
    out.truncate(room);
    out.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
    Ok(TextResults {
        matches: out,
        truncated,
    })
}

/// What a replace does to one file: its new content and the changed lines.
fn replaced(
    c: &Compiled,
    regex: bool,
    replacement: &str,
    content: &str,
) -> Option<(String, u32, Vec<LineChange>)> {
    let count = c.re.find_iter(content).count() as u32;
    if count == 0 {
        return None;
    }
    let swap = |text: &str| -> String {
        if regex {
            c.re.replace_all(text, replacement).into_owned()
        } else {
            c.re.replace_all(text, regex::NoExpand(replacement))
                .into_owned()
        }
    };
    let after = swap(content);
    let lines = content
        .lines()
        .enumerate()
        .filter(|(_, l)| c.re.is_match(l))
        .take(PREVIEW_LINES)
        .map(|(i, l)| LineChange {
            line: i as u32 + 1,
            before: l.to_string(),
            after: swap(l),
        })
        .collect();
    Some((after, count, lines))
}

/// Replace: with `preview`, what would change and each file's hash; without it,
/// the change applied to `files` (the preview's paths and hashes), after a
/// checkpoint. A file changed since its hash is left alone and reported.
pub async fn replace(
    state: &AppState,
    g: &Grant,
    q: &Query,
    replacement: &str,
    preview: bool,
    bases: Option<Vec<FileBase>>,
) -> Result<Replaced, AppError> {
    let c = Compiled::new(q)?;
    if preview {
        let mut out = Replaced::default();
        c.scan(&state.pool, g.session_id, |path, content, hash| {
            if let Some((_, replacements, lines)) = replaced(&c, q.regex, replacement, content) {
                out.files.push(FileChange {
                    path: path.to_string(),
                    hash: hash.to_string(),
                    replacements,
                    lines,
                });
            }
            if out.files.len() >= MAX_REPLACE_FILES {
                out.truncated = true;
                return false;
            }
            true
        })
        .await?;
        out.files.sort_by(|a, b| a.path.cmp(&b.path));
        return Ok(out);
    }
    let bases = bases.ok_or_else(|| {
        AppError::invalid("applying a replace takes the files and hashes its preview returned")
    })?;
    if bases.len() > MAX_REPLACE_FILES {
        return Err(AppError::invalid(format!(
            "at most {MAX_REPLACE_FILES} files per replace"
        )));
    }
    let mut tx = state.pool.begin().await?;
    let label = format!("Before replacing “{}” with “{replacement}”", q.query);
    let checkpoint = checkpoints::create(&mut tx, g, &label, true).await?;
    let w = Writer::of(g, Source::Replace);
    let mut out = Replaced {
        checkpoint: Some(checkpoint.id),
        ..Default::default()
    };
    let mut mirrored = Vec::new();
    for base in bases {
        let now = files::current(&state.pool, g.session_id, &base.path).await;
        let skip = |reason: &str| Skipped {
            path: base.path.clone(),
            reason: reason.to_string(),
        };
        let file = match now {
            Ok(Some(f)) if f.hash == base.hash && !f.is_binary() => f,
            Ok(Some(_)) => {
                out.conflicts.push(skip("it changed since the preview"));
                continue;
            }
            _ => {
                out.conflicts.push(skip("it is gone"));
                continue;
            }
        };
        let Some((after, replacements, lines)) = replaced(&c, q.regex, replacement, &file.content)
        else {
            continue;
        };
        if let Err(e) = files::check_size(state, g.session_id, Some(&file.path), after.len()).await
        {
            out.conflicts.push(skip(&e.message));
            continue;
        }
        let body = Body::Text(after);
        let new = files::NewContent {
            body: &body,
            base_hash: &base.hash,
            delta: None,
            room: None,
        };
        match files::set_content(&mut *tx, g.session_id, &file.path, new, w).await? {
            Some(saved) => {
                mirrored.push(Mirrored::Written {
                    path: file.path.clone(),
                    bytes: body.into_bytes(),
                    hash: saved.hash.clone(),
                });
                out.files.push(FileChange {
                    path: file.path,
                    hash: saved.hash,
                    replacements,
                    lines,
                });
            }
            None => out.conflicts.push(skip("it changed since the preview")),
        }
    }
    tx.commit().await?;
    for change in mirrored {
        state.hooks.changed(g.session, change).await;
    }
    Ok(out)
}

/// The session's files by fuzzy name, best first.
pub async fn files(pool: &PgPool, sid: i64, query: &str) -> Result<Vec<FileHit>, AppError> {
    let paths: Vec<String> = sqlx::query_scalar(
        "SELECT full_path FROM workspace_items WHERE session_id = $1 AND kind = 'file'",
    )
    .bind(sid)
    .fetch_all(pool)
    .await?;
    Ok(fuzzy::rank(query, paths.iter().map(String::as_str), 50)
        .into_iter()
        .map(|(path, (score, positions))| FileHit {
            path,
            score,
            positions,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(query: &str, regex: bool) -> Query {
        Query {
            query: query.into(),
            regex,
            case_sensitive: true,
            whole_word: false,
            include: vec![],
            exclude: vec![],
        }
    }

    #[test]
    fn regex_errors_say_where() {
        let e = Compiled::new(&q("foo(bar", true)).err().unwrap();
        assert!(
            e.message
                .starts_with("invalid regular expression at column 4"),
            "{}",
            e.message
        );
        let e = Compiled::new(&q("a{2,1}", true)).err().unwrap();
        assert!(e.message.contains("column"), "{}", e.message);
    }

    #[test]
    fn needles_for_the_index() {
        assert_eq!(needles(&regex::escape("needle")), ["needle"]);
        assert_eq!(needles(r"\bparse_\w+\b"), ["parse_"]);
        assert_eq!(needles(r"[A-Z][a-z]+Error"), ["Error"]);
        assert!(needles(r"\w+").is_empty());
        assert!(needles("ab").is_empty());
    }

    #[test]
    fn lines_and_columns_count_from_one_in_characters() {
        let c = Compiled::new(&q("x", false)).unwrap();
        let mut out = Vec::new();
        matches_in(&c.re, "f", "ab\nüx y x\n", 10, &mut out);
        let found: Vec<(u32, u32, u32)> = out
            .iter()
            .map(|m| (m.line, m.column, m.end_column))
            .collect();
        assert_eq!(found, [(2, 2, 3), (2, 6, 7)]);
        assert_eq!(out[0].text, "üx y x");
    }

    #[test]
    fn globs_match_anywhere() {
        let g = globs(&["*.py".into(), "docs".into()]).unwrap().unwrap();
        assert!(g.is_match("main.py") && g.is_match("src/a/b.py") && g.is_match("docs/x.md"));
        assert!(!g.is_match("src/main.rs"));
    }
}
