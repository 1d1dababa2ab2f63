//! All configuration, from flags or the environment.

use clap::Parser;
use std::{net::SocketAddr, path::PathBuf};

#[derive(Debug, Clone, Parser)]
#[command(name = "webide", version, about = "A browser IDE: editor, files and terminals")]
pub struct Config {
    /// Address to serve HTTP on.
    #[arg(long, env = "WEBIDE_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// PostgreSQL URL. Without one, a private cluster is created and run under the data directory.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Where the server keeps its state (the private database, workspaces).
    #[arg(long, env = "WEBIDE_DATA_DIR", default_value = ".data")]
    pub data_dir: PathBuf,

    /// The built site (cargo-leptos output: the `pkg/` bundle and public assets).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// Log filter, in `tracing` env-filter syntax.
    #[arg(long, env = "WEBIDE_LOG", default_value = "info,server=debug,app=debug")]
    pub log: String,
}
