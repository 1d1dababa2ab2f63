//! Requests from other sites. A browser says where a request comes from
//! (`Sec-Fetch-Site`, `Origin`); a state-changing API call, a terminal socket,
//! an events stream or an assistant answer's stream that another site started
//! is refused, so a page elsewhere can neither act with a visitor's cookie (a
//! plain HTML form logging them into an attacker's account included) nor open
//! their terminal. Clients that send neither header (curl, scripts, other API
//! clients) are served. API calls must also be JSON: a form or `text/plain`
//! body (which needs no CORS preflight) is refused before anything reads it.

use app::{AppError, ErrorCode};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, Method};

pub async fn guard(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let api_write =
        path.starts_with("/api/") && !matches!(*req.method(), Method::GET | Method::HEAD);
    let live =
        path.starts_with("/ws/") || path.starts_with("/events/") || path.starts_with("/ai/stream/");
    if (api_write || live) && from_elsewhere(req.headers()) {
        return AppError::forbidden("requests from other sites are refused").into_response();
    }
    if api_write && !is_json(req.headers()) {
        return AppError::new(
            ErrorCode::UnsupportedMediaType,
            "the API takes JSON (Content-Type: application/json)",
        )
        .into_response();
    }
    next.run(req).await
}

/// Whether the browser says another site made the request.
fn from_elsewhere(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        // `none`: typed in the address bar or opened from a bookmark.
        return !matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let host = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(header::HOST))
        .and_then(|v| v.to_str().ok());
    // "null" (a sandboxed frame, a file) and any other host are elsewhere.
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    origin_host.is_none() || origin_host != host
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn where_a_request_comes_from() {
        assert!(!from_elsewhere(&headers(&[])));
        assert!(!from_elsewhere(&headers(&[(
            "sec-fetch-site",
            "same-origin"
        )])));
        assert!(from_elsewhere(&headers(&[(
            "sec-fetch-site",
            "cross-site"
        )])));
        assert!(from_elsewhere(&headers(&[("sec-fetch-site", "same-site")])));
        let same = [
            ("origin", "http://ide.example:3000"),
            ("host", "ide.example:3000"),
        ];
        assert!(!from_elsewhere(&headers(&same)));
        let other = [
            ("origin", "https://evil.example"),
            ("host", "ide.example:3000"),
        ];
        assert!(from_elsewhere(&headers(&other)));
        assert!(from_elsewhere(&headers(&[
            ("origin", "null"),
            ("host", "ide.example")
        ])));
    }

    #[test]
    fn json_only() {
        assert!(is_json(&headers(&[("content-type", "application/json")])));
        assert!(is_json(&headers(&[(
            "content-type",
            "Application/JSON; charset=utf-8"
        )])));
        assert!(!is_json(&headers(&[("content-type", "text/plain")])));
        assert!(!is_json(&headers(&[])));
    }
}
