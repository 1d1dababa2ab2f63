//! The axum server: configuration, database, routes and the server's lifecycle.

pub mod config;
pub mod database;
pub mod embedded_pg;
pub mod error;
pub mod routes;
pub mod serve;
pub mod telemetry;

pub use error::Error;
