//! Server functions by domain: the typed API of the WASM client and of any HTTP client.
//! Each has an explicit endpoint under `/api/`.

pub mod auth;
pub mod files;
pub mod health;
pub mod sessions;
pub mod terminal;
