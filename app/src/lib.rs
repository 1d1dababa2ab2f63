//! The Leptos application shared by the server (`ssr`) and the browser (`hydrate`):
//! routes, components, shared types and the server functions that form the public API.

pub mod api;
pub mod error;
pub mod fuzzy;
pub mod paths;
#[cfg(feature = "ssr")]
pub mod server;
pub mod ui;
pub mod wire;

pub use error::{AppError, ErrorCode};
pub use ui::{shell, App};

/// Base name of the built bundle (`/pkg/{name}.js|.wasm|.css`); must match the
/// `name` in the workspace's `[[workspace.metadata.leptos]]`.
pub const BUNDLE_NAME: &str = "webide";
