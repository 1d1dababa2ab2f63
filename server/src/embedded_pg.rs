//! The private PostgreSQL cluster used when no database URL is configured:
//! created on first start under the data directory with the installed `initdb`,
//! run by `pg_ctl` on a Unix socket in a private directory (no TCP port), and
//! stopped again on shutdown. The next start reuses its data.

use crate::Error;
use sqlx::{postgres::PgConnectOptions, ConnectOptions, Connection};
use std::{
    os::unix::{fs::PermissionsExt, process::CommandExt},
    path::{Path, PathBuf},
    process::Command,
};

const DATABASE: &str = "webide";
const SUPERUSER: &str = "postgres";
/// Unix socket paths are limited to about 107 bytes, `.s.PGSQL.5432` included.
const MAX_SOCKET_DIR_LEN: usize = 90;

/// A running cluster; dropping it without [`EmbeddedPostgres::stop`] stops it too,
/// so a panic or an early return never leaves a server behind.
pub struct EmbeddedPostgres {
    cluster: Cluster,
    running: bool,
    /// It was running already (a server on the same data directory).
    adopted: bool,
}

#[derive(Clone)]
struct Cluster {
    bin_dir: PathBuf,
    pgdata: PathBuf,
    socket_dir: PathBuf,
    /// PostgreSQL refuses to run as root; then it runs as the `postgres` user.
    run_as: Option<(u32, u32)>,
}

/// Where the server's database is: `url`, or else the private cluster under
/// `data_dir` (started, or adopted if it runs already), which the caller stops.
pub async fn locate(
    url: Option<&str>,
    data_dir: &std::path::Path,
) -> Result<(Option<EmbeddedPostgres>, PgConnectOptions), Error> {
    Ok(match url {
        Some(url) => (None, crate::database::parse_url(url)?),
        None => {
            let pg = EmbeddedPostgres::start(data_dir).await?;
            let opts = pg.connect_options();
            (Some(pg), opts)
        }
    })
}

impl EmbeddedPostgres {
    /// Creates the cluster if needed, starts it (or adopts one already running on
    /// the same data) and makes sure the application database exists.
    pub async fn start(data_dir: &Path) -> Result<Self, Error> {
        let bin_dir = find_bin_dir().ok_or(Error::PostgresMissing)?;
        let data_dir = std::fs::canonicalize(data_dir).map_err(|source| Error::DataDir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let cluster = Cluster {
            bin_dir,
            pgdata: data_dir.join("postgres"),
            socket_dir: socket_dir_for(&data_dir),
            run_as: run_as_user()?,
        };
        let c = cluster.clone();
        let adopted = tokio::task::spawn_blocking(move || c.init_and_start())
            .await
            .map_err(|e| Error::Embedded(e.to_string()))??;
        let pg = Self {
            cluster,
            running: true,
            adopted,
        };
        pg.cluster.ensure_database().await?;
        Ok(pg)
    }

    pub fn connect_options(&self) -> PgConnectOptions {
        self.cluster.options_for(DATABASE)
    }

    /// Leaves the cluster as it was found: stops it unless it was running already
    /// (a one-off command beside a running server).
    pub async fn release(mut self) -> Result<(), Error> {
        if self.adopted {
            self.running = false;
            return Ok(());
        }
        self.stop().await
    }

    /// Stops the cluster, waiting for it to shut down cleanly.
    pub async fn stop(mut self) -> Result<(), Error> {
        self.running = false;
        let c = self.cluster.clone();
        tokio::task::spawn_blocking(move || c.stop())
            .await
            .map_err(|e| Error::Embedded(e.to_string()))?
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        if self.running {
            if let Err(e) = self.cluster.stop() {
                tracing::error!("stopping the private PostgreSQL: {e}");
            }
        }
    }
}

impl Cluster {
    fn stop(&self) -> Result<(), Error> {
        self.pg_ctl(&[
            "stop",
            "-D",
            &self.pgdata.to_string_lossy(),
            "-m",
            "fast",
            "-w",
        ])
    }

    fn options_for(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.socket_dir)
            .username(SUPERUSER)
            .database(database)
            .log_statements(tracing::log::LevelFilter::Debug)
    }

    /// Whether it was running already.
    fn init_and_start(&self) -> Result<bool, Error> {
        self.prepare_dir(&self.socket_dir)?;
        if !self.pgdata.join("PG_VERSION").exists() {
            tracing::info!(pgdata = %self.pgdata.display(), "creating private PostgreSQL cluster");
            self.prepare_dir(&self.pgdata)?;
            let pgdata = self.pgdata.to_string_lossy();
            self.run(
                "initdb",
                &[
                    "-D",
                    &pgdata,
                    "-U",
                    SUPERUSER,
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--no-instructions",
                ],
            )?;
        }
        let pgdata = self.pgdata.to_string_lossy();
        if self.pg_ctl(&["status", "-D", &pgdata]).is_ok() {
            tracing::info!("private PostgreSQL already running; reusing it");
            return Ok(true);
        }
        // No TCP at all: the socket directory is private to this server, so
        // trust authentication reaches nobody else.
        let opts = format!("-c listen_addresses='' -k {}", self.socket_dir.display());
        let log = self.pgdata.join("server.log");
        self.pg_ctl(&[
            "start",
            "-D",
            &pgdata,
            "-w",
            "-t",
            "60",
            "-l",
            &log.to_string_lossy(),
            "-o",
            &opts,
        ])
        .map_err(|e| Error::Embedded(format!("{e} (see {})", log.display())))?;
        tracing::info!(socket = %self.socket_dir.display(), "private PostgreSQL started");
        Ok(false)
    }

    async fn ensure_database(&self) -> Result<(), Error> {
        let opts = self.options_for(SUPERUSER);
        let target = crate::database::describe(&opts);
        let db_err = |source| Error::Database {
            target: target.clone(),
            source,
        };
        let mut conn = opts.connect().await.map_err(db_err)?;
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(DATABASE)
                .fetch_one(&mut conn)
                .await
                .map_err(db_err)?;
        if !exists {
            sqlx::query(&format!("CREATE DATABASE {DATABASE}"))
                .execute(&mut conn)
                .await
                .map_err(db_err)?;
        }
        conn.close().await.map_err(db_err)
    }

    /// Creates `dir` private to the user PostgreSQL runs as.
    fn prepare_dir(&self, dir: &Path) -> Result<(), Error> {
        let io_err = |source| Error::DataDir {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io_err)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io_err)?;
        if let Some((uid, gid)) = self.run_as {
            nix::unistd::chown(dir, Some(uid.into()), Some(gid.into()))
                .map_err(|e| io_err(e.into()))?;
        }
        Ok(())
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<(), Error> {
        self.run("pg_ctl", args)
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<(), Error> {
        let mut cmd = Command::new(self.bin_dir.join(program));
        cmd.args(args).env("LC_ALL", "C.UTF-8");
        if let Some((uid, gid)) = self.run_as {
            cmd.uid(uid).gid(gid);
        }
        let out = cmd
            .output()
            .map_err(|e| Error::Embedded(format!("cannot run {program}: {e}")))?;
        if out.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let line = stderr.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
        Err(Error::Embedded(format!(
            "{program} {} failed: {line}",
            args[0]
        )))
    }
}

/// The directory holding both `initdb` and `pg_ctl`: on PATH, else Debian's
/// versioned directories, newest first.
fn find_bin_dir() -> Option<PathBuf> {
    let has_both = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    if let Some(d) = on_path.into_iter().find(|d| has_both(d)) {
        return Some(d);
    }
    let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let version = e.file_name().to_str()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, d)| has_both(d))
        .collect();
    versioned.sort();
    versioned.pop().map(|(_, d)| d)
}

fn run_as_user() -> Result<Option<(u32, u32)>, Error> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    match nix::unistd::User::from_name(SUPERUSER) {
        Ok(Some(u)) => Ok(Some((u.uid.as_raw(), u.gid.as_raw()))),
        _ => Err(Error::Embedded(
            "running as root, and PostgreSQL will not; create a `postgres` system user \
             (the postgresql package does) or run the server as a normal user"
                .into(),
        )),
    }
}

/// `<data>/run`, or a directory under /tmp named after the data directory when
/// that path would be too long for a Unix socket.
fn socket_dir_for(data_dir: &Path) -> PathBuf {
    let preferred = data_dir.join("run");
    if preferred.as_os_str().len() <= MAX_SOCKET_DIR_LEN {
        return preferred;
    }
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    data_dir.hash(&mut h);
    std::env::temp_dir().join(format!("webide-pg-{:016x}", h.finish()))
}
