//! The axum server: configuration, database, routes and the server's lifecycle.

pub mod config;
pub mod database;
pub mod embedded_pg;
pub mod error;
pub mod routes;
pub mod runner;
pub mod serve;
pub mod sync;
pub mod telemetry;
pub mod terminal;
pub mod workspaces;

pub use error::Error;
