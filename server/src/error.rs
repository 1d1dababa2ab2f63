//! Why the server could not start or keep running. Each message is one line a
//! person can act on.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("data directory {} is not writable: {source}", path.display())]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid database URL: {0}")]
    DatabaseUrl(String),
    #[error("cannot connect to the database at {target}: {source}")]
    Database { target: String, source: sqlx::Error },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot write the starter projects: {0}")]
    Seed(sqlx::Error),
    #[error(
        "PostgreSQL is not installed (no initdb/pg_ctl found): install the `postgresql` \
         package (apt-get install postgresql) or set DATABASE_URL"
    )]
    PostgresMissing,
    #[error("private PostgreSQL: {0}")]
    Embedded(String),
    #[error("no built site at {}: build it with scripts/run (or the build_release step of scripts/lib.sh)", .0.display())]
    SiteMissing(PathBuf),
    #[error("{0}")]
    Runner(#[from] crate::runner::RunnerError),
    #[error("{0}")]
    Command(String),
    #[error("server failed: {0}")]
    Serve(std::io::Error),
}
