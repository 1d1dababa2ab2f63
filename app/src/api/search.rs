//! `/api/search/*`: text search in a session's files (literal or Rust-syntax
//! regular expression, match case, whole word, include and exclude globs),
//! replace through a preview, and files by fuzzy name.

// The arguments are the API's flat JSON fields; the server macro gives the
// browser's functions the same list, where no attribute of ours reaches.
#![allow(clippy::too_many_arguments)]

use crate::wire::search::{FileBase, FileHit, Replaced, TextResults};
use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use uuid::Uuid;

#[cfg(feature = "ssr")]
use crate::{
    server::{access, search as data},
    wire::access::Capability,
};

/// The matches in path order; `max_results` (default 2,000, at most 20,000)
/// bounds them and `truncated` says when it did.
#[server(prefix = "/api", endpoint = "search/text", input = Json)]
pub async fn text(
    session: Uuid,
    query: String,
    regex: Option<bool>,
    case_sensitive: Option<bool>,
    whole_word: Option<bool>,
    include: Option<Vec<String>>,
    exclude: Option<Vec<String>>,
    max_results: Option<u32>,
) -> Result<TextResults, AppError> {
    let (state, g) = access::session(session, Capability::Read).await?;
    let max = max_results.unwrap_or(data::DEFAULT_RESULTS);
    if !(1..=data::MAX_RESULTS).contains(&max) {
        return Err(AppError::invalid(format!(
            "max_results is between 1 and {}",
            data::MAX_RESULTS
        )));
    }
    let q = data::Query {
        query,
        regex: regex.unwrap_or(false),
        case_sensitive: case_sensitive.unwrap_or(false),
        whole_word: whole_word.unwrap_or(false),
        include: include.unwrap_or_default(),
        exclude: exclude.unwrap_or_default(),
    };
    data::text(&state.pool, g.session_id, &q, max).await
}

/// With `preview: true`, what replacing would change, with each file's hash;
/// with `preview: false` and those `files` back, the replace (after a
/// checkpoint), leaving alone each file changed since.
#[server(prefix = "/api", endpoint = "search/replace", input = Json)]
pub async fn replace(
    session: Uuid,
    query: String,
    regex: Option<bool>,
    case_sensitive: Option<bool>,
    whole_word: Option<bool>,
    include: Option<Vec<String>>,
    exclude: Option<Vec<String>>,
    replacement: String,
    preview: bool,
    files: Option<Vec<FileBase>>,
) -> Result<Replaced, AppError> {
    let (state, g) = access::session(session, Capability::Write).await?;
    let q = data::Query {
        query,
        regex: regex.unwrap_or(false),
        case_sensitive: case_sensitive.unwrap_or(false),
        whole_word: whole_word.unwrap_or(false),
        include: include.unwrap_or_default(),
        exclude: exclude.unwrap_or_default(),
    };
    data::replace(&state, &g, &q, &replacement, preview, files).await
}

/// The session's files matching `query` by fuzzy name, best first (at most 50).
#[server(prefix = "/api", endpoint = "search/files", input = Json)]
pub async fn files(session: Uuid, query: String) -> Result<Vec<FileHit>, AppError> {
    let (state, g) = access::session(session, Capability::Read).await?;
    data::files(&state.pool, g.session_id, &query).await
}
