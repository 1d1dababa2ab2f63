//! The server's life: check the configuration, open the database, serve until a
//! signal, then shut down what it started.

use crate::config::RunnerKind;
use crate::runner::{kube::runner::KubeRunner, local::LocalRunner, Runner, RunnerError};
use crate::services::Services;
use crate::{config::Config, database, embedded_pg, routes, Error};
use app::{server::state::AppState, BUNDLE_NAME};
use axum::serve::ListenerExt;
use leptos::config::{Env, LeptosOptions};
use std::{path::Path, sync::Arc, time::Duration};
use tokio::net::TcpListener;

pub async fn run(config: Config) -> Result<(), Error> {
    check_writable(&config.data_dir)?;
    let pkg = config
        .site_root
        .join("pkg")
        .join(format!("{BUNDLE_NAME}.js"));
    if !pkg.is_file() {
        return Err(Error::SiteMissing(config.site_root.clone()));
    }
    // Bind before starting anything else, so a taken port fails fast.
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| Error::Listen {
            addr: config.listen,
            source,
        })?;

    let (embedded, opts) =
        embedded_pg::locate(config.database_url.as_deref(), &config.data_dir).await?;
    let result = serve(listener, opts, &config).await;
    if let Some(pg) = embedded {
        if let Err(e) = pg.stop().await {
            tracing::error!("stopping the private PostgreSQL: {e}");
        }
    }
    result
}

async fn serve(
    listener: TcpListener,
    opts: sqlx::postgres::PgConnectOptions,
    config: &Config,
) -> Result<(), Error> {
    tracing::info!(database = %database::describe(&opts), "connecting");
    let pool = database::connect(opts).await?;
    database::migrate(&pool).await?;

    let leptos_options = LeptosOptions::builder()
        .output_name(BUNDLE_NAME)
        .site_root(config.site_root.to_string_lossy().as_ref())
        .site_pkg_dir("pkg")
        .site_addr(config.listen)
        .env(Env::PROD)
        .build();
    let runner: Arc<dyn Runner> = match config.runner {
        RunnerKind::Local => Arc::new(LocalRunner::new(
            &config.data_dir,
            config.limits(),
            config.unsandboxed,
        )?),
        RunnerKind::Kube => {
            let client = kube::Client::try_default().await.map_err(|e| {
                RunnerError::Start(format!(
                    "no Kubernetes API to use (in-cluster or kubeconfig): {e}"
                ))
            })?;
            Arc::new(KubeRunner::new(client, config.kube_settings()))
        }
    };
    let services = Services::start(
        runner,
        pool.clone(),
        config.max_file_bytes,
        config.max_workspace_bytes,
        Duration::from_secs(config.idle_secs),
        config.run_settings(),
        config.caps(),
    );
    let sandboxes = services.sandboxes.clone();
    crate::upkeep::start(
        pool.clone(),
        crate::upkeep::Sweeps {
            retention: config.retention(),
            every: Duration::from_secs(config.history_sweep_secs),
            guest_idle_days: config.guest_idle_days,
            hooks: sandboxes.clone(),
        },
    );
    sandboxes.start().await.map_err(|source| Error::Database {
        target: "cleaning up sandboxes".into(),
        source,
    })?;
    if let Err(e) = services.runs.recover().await {
        tracing::warn!("closing runs an earlier server left: {e}");
    }
    let settings = config.settings()?;
    if let Err(e) =
        app::server::assistant::chat::sweep_interrupted(&pool, settings.assistant.idle).await
    {
        tracing::warn!("closing answers an earlier server left: {}", e.message);
    }
    let state = AppState {
        pool: pool.clone(),
        leptos_options,
        settings,
        hooks: sandboxes.clone(),
        runs: Arc::new(crate::runs::Hooks(services.runs.clone())),
        contents: Default::default(),
    };
    let app = routes::app(state, services);
    tracing::info!("listening on http://{}", config.listen);
    // Keystrokes and their echo are tiny writes: never hold them back (Nagle).
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    // The peer address feeds the per-address login rate limit.
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown({
        let sandboxes = sandboxes.clone();
        async move {
            shutdown_signal().await;
            tracing::info!("shutting down");
            // Terminal sockets and news streams stay open until their shells and feeds end.
            sandboxes.shutdown().await;
        }
    })
    .await
    .map_err(Error::Serve);
    pool.close().await;
    served
}

fn check_writable(dir: &Path) -> Result<(), Error> {
    let err = |source| Error::DataDir {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    let probe = dir.join(".write-test");
    std::fs::write(&probe, b"").map_err(err)?;
    std::fs::remove_file(&probe).map_err(err)
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
