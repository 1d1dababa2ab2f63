//! Server functions by domain: the typed API of the WASM client and of any HTTP
//! client. Each has an explicit endpoint under `/api/`, takes its access decision
//! from `server::access` before anything else, and leaves the work to the
//! domain's module in `server`.

pub mod account;
pub mod assistant;
pub mod auth;
pub mod checkpoints;
pub mod files;
pub mod health;
pub mod history;
pub mod links;
pub mod reviews;
pub mod runs;
pub mod search;
pub mod sessions;
pub mod sharing;
pub mod terminal;
pub mod users;
