//! The connection pool and the schema migrations.

use crate::Error;
use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    PgPool,
};
use std::{str::FromStr, time::Duration};

pub fn parse_url(url: &str) -> Result<PgConnectOptions, Error> {
    // sqlx would take any scheme and fall back to the default server and database.
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(Error::DatabaseUrl(
            "it must start with postgres:// or postgresql://".into(),
        ));
    }
    PgConnectOptions::from_str(url).map_err(|e| Error::DatabaseUrl(e.to_string()))
}

/// Where a connection goes, without the password, for messages.
pub fn describe(opts: &PgConnectOptions) -> String {
    let db = opts.get_database().unwrap_or("(default)");
    match opts.get_socket() {
        Some(dir) => format!("socket {} database {db}", dir.display()),
        None => format!("{}:{}/{db}", opts.get_host(), opts.get_port()),
    }
}

/// Opens the pool, failing within seconds when the server does not answer.
pub async fn connect(opts: PgConnectOptions) -> Result<PgPool, Error> {
    let target = describe(&opts);
    PgPoolOptions::new()
        .max_connections(20)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(opts)
        .await
        .map_err(|source| Error::Database { target, source })
}

/// Brings the schema up to date, and the starter projects with it.
pub async fn migrate(pool: &PgPool) -> Result<(), Error> {
    sqlx::migrate!("../migrations").run(pool).await?;
    app::server::templates::seed(pool)
        .await
        .map_err(Error::Seed)?;
    Ok(())
}
