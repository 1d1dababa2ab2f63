//! The one error type of the API. It crosses the wire as
//! `{"error": "<code>", "message": "<human text>"}` with the matching HTTP status.

use crate::wire::files::FileContent;
use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    Invalid,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    TooLarge,
    /// A body the API does not take (it takes JSON).
    UnsupportedMediaType,
    RateLimited,
    Unavailable,
    /// The server's disk is full: nothing was written.
    InsufficientStorage,
    /// Never sent by the server: the client could not reach it at all.
    Unreachable,
    Internal,
}

impl ErrorCode {
    pub fn status(self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            Self::BadRequest => S::BAD_REQUEST,
            Self::Invalid => S::UNPROCESSABLE_ENTITY,
            Self::Unauthorized => S::UNAUTHORIZED,
            Self::Forbidden => S::FORBIDDEN,
            Self::NotFound => S::NOT_FOUND,
            Self::Conflict => S::CONFLICT,
            Self::TooLarge => S::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => S::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited => S::TOO_MANY_REQUESTS,
            Self::Unavailable | Self::Unreachable => S::SERVICE_UNAVAILABLE,
            Self::InsufficientStorage => S::INSUFFICIENT_STORAGE,
            Self::Internal => S::INTERNAL_SERVER_ERROR,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub error: ErrorCode,
    pub message: String,
    /// Seconds to wait before trying again (with `rate_limited`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// The file as it is now (with a `conflict` from a stale save).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<Box<FileContent>>,
}

impl AppError {
    pub fn new(error: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error,
            message: message.into(),
            retry_after: None,
            current: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Invalid, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::TooLarge, message)
    }

    /// 429 for a cap reached (sessions, terminals, sockets): waiting alone does
    /// not help, so no `retry_after`; the message says what to close.
    pub fn too_many(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::RateLimited, message)
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(
                ErrorCode::RateLimited,
                format!("too many attempts; try again in {retry_after} s"),
            )
        }
    }

    /// A save based on an old version: carries the current one.
    pub fn stale(current: FileContent) -> Self {
        Self {
            current: Some(Box::new(current)),
            ..Self::conflict("the file changed since it was opened")
        }
    }

    /// Logs the real cause and returns an error that reveals nothing of it.
    #[cfg(feature = "ssr")]
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(ErrorCode::Internal, "internal server error")
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        // SQLSTATE classes: 08 the connection, 57P the server shutting down or
        // starting; 53100 its disk full.
        let state = e.as_database_error().and_then(|d| d.code());
        let state = state.as_deref().unwrap_or("");
        let gone = matches!(
            e,
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)
        );
        if gone || state.starts_with("08") || state.starts_with("57P") {
            tracing::warn!("the database is not answering: {e}");
            Self::new(
                ErrorCode::Unavailable,
                "the database is not answering just now: try again in a moment",
            )
        } else if state == "53100" {
            tracing::error!("the database's disk is full: {e}");
            Self::new(
                ErrorCode::InsufficientStorage,
                "the server's disk is full: nothing was saved",
            )
        } else {
            Self::internal(e)
        }
    }
}

/// For axum routes outside the server functions (sockets, event streams).
#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        (self.error.status(), axum::Json(self)).into_response()
    }
}

/// The name of the constraint a database error violated, if any.
#[cfg(feature = "ssr")]
pub fn constraint_of(e: &sqlx::Error) -> Option<&str> {
    e.as_database_error()?.constraint()
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::MissingArg(m) => {
                Self::bad_request(format!("bad arguments: {m}"))
            }
            // On the server, what fails to deserialise is the request's arguments.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(m) => {
                Self::bad_request(format!("bad arguments: {m}"))
            }
            ServerFnErrorErr::Request(m) => Self::new(
                ErrorCode::Unreachable,
                format!("cannot reach the server: {m}"),
            ),
            #[cfg(not(feature = "ssr"))]
            ServerFnErrorErr::Deserialization(m) => {
                Self::new(ErrorCode::Internal, format!("unreadable response: {m}"))
            }
            #[cfg(feature = "ssr")]
            other => Self::internal(other),
            #[cfg(not(feature = "ssr"))]
            other => Self::new(ErrorCode::Internal, other.to_string()),
        }
    }

    /// Called by the server to write the error body; the status goes with it, so
    /// every error leaves with its proper HTTP status rather than server_fn's 500.
    fn ser(&self) -> leptos::server_fn::Bytes {
        #[cfg(feature = "ssr")]
        if let Some(res) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            res.set_status(self.error.status());
            if let Some(secs) = self.retry_after {
                res.insert_header(http::header::RETRY_AFTER, secs.into());
            }
        }
        // Serialising a plain struct of strings cannot fail.
        serde_json::to_vec(self).unwrap_or_default().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_code_and_message() {
        let json = serde_json::to_value(AppError::not_found("no such session")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"error": "not_found", "message": "no such session"})
        );
        let limited = serde_json::to_value(AppError::rate_limited(30)).unwrap();
        assert_eq!(limited["retry_after"], 30);
    }

    #[test]
    fn codes_map_to_http_statuses() {
        let pairs = [
            (ErrorCode::BadRequest, 400),
            (ErrorCode::Unauthorized, 401),
            (ErrorCode::Forbidden, 403),
            (ErrorCode::NotFound, 404),
            (ErrorCode::Conflict, 409),
            (ErrorCode::TooLarge, 413),
            (ErrorCode::UnsupportedMediaType, 415),
            (ErrorCode::Invalid, 422),
            (ErrorCode::RateLimited, 429),
            (ErrorCode::Internal, 500),
            (ErrorCode::Unavailable, 503),
            (ErrorCode::InsufficientStorage, 507),
            (ErrorCode::Unreachable, 503),
        ];
        for (code, status) in pairs {
            assert_eq!(code.status().as_u16(), status, "{code:?}");
        }
    }

    #[test]
    fn unreadable_arguments_are_the_clients_fault() {
        let e = AppError::from_server_fn_error(ServerFnErrorErr::Args("missing field".into()));
        assert_eq!(e.error, ErrorCode::BadRequest);
    }
}
