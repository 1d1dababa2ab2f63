//! All configuration, from flags or the environment.

use crate::runner::kube::spec::KubeSettings;
use crate::runner::local::Limits;
use crate::runs::RunSettings;
use app::server::assistant::{egress::Egress, sealing::Sealer, Assistant, DefaultModel};
use app::server::providers::{Kind, ProviderConfig, Providers};
use app::server::retention::Retention;
use app::server::state::Settings;
use app::wire::assistant::ModelProvider;
use app::wire::runs::Limits as RunLimits;
use clap::Parser;
use std::{net::SocketAddr, path::PathBuf};

#[derive(Debug, Clone, Parser)]
#[command(
    name = "webide",
    version,
    about = "A browser IDE: editor, files and terminals"
)]
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

    /// Largest file a workspace may hold, in bytes.
    #[arg(long, env = "WEBIDE_MAX_FILE_BYTES", default_value_t = 2 * 1024 * 1024)]
    pub max_file_bytes: usize,

    /// Largest total size of one workspace's files, in bytes.
    #[arg(long, env = "WEBIDE_MAX_WORKSPACE_BYTES", default_value_t = 100 * 1024 * 1024)]
    pub max_workspace_bytes: usize,

    /// Most bytes of files one upload, or one zip archive, may carry.
    #[arg(long, env = "WEBIDE_MAX_UPLOAD_BYTES", default_value_t = 32 * 1024 * 1024)]
    pub max_upload_bytes: usize,

    /// Proxies (addresses or networks, comma-separated) whose `X-Forwarded-For`
    /// tells the client's address for rate limits; others' is ignored.
    #[arg(long, env = "WEBIDE_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<app::server::client_addr::Cidr>,

    /// Accounts, and guest sessions, one client address may make an hour.
    #[arg(long, env = "WEBIDE_SIGNUPS_PER_HOUR", default_value_t = 30)]
    pub signups_per_hour: i64,

    /// Sessions one account may own (more: 429).
    #[arg(long, env = "WEBIDE_MAX_SESSIONS_PER_USER", default_value_t = 200)]
    pub max_sessions_per_user: i64,

    /// Open terminals one session may have (more: the terminal says why and closes).
    #[arg(long, env = "WEBIDE_MAX_TERMINALS_PER_SESSION", default_value_t = 8)]
    pub max_terminals_per_session: usize,

    /// Terminal sockets and events streams one user may have open at once (more: 429).
    #[arg(long, env = "WEBIDE_MAX_SOCKETS_PER_USER", default_value_t = 32)]
    pub max_sockets_per_user: usize,

    /// Sandboxes this server runs at once; 0 sizes it to the machine (one per 128 MiB
    /// of memory, at least 4).
    #[arg(long, env = "WEBIDE_MAX_SANDBOXES", default_value_t = 0)]
    pub max_sandboxes: usize,

    /// Guests whose logins have not been used for this many days are deleted,
    /// with their sessions.
    #[arg(long, env = "WEBIDE_GUEST_IDLE_DAYS", default_value_t = 30)]
    pub guest_idle_days: i64,

    /// Longest a public link may live, in days.
    #[arg(long, env = "WEBIDE_LINK_MAX_DAYS", default_value_t = 365)]
    pub link_max_days: i64,

    /// Mark login cookies `Secure`: set when the IDE is served over HTTPS.
    #[arg(long, env = "WEBIDE_SECURE_COOKIES")]
    pub secure_cookies: bool,

    /// The IDE's address as browsers reach it (`https://ide.example.com`): sign-in
    /// providers send the browser back to `<it>/api/auth/oauth/callback`. Without
    /// it, each request's own host is used.
    #[arg(long, env = "WEBIDE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Sign in with GitHub: the OAuth app's client id (its button shows when set).
    #[arg(long, env = "WEBIDE_GITHUB_CLIENT_ID")]
    pub github_client_id: Option<String>,

    /// The GitHub OAuth app's client secret.
    #[arg(long, env = "WEBIDE_GITHUB_CLIENT_SECRET", hide_env_values = true)]
    pub github_client_secret: Option<String>,

    /// GitHub's authorization URL (another for GitHub Enterprise, or for tests).
    #[arg(
        long,
        env = "WEBIDE_GITHUB_AUTH_URL",
        default_value = "https://github.com/login/oauth/authorize"
    )]
    pub github_auth_url: String,

    /// GitHub's token URL.
    #[arg(
        long,
        env = "WEBIDE_GITHUB_TOKEN_URL",
        default_value = "https://github.com/login/oauth/access_token"
    )]
    pub github_token_url: String,

    /// GitHub's REST API (`/user`, `/user/emails`).
    #[arg(
        long,
        env = "WEBIDE_GITHUB_API_URL",
        default_value = "https://api.github.com"
    )]
    pub github_api_url: String,

    /// Sign in with Google: the OAuth client's id (its button shows when set).
    #[arg(long, env = "WEBIDE_GOOGLE_CLIENT_ID")]
    pub google_client_id: Option<String>,

    /// The Google OAuth client's secret.
    #[arg(long, env = "WEBIDE_GOOGLE_CLIENT_SECRET", hide_env_values = true)]
    pub google_client_secret: Option<String>,

    /// Sign in with an OpenID Connect provider:
    /// `id=NAME,name=LABEL,issuer=URL,client_id=ID,client_secret=SECRET` (repeat for
    /// several; `;`-separated in the environment). Its redirect URI is the one of
    /// `--public-url`.
    #[arg(
        long = "oidc",
        env = "WEBIDE_OIDC",
        value_delimiter = ';',
        hide_env_values = true
    )]
    pub oidc: Vec<ProviderConfig>,

    /// The assistant's secret (32 bytes, base64) that seals users' API keys. Without
    /// it, one is made once in `<data dir>/ai-secret` (readable by the owner only).
    #[arg(long, env = "WEBIDE_AI_SECRET", hide_env_values = true)]
    pub ai_secret: Option<String>,

    /// Earlier assistant secrets (comma-separated): keys sealed with them still
    /// open; `server ai-keys reseal` moves them to the current secret.
    #[arg(
        long,
        env = "WEBIDE_AI_PREVIOUS_SECRETS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub ai_previous_secrets: Vec<String>,

    /// Networks that model base URLs may point into besides the public internet
    /// (comma-separated addresses or CIDRs; loopback by default, so a model on
    /// this machine works). Private and link-local addresses are refused otherwise.
    #[arg(
        long,
        env = "WEBIDE_AI_ALLOW_NETWORKS",
        value_delimiter = ',',
        default_value = "127.0.0.0/8,::1/128"
    )]
    pub ai_allow_networks: Vec<app::server::client_addr::Cidr>,

    /// The server's own model for users without a key: `openai` or `anthropic`
    /// (with --ai-default-key; each user gets --ai-daily-tokens a day).
    #[arg(long, env = "WEBIDE_AI_DEFAULT_PROVIDER")]
    pub ai_default_provider: Option<String>,

    /// The default model's API (the provider's own when unset).
    #[arg(long, env = "WEBIDE_AI_DEFAULT_BASE_URL")]
    pub ai_default_base_url: Option<String>,

    /// The default model's name (the provider's usual one when unset).
    #[arg(long, env = "WEBIDE_AI_DEFAULT_MODEL")]
    pub ai_default_model: Option<String>,

    /// The default model's API key.
    #[arg(long, env = "WEBIDE_AI_DEFAULT_KEY", hide_env_values = true)]
    pub ai_default_key: Option<String>,

    /// Tokens (in and out) each user may spend a day with the default model.
    #[arg(long, env = "WEBIDE_AI_DAILY_TOKENS", default_value_t = 100_000)]
    pub ai_daily_tokens: i64,

    /// Most bytes of context (selection, output, files) one question sends.
    #[arg(long, env = "WEBIDE_AI_CONTEXT_BYTES", default_value_t = 64 * 1024)]
    pub ai_context_bytes: usize,

    /// Seconds an answer may take to begin, or between its pieces.
    #[arg(long, env = "WEBIDE_AI_TIMEOUT_SECS", default_value_t = 60)]
    pub ai_timeout_secs: u64,

    /// Answers one user may have coming at once.
    #[arg(long, env = "WEBIDE_AI_ANSWERS_PER_USER", default_value_t = 3)]
    pub ai_answers_per_user: i64,

    /// Prices for the usage page where a provider reports no cost:
    /// `MODEL=IN/OUT` in dollars per million tokens, comma-separated.
    #[arg(long, env = "WEBIDE_AI_PRICES", value_delimiter = ',')]
    pub ai_prices: Vec<app::server::assistant::Price>,

    /// Where sessions' sandboxes run: `local` (bubblewrap on this machine) or
    /// `kube` (a pod and a volume per session on the cluster the server runs in,
    /// or the one of the current kubeconfig).
    #[arg(long, env = "WEBIDE_RUNNER", value_enum, default_value = "local")]
    pub runner: RunnerKind,

    /// kube: the namespace of the exec pods and volumes.
    #[arg(long, env = "WEBIDE_KUBE_NAMESPACE", default_value = "coding-platform")]
    pub kube_namespace: String,

    /// kube: the exec image (with bash, tar and find; see docker/exec.Dockerfile).
    #[arg(
        long,
        env = "WEBIDE_KUBE_IMAGE",
        default_value = "webide/exec-python:latest"
    )]
    pub kube_image: String,

    /// kube: an image for one language, `LANGUAGE=IMAGE` (repeat, or comma-separated in the
    /// environment); other languages use `--kube-image`.
    #[arg(long = "kube-image-for", env = "WEBIDE_KUBE_IMAGES", value_delimiter = ',', value_parser = language_image)]
    pub kube_images: Vec<(String, String)>,

    /// kube: storage class of the workspace volumes (the cluster's default if unset).
    #[arg(long, env = "WEBIDE_KUBE_STORAGE_CLASS")]
    pub kube_storage_class: Option<String>,

    /// kube: size of each workspace volume.
    #[arg(long, env = "WEBIDE_KUBE_PVC_SIZE", default_value = "1Gi")]
    pub kube_pvc_size: String,

    /// kube: CPU request and limit of an exec pod, `REQUEST:LIMIT`.
    #[arg(long, env = "WEBIDE_KUBE_CPU", default_value = "250m:1")]
    pub kube_cpu: String,

    /// kube: memory request and limit of an exec pod, `REQUEST:LIMIT`.
    #[arg(long, env = "WEBIDE_KUBE_MEMORY", default_value = "256Mi:1Gi")]
    pub kube_memory: String,

    /// kube: how long an exec pod may take to start, in seconds.
    #[arg(long, env = "WEBIDE_KUBE_START_SECS", default_value_t = 120)]
    pub kube_start_secs: u64,

    /// Run terminals without bubblewrap (only where it cannot run, on a machine you trust).
    #[arg(long, env = "WEBIDE_UNSANDBOXED")]
    pub unsandboxed: bool,

    /// Memory one session's sandbox may use, in MiB.
    #[arg(long, env = "WEBIDE_SANDBOX_MEMORY_MB", default_value_t = 1024)]
    pub sandbox_memory_mb: u64,

    /// Processes one session's sandbox may run at once.
    #[arg(long, env = "WEBIDE_SANDBOX_PROCESSES", default_value_t = 256)]
    pub sandbox_processes: u64,

    /// Largest file a sandboxed process may write, in MiB.
    #[arg(long, env = "WEBIDE_SANDBOX_FILE_MB", default_value_t = 512)]
    pub sandbox_file_mb: u64,

    /// Disk one session's sandbox may fill (its workspace, /tmp and home), in MiB:
    /// a disk image of its own where the server runs as root; 0 for none.
    #[arg(long, env = "WEBIDE_SANDBOX_DISK_MB", default_value_t = 2048)]
    pub sandbox_disk_mb: u64,

    /// CPU time one sandboxed process may use, in seconds.
    #[arg(long, env = "WEBIDE_SANDBOX_CPU_SECS", default_value_t = 3600)]
    pub sandbox_cpu_secs: u64,

    /// A terminal with no socket and nothing running is closed after this many
    /// seconds (its output can be reattached to until then); a sandbox with no
    /// terminals is stopped after as long again.
    #[arg(long, env = "WEBIDE_IDLE_SECS", default_value_t = 600)]
    pub idle_secs: u64,

    /// Every version of every file is kept this many days; older ones are thinned
    /// to one a day, and deleted files can be brought back for as long.
    #[arg(long, env = "WEBIDE_HISTORY_FULL_DAYS", default_value_t = 30)]
    pub history_full_days: u32,

    /// Most stored history of one session, in MiB; past it the oldest versions go
    /// first (never a file's newest, a checkpoint's or a review's).
    #[arg(long, env = "WEBIDE_HISTORY_SESSION_MB", default_value_t = 512)]
    pub history_session_mb: u64,

    /// How often the retention sweep runs, in seconds.
    #[arg(long, env = "WEBIDE_HISTORY_SWEEP_SECS", default_value_t = 3600)]
    pub history_sweep_secs: u64,

    /// CPU time of a run (its whole process tree), in ms, when the request does not say.
    #[arg(long, env = "WEBIDE_RUN_CPU_MS", default_value_t = 10000)]
    pub run_cpu_ms: u64,

    /// The most a request may ask for: cPU time of a run (its whole process tree), in ms (above: 422).
    #[arg(long, env = "WEBIDE_RUN_MAX_CPU_MS", default_value_t = 60000)]
    pub run_max_cpu_ms: u64,

    /// Wall time of a run, in ms, when the request does not say.
    #[arg(long, env = "WEBIDE_RUN_WALL_MS", default_value_t = 20000)]
    pub run_wall_ms: u64,

    /// The most a request may ask for: wall time of a run, in ms (above: 422).
    #[arg(long, env = "WEBIDE_RUN_MAX_WALL_MS", default_value_t = 300000)]
    pub run_max_wall_ms: u64,

    /// Memory of a run, in MiB, when the request does not say.
    #[arg(long, env = "WEBIDE_RUN_MEMORY_MB", default_value_t = 256)]
    pub run_memory_mb: u64,

    /// The most a request may ask for: memory of a run, in MiB (above: 422).
    #[arg(long, env = "WEBIDE_RUN_MAX_MEMORY_MB", default_value_t = 2048)]
    pub run_max_memory_mb: u64,

    /// Processes a run may have at once, when the request does not say.
    #[arg(long, env = "WEBIDE_RUN_PROCESSES", default_value_t = 64)]
    pub run_processes: u64,

    /// The most a request may ask for: processes a run may have at once (above: 422).
    #[arg(long, env = "WEBIDE_RUN_MAX_PROCESSES", default_value_t = 256)]
    pub run_max_processes: u64,

    /// Output of a run (both streams), in MiB; past it the run is stopped, when the request does not say.
    #[arg(long, env = "WEBIDE_RUN_OUTPUT_MB", default_value_t = 16)]
    pub run_output_mb: u64,

    /// The most a request may ask for: output of a run (both streams), in MiB; past it the run is stopped (above: 422).
    #[arg(long, env = "WEBIDE_RUN_MAX_OUTPUT_MB", default_value_t = 256)]
    pub run_max_output_mb: u64,

    /// Runs one user may have going at once (more: 429).
    #[arg(long, env = "WEBIDE_RUNS_PER_USER", default_value_t = 4)]
    pub runs_per_user: usize,

    /// Log filter, in `tracing` env-filter syntax.
    #[arg(
        long,
        env = "WEBIDE_LOG",
        default_value = "info,server=debug,app=debug"
    )]
    pub log: String,

    /// A one-off command instead of serving (on the same database).
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Manage users.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage the assistant's sealed API keys.
    #[command(subcommand, name = "ai-keys")]
    AiKeys(AiKeysCommand),
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum AiKeysCommand {
    /// Seals every stored key with the current --ai-secret (after a rotation:
    /// the old secret in --ai-previous-secrets until this has run).
    Reseal,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum UsersCommand {
    /// Sets a user's reviewer level: 0 (none), 1 (junior), 2 (senior). The first
    /// senior is made this way; seniors then make others senior in the IDE.
    SetLevel {
        /// Username or email.
        user: String,
        #[arg(value_parser = clap::value_parser!(i16).range(0..=2))]
        level: i16,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RunnerKind {
    Local,
    Kube,
}

fn language_image(value: &str) -> Result<(String, String), String> {
    let (language, image) = value
        .split_once('=')
        .ok_or_else(|| format!("{value:?}: expected LANGUAGE=IMAGE"))?;
    app::wire::sessions::Language::from_id(language)
        .ok_or_else(|| format!("{language:?} is not a language of the IDE"))?;
    Ok((language.to_string(), image.to_string()))
}

fn pair(value: &str) -> (String, String) {
    match value.split_once(':') {
        Some((request, limit)) => (request.to_string(), limit.to_string()),
        None => (value.to_string(), value.to_string()),
    }
}

impl Config {
    pub fn kube_settings(&self) -> KubeSettings {
        let (cpu_request, cpu_limit) = pair(&self.kube_cpu);
        let (memory_request, memory_limit) = pair(&self.kube_memory);
        KubeSettings {
            namespace: self.kube_namespace.clone(),
            image: self.kube_image.clone(),
            images: self.kube_images.iter().cloned().collect(),
            storage_class: self.kube_storage_class.clone(),
            volume_size: self.kube_pvc_size.clone(),
            cpu_request,
            cpu_limit,
            memory_request,
            memory_limit,
            start_timeout: std::time::Duration::from_secs(self.kube_start_secs),
        }
    }

    pub fn limits(&self) -> Limits {
        Limits {
            memory_bytes: self.sandbox_memory_mb << 20,
            processes: self.sandbox_processes,
            file_bytes: self.sandbox_file_mb << 20,
            cpu_secs: self.sandbox_cpu_secs,
            disk_bytes: self.sandbox_disk_mb << 20,
        }
    }

    pub fn retention(&self) -> Retention {
        Retention {
            full_days: self.history_full_days.into(),
            max_session_bytes: (self.history_session_mb << 20) as i64,
        }
    }

    pub fn run_settings(&self) -> RunSettings {
        let limits = |cpu_ms, wall_ms, memory_mb: u64, processes, output_mb: u64| RunLimits {
            cpu_ms,
            wall_ms,
            memory_kb: memory_mb * 1024,
            processes,
            output_bytes: output_mb << 20,
        };
        RunSettings {
            default: limits(
                self.run_cpu_ms,
                self.run_wall_ms,
                self.run_memory_mb,
                self.run_processes,
                self.run_output_mb,
            ),
            max: limits(
                self.run_max_cpu_ms,
                self.run_max_wall_ms,
                self.run_max_memory_mb,
                self.run_max_processes,
                self.run_max_output_mb,
            ),
            per_user: self.runs_per_user,
            ..RunSettings::default()
        }
    }

    pub fn caps(&self) -> crate::caps::Caps {
        let machine = crate::caps::Caps::sandboxes_for_this_machine();
        crate::caps::Caps {
            sandboxes: if self.max_sandboxes == 0 {
                machine
            } else {
                self.max_sandboxes
            },
            terminals_per_session: self.max_terminals_per_session,
            sockets_per_user: self.max_sockets_per_user,
        }
    }

    pub fn settings(&self) -> Result<Settings, crate::Error> {
        Ok(Settings {
            max_file_bytes: self.max_file_bytes,
            max_workspace_bytes: self.max_workspace_bytes,
            max_upload_bytes: self.max_upload_bytes,
            secure_cookies: self.secure_cookies,
            max_link_secs: self.link_max_days.max(1) * 86_400,
            trusted_proxies: self.trusted_proxies.clone(),
            signups_per_hour: self.signups_per_hour,
            max_sessions_per_user: self.max_sessions_per_user,
            providers: std::sync::Arc::new(self.providers()),
            assistant: std::sync::Arc::new(self.assistant()?),
        })
    }

    /// The assistant's secret sealer, as configured.
    pub fn sealer(&self) -> Result<Sealer, crate::Error> {
        match &self.ai_secret {
            Some(secret) => Sealer::from_secrets(secret, &self.ai_previous_secrets),
            None => Sealer::from_file(&self.data_dir.join("ai-secret"), &self.ai_previous_secrets),
        }
        .map_err(crate::Error::Command)
    }

    /// The assistant: its sealer, reach, default model and limits.
    pub fn assistant(&self) -> Result<Assistant, crate::Error> {
        let default_model = match (&self.ai_default_provider, &self.ai_default_key) {
            (Some(provider), Some(key)) => {
                let provider = ModelProvider::parse(provider).map_err(crate::Error::Command)?;
                Some(DefaultModel {
                    provider,
                    base_url: self
                        .ai_default_base_url
                        .clone()
                        .unwrap_or_else(|| provider.default_base_url().into()),
                    model: self
                        .ai_default_model
                        .clone()
                        .unwrap_or_else(|| provider.default_model().into()),
                    key: key.clone(),
                    daily_tokens: self.ai_daily_tokens,
                })
            }
            (Some(_), None) => {
                tracing::warn!("the default model is off: --ai-default-provider without its key");
                None
            }
            _ => None,
        };
        Ok(Assistant {
            sealer: self.sealer()?,
            egress: Egress::new(self.ai_allow_networks.clone()),
            default_model,
            context_cap: self.ai_context_bytes,
            idle: std::time::Duration::from_secs(self.ai_timeout_secs.max(1)),
            answers_per_user: self.ai_answers_per_user.max(1),
            prices: self.ai_prices.clone(),
            live: Default::default(),
        })
    }

    /// The configured sign-in providers: GitHub and Google where their client is
    /// set, then the OpenID Connect ones in the order given.
    pub fn providers(&self) -> Providers {
        let github = Kind::GitHub {
            auth_url: self.github_auth_url.clone(),
            token_url: self.github_token_url.clone(),
            api_url: self.github_api_url.clone(),
        };
        let google = Kind::Oidc {
            issuer: "https://accounts.google.com".into(),
        };
        let built_in = [
            (
                "github",
                "GitHub",
                github,
                &self.github_client_id,
                &self.github_client_secret,
            ),
            (
                "google",
                "Google",
                google,
                &self.google_client_id,
                &self.google_client_secret,
            ),
        ];
        let mut list: Vec<ProviderConfig> = built_in
            .into_iter()
            .filter_map(|(id, name, kind, client_id, secret)| {
                let client_id = client_id.clone()?;
                let Some(client_secret) = secret.clone() else {
                    tracing::warn!(
                        "{name} sign-in is off: its client id is set but not its secret"
                    );
                    return None;
                };
                Some(ProviderConfig {
                    id: id.into(),
                    name: name.into(),
                    kind,
                    client_id,
                    client_secret,
                })
            })
            .collect();
        list.extend(self.oidc.iter().cloned());
        Providers::new(list, self.public_url.clone())
    }
}
