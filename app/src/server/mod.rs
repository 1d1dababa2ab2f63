//! The server half of the API (compiled with `ssr`): who is calling and what they
//! may do (`access`), and each domain's data access. The server functions in `api`
//! and the server crate use these modules directly; none reaches into another
//! domain's internals.

pub mod access;
pub mod account;
pub mod anchors;
pub mod assistant;
pub mod auth;
pub mod blobs;
pub mod checkpoints;
pub mod client_addr;
pub mod commands;
pub mod content;
pub mod csp;
pub mod digest;
pub mod files;
pub mod history;
pub mod identities;
pub mod links;
pub mod login;
pub mod markdown;
pub mod providers;
pub mod retention;
pub mod reviews;
pub mod runs;
pub mod search;
pub mod sessions;
pub mod settings;
pub mod sharing;
pub mod state;
pub mod templates;
pub mod uploads;
pub mod upsert;
