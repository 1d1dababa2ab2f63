//! The axum server: configuration, database, routes and the server's lifecycle.

pub mod access_watch;
pub mod admin;
pub mod answer_stream;
pub mod caps;
pub mod commands;
pub mod config;
pub mod database;
pub mod download;
pub mod embedded_pg;
pub mod error;
pub mod holders;
pub mod memory;
pub mod news;
pub mod routes;
pub mod runner;
pub mod runs;
pub mod same_origin;
pub mod sandboxes;
pub mod serve;
pub mod services;
pub mod sse;
pub mod sync;
pub mod telemetry;
pub mod terminal;
pub mod upkeep;

pub use error::Error;
