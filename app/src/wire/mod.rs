//! The types both sides share: what the API takes and returns, the terminal
//! socket's and the events stream's messages, and the rules both sides check.
//! Serde forms here are the public API; rename nothing without a migration path.

pub mod access;
pub mod auth;
pub mod events;
pub mod files;
pub mod history;
pub mod reviews;
pub mod search;
pub mod sessions;
pub mod sharing;
pub mod terminal;
