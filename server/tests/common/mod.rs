//! Test helpers: the real router over a real (per-test) database.

#![allow(dead_code)]

pub mod kube_api;

use app::server::state::AppState;
use axum::{
    body::Body,
    http::{Request, StatusCode},
    Router,
};
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use server::runner::local::{Limits, LocalRunner};
use server::runner::Runner;
use server::services::Services;
use sqlx::PgPool;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tower::ServiceExt;

pub const MAX_FILE_BYTES: usize = 64 * 1024;
pub const MAX_WORKSPACE_BYTES: usize = 256 * 1024;

/// The sandboxes' data directory of this test binary: under /tmp, which session
/// users can pass through (a build cache under /root would not let them).
fn data_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().unwrap();
        let name = exe.file_name().unwrap().to_string_lossy().into_owned();
        let dir = std::env::temp_dir()
            .join("webide-test-sandboxes")
            .join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // Tests never stop their sandboxes: the last run's control groups go here.
        let groups = server::runner::cgroup::Cgroups::detect(&dir, 0, 0);
        for session in groups.leftovers() {
            groups.remove(session);
        }
        dir
    })
}

pub fn limits() -> Limits {
    Limits {
        memory_bytes: 512 << 20,
        processes: 128,
        file_bytes: 64 << 20,
        cpu_secs: 120,
        // Tests never stop their sandboxes: no disk images left mounted.
        disk_bytes: 0,
    }
}

/// Sandboxes for `pool`'s sessions under `dir`, run by the real local runner.
pub fn services_in(dir: &Path, pool: PgPool, idle: Duration) -> Services {
    let runner = LocalRunner::new(dir, limits(), false).expect("bubblewrap works here");
    services_with(Arc::new(runner), pool, idle)
}

/// The tests' server with other caps.
pub fn router_capped(pool: PgPool, caps: server::caps::Caps) -> Router {
    let services = services_capped(local_runner(), pool.clone(), Duration::from_secs(600), caps);
    router_with(pool, services)
}

/// What the server runs beside the API, with sandboxes from `runner`.
pub fn services_with(runner: Arc<dyn Runner>, pool: PgPool, idle: Duration) -> Services {
    services_capped(runner, pool, idle, server::caps::Caps::default())
}

pub fn services_capped(
    runner: Arc<dyn Runner>,
    pool: PgPool,
    idle: Duration,
    caps: server::caps::Caps,
) -> Services {
    Services::start(
        runner,
        pool,
        MAX_FILE_BYTES,
        MAX_WORKSPACE_BYTES,
        idle,
        server::runs::RunSettings::default(),
        caps,
    )
}

/// The real local runner, for services of other settings.
pub fn local_runner() -> Arc<dyn Runner> {
    Arc::new(LocalRunner::new(data_dir(), limits(), false).expect("bubblewrap works here"))
}

pub fn router(pool: PgPool) -> Router {
    let services = services_in(data_dir(), pool.clone(), Duration::from_secs(600));
    router_with(pool, services)
}

/// The tests' server with other settings.
pub fn router_configured(pool: PgPool, settings: app::server::state::Settings) -> Router {
    let services = services_in(data_dir(), pool.clone(), Duration::from_secs(600));
    router_set(pool, services, settings)
}

pub fn router_with(pool: PgPool, services: Services) -> Router {
    router_set(pool, services, settings())
}

/// The settings of the tests' server: small limits, and sign-ups enough for any test.
pub fn settings() -> app::server::state::Settings {
    app::server::state::Settings {
        max_file_bytes: MAX_FILE_BYTES,
        max_workspace_bytes: MAX_WORKSPACE_BYTES,
        max_upload_bytes: 128 * 1024,
        secure_cookies: false,
        max_link_secs: 365 * 86_400,
        trusted_proxies: Vec::new(),
        signups_per_hour: 1000,
        max_sessions_per_user: 200,
        providers: Default::default(),
        assistant: Default::default(),
    }
}

pub fn router_set(
    pool: PgPool,
    services: Services,
    settings: app::server::state::Settings,
) -> Router {
    let leptos_options = LeptosOptions::builder()
        .output_name(app::BUNDLE_NAME)
        .site_root(env!("CARGO_TARGET_TMPDIR"))
        .build();
    let state = AppState {
        pool,
        leptos_options,
        settings,
        hooks: services.sandboxes.clone(),
        runs: Arc::new(server::runs::Hooks(services.runs.clone())),
        contents: Default::default(),
    };
    server::routes::app(state, services)
}

/// Serves `app` on a free local port, for clients that need a real socket.
pub async fn serve(app: Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap()
    });
    addr
}

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: String,
    pub headers: axum::http::HeaderMap,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

pub async fn send(app: &Router, req: Request<Body>) -> Reply {
    let res = app.clone().oneshot(req).await.expect("router answers");
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    Reply {
        status,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        headers,
    }
}

pub async fn get(app: &Router, uri: &str) -> Reply {
    send(app, Request::get(uri).body(Body::empty()).unwrap()).await
}

/// A client with a cookie jar of one cookie: the login.
#[derive(Clone)]
pub struct Client {
    pub app: Router,
    pub cookie: Option<String>,
    pub address: std::net::SocketAddr,
    /// Sent as `X-Forwarded-For`.
    pub forwarded_for: Option<String>,
}

impl Client {
    pub fn new(app: &Router) -> Self {
        Self {
            app: app.clone(),
            cookie: None,
            address: ([127, 0, 0, 1], 40000).into(),
            forwarded_for: None,
        }
    }

    pub async fn post(&mut self, uri: &str, body: serde_json::Value) -> Reply {
        let mut req = Request::post(uri).header("content-type", "application/json");
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        if let Some(f) = &self.forwarded_for {
            req = req.header("x-forwarded-for", f);
        }
        let body = body.to_string();
        let mut req = req
            .header("content-length", body.len())
            .body(Body::from(body))
            .unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(self.address));
        let res = self.app.clone().oneshot(req).await.expect("router answers");
        // The login cookie; others (the settings') are not the client's to keep.
        let login = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("webide_session="));
        if let Some(set) = login {
            let pair = set.split(';').next().unwrap().to_string();
            self.cookie = (!pair.ends_with('=')).then_some(pair);
        }
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        Reply {
            status,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            headers,
        }
    }

    /// Posts and insists on 200, returning the JSON.
    pub async fn ok(&mut self, uri: &str, body: serde_json::Value) -> serde_json::Value {
        let r = self.post(uri, body).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
        r.json()
    }

    /// Posts and insists on `status`, returning the error code.
    pub async fn fails(
        &mut self,
        uri: &str,
        body: serde_json::Value,
        status: u16,
    ) -> serde_json::Value {
        let r = self.post(uri, body).await;
        assert_eq!(r.status.as_u16(), status, "{uri}: {}", r.body);
        r.json()
    }

    pub async fn register(app: &Router, name: &str) -> Self {
        let mut c = Self::new(app);
        c.ok(
            "/api/auth/register",
            serde_json::json!({"username": name, "email": format!("{name}@example.com"), "password": "correct horse"}),
        )
        .await;
        c
    }

    /// Creates files (path, content) in `session`.
    pub async fn write_files(&mut self, session: &str, files: &[(&str, &str)]) {
        for (path, content) in files {
            self.ok(
                "/api/files/create",
                serde_json::json!({"session": session, "path": path, "kind": "file", "content": content}),
            )
            .await;
        }
    }

    pub async fn folder(&mut self, session: &str, path: &str) {
        self.ok(
            "/api/files/create",
            serde_json::json!({"session": session, "path": path, "kind": "folder"}),
        )
        .await;
    }

    /// Sends `req` with this client's login, as a browser would a plain GET.
    pub async fn send_raw(&self, req: axum::http::request::Builder) -> axum::response::Response {
        let req = match &self.cookie {
            Some(cookie) => req.header("cookie", cookie),
            None => req,
        };
        self.app
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .expect("router answers")
    }

    /// A new session of this client's, by uuid.
    pub async fn session(&mut self) -> String {
        let s = self
            .ok(
                "/api/sessions/create",
                serde_json::json!({"name": "work", "language": "python"}),
            )
            .await;
        s["uuid"].as_str().unwrap().to_string()
    }
}

/// A served app with a signed-in user and one session, for terminal tests.
pub struct Served {
    pub app: Router,
    pub addr: std::net::SocketAddr,
    pub client: Client,
    pub session: String,
}

pub async fn served(app: Router) -> Served {
    let addr = serve(app.clone()).await;
    let mut client = Client::register(&app, "alice").await;
    let session = client.session().await;
    Served {
        app,
        addr,
        client,
        session,
    }
}

impl Served {
    /// A new terminal of the session, at its first prompt.
    pub async fn shell(&self) -> Term {
        Term::ready(self.addr, &self.client, &self.session).await
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A terminal socket as a browser would hold it, with what it has read so far.
pub struct Term {
    pub ws: Socket,
    pub seen: Vec<u8>,
    pub id: uuid::Uuid,
    pub controls: Vec<serde_json::Value>,
}

/// The HTTP status a refused socket handshake got.
pub async fn refused(addr: std::net::SocketAddr, session: &str, cookie: Option<&str>) -> u16 {
    match connect(addr, session, cookie, "").await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => res.status().as_u16(),
        Err(e) => panic!("unexpected error: {e}"),
        Ok(_) => panic!("the socket was accepted"),
    }
}

async fn connect(
    addr: std::net::SocketAddr,
    session: &str,
    cookie: Option<&str>,
    query: &str,
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = format!("ws://{addr}/ws/terminal/{session}{query}");
    let mut req = url.into_client_request().unwrap();
    if let Some(c) = cookie {
        req.headers_mut().insert("cookie", c.parse().unwrap());
    }
    Ok(tokio_tungstenite::connect_async(req).await?.0)
}

impl Term {
    /// Opens (or with `term`, reattaches to) a terminal and waits for its hello.
    pub async fn open(
        addr: std::net::SocketAddr,
        c: &Client,
        session: &str,
        term: Option<uuid::Uuid>,
    ) -> Self {
        Self::open_as(addr, c.cookie.as_deref(), session, term).await
    }

    /// `open` for the holder of `cookie`.
    pub async fn open_as(
        addr: std::net::SocketAddr,
        cookie: Option<&str>,
        session: &str,
        term: Option<uuid::Uuid>,
    ) -> Self {
        let query = term.map(|t| format!("?term={t}")).unwrap_or_default();
        let mut t = Self::of(connect(addr, session, cookie, &query).await);
        let hello = t.control("attached").await;
        t.id = hello["term"].as_str().unwrap().parse().unwrap();
        t
    }

    /// The socket alone, before the terminal says anything.
    pub async fn connect(
        addr: std::net::SocketAddr,
        c: &Client,
        session: &str,
        query: &str,
    ) -> Self {
        Self::of(connect(addr, session, c.cookie.as_deref(), query).await)
    }

    fn of(ws: Result<Socket, tokio_tungstenite::tungstenite::Error>) -> Self {
        Self {
            ws: ws.expect("socket accepted"),
            seen: Vec::new(),
            id: uuid::Uuid::nil(),
            controls: Vec::new(),
        }
    }

    /// A new terminal at its first prompt.
    pub async fn ready(addr: std::net::SocketAddr, c: &Client, session: &str) -> Self {
        Self::ready_as(addr, c.cookie.as_deref(), session).await
    }

    /// `ready` for the holder of `cookie`.
    pub async fn ready_as(addr: std::net::SocketAddr, cookie: Option<&str>, session: &str) -> Self {
        let mut t = Self::open_as(addr, cookie, session, None).await;
        t.prompt().await;
        t
    }

    async fn next(&mut self) -> Option<()> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        match self.ws.next().await? {
            Ok(Message::Binary(b)) => self.seen.extend_from_slice(&b),
            Ok(Message::Text(t)) => self.controls.push(serde_json::from_str(&t).unwrap()),
            Ok(_) => {}
            Err(_) => return None,
        }
        Some(())
    }

    /// Reads until the socket ends.
    pub async fn closed(&mut self) {
        while self.next().await.is_some() {}
    }

    /// Waits for a control message of `kind`.
    pub async fn control(&mut self, kind: &str) -> serde_json::Value {
        tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                if let Some(i) = self.controls.iter().position(|c| c["type"] == kind) {
                    return self.controls.remove(i);
                }
                self.next().await.expect("socket open");
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no {kind} message; controls: {:?}", self.controls))
    }

    /// Reads until the output holds `want`; returns the text read up to it and
    /// keeps the rest.
    pub async fn expect(&mut self, want: &str) -> String {
        let found = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                if let Some(i) = find(&self.seen, want.as_bytes()) {
                    let upto: Vec<u8> = self.seen.drain(..i + want.len()).collect();
                    return String::from_utf8_lossy(&upto).into_owned();
                }
                if self.next().await.is_none() {
                    panic!("socket closed before {want:?}");
                }
            }
        })
        .await;
        found.unwrap_or_else(|_| {
            panic!(
                "no {want:?} in the output: {:?}",
                String::from_utf8_lossy(&self.seen)
            )
        })
    }

    /// Waits for the shell's prompt (the end of OSC 133 B).
    pub async fn prompt(&mut self) -> String {
        self.expect("\x1b]133;B\x07").await
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        use futures_util::SinkExt;
        self.ws
            .send(tokio_tungstenite::tungstenite::Message::Binary(
                bytes.to_vec().into(),
            ))
            .await
            .unwrap();
    }

    /// Runs a command line and returns its output (between the OSC 133 C and D
    /// marks), once the next prompt is there.
    pub async fn run(&mut self, line: &str) -> String {
        self.send(format!("{line}\r").as_bytes()).await;
        // The mark ends with the terminal's nonce.
        self.expect("\x1b]133;C;").await;
        self.expect("\x07").await;
        let out = self.expect("\x1b]133;D").await;
        self.prompt().await;
        strip(&out)
    }

    pub async fn resize(&mut self, cols: u16, rows: u16) {
        use futures_util::SinkExt;
        let msg = serde_json::json!({"type": "resize", "cols": cols, "rows": rows}).to_string();
        self.ws
            .send(tokio_tungstenite::tungstenite::Message::Text(msg.into()))
            .await
            .unwrap();
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Output without escape sequences.
pub fn strip(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => match chars.next() {
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    while let Some(c) = chars.next() {
                        if c == '\x07' || (c == '\x1b' && chars.next() == Some('\\')) {
                            break;
                        }
                    }
                }
                _ => {}
            },
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// This test's own database, as a server process would be given it.
pub fn database_url(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").unwrap();
    let server = base.split('?').next().unwrap().rsplit_once('/').unwrap().0;
    format!(
        "{server}/{}",
        pool.connect_options().get_database().unwrap()
    )
}

/// A data directory of the test's own, which session users can pass through to
/// their workspaces; removed when dropped.
pub fn open_data_dir() -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        data.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    data
}

/// A site root with just what the server checks for at start.
pub fn bare_site() -> tempfile::TempDir {
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(site.path().join("pkg")).unwrap();
    std::fs::write(site.path().join("pkg/webide.js"), "").unwrap();
    site
}

/// The server binary, killed when dropped.
pub struct ServerProcess {
    pub addr: std::net::SocketAddr,
    child: tokio::process::Child,
    args: Vec<String>,
    database: Option<String>,
    _site: tempfile::TempDir,
}

impl ServerProcess {
    /// Starts the server on this test's database with `args` besides its
    /// address and site, and waits until it is ready.
    pub async fn start(pool: &PgPool, args: &[&str]) -> Self {
        Self::spawn(Some(database_url(pool)), args, None).await
    }

    /// Starts the server on its own private PostgreSQL (under its data directory).
    pub async fn private(args: &[&str]) -> Self {
        Self::spawn(None, args, None).await
    }

    async fn spawn(
        database: Option<String>,
        args: &[&str],
        addr: Option<std::net::SocketAddr>,
    ) -> Self {
        let addr = addr.unwrap_or_else(|| {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
        });
        let site = bare_site();
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_server"));
        cmd.arg("--listen")
            .arg(addr.to_string())
            .arg("--site-root")
            .arg(site.path())
            .args(args)
            .kill_on_drop(true);
        match &database {
            Some(url) => cmd.env("DATABASE_URL", url),
            None => cmd.env_remove("DATABASE_URL"),
        };
        // Killed servers leave their sessions' disks mounted: none unless asked.
        cmd.env("WEBIDE_SANDBOX_DISK_MB", "0");
        let mut child = cmd.spawn().unwrap();
        for _ in 0..600 {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the server exited: {status}");
            }
            if matches!(
                http(addr, "GET", "/readyz", None, None).await,
                Ok((200, ..))
            ) {
                return Self {
                    addr,
                    child,
                    args: args.iter().map(|a| a.to_string()).collect(),
                    database,
                    _site: site,
                };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server at {addr} did not become ready");
    }

    /// Kills the server at once (SIGKILL): no shutdown of any kind.
    pub async fn kill(&mut self) {
        self.child.kill().await.unwrap();
    }

    /// The same server started again, at the same address.
    pub async fn restart(mut self) -> Self {
        self.kill().await;
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        Self::spawn(self.database.clone(), &args, Some(self.addr)).await
    }

    /// A JSON call to the API as the holder of `cookie`: the status and the body.
    pub async fn call(
        &self,
        cookie: &str,
        path: &str,
        body: serde_json::Value,
    ) -> std::io::Result<(u16, serde_json::Value)> {
        let (status, _, body) = http(self.addr, "POST", path, Some(cookie), Some(body)).await?;
        Ok((status, serde_json::from_slice(&body).unwrap_or_default()))
    }

    /// A new user's login cookie and a new session of theirs.
    pub async fn user_with_session(&self, name: &str) -> (String, String) {
        let cookie = self.register(name).await;
        let body = serde_json::json!({"name": "s", "language": "bash"});
        let (status, s) = self
            .call(&cookie, "/api/sessions/create", body)
            .await
            .unwrap();
        assert_eq!(status, 200, "{s}");
        (cookie, s["uuid"].as_str().unwrap().to_string())
    }

    /// Registers `name`; returns the login cookie.
    pub async fn register(&self, name: &str) -> String {
        let body = serde_json::json!({"username": name, "email": format!("{name}@example.com"), "password": "correct horse battery"});
        let (status, head, _) = http(self.addr, "POST", "/api/auth/register", None, Some(body))
            .await
            .unwrap();
        assert_eq!(status, 200);
        let cookie = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(": ")?;
                name.eq_ignore_ascii_case("set-cookie")
                    .then_some(value)?
                    .strip_prefix("webide_session=")
            })
            .expect("a login cookie");
        format!("webide_session={}", cookie.split(';').next().unwrap())
    }
}

/// One HTTP/1.0 request on a connection of its own: status, head, body.
pub async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: Option<serde_json::Value>,
) -> std::io::Result<(u16, String, Vec<u8>)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut req = format!("{method} {path} HTTP/1.0\r\nhost: {addr}\r\n");
    if let Some(c) = cookie {
        req.push_str(&format!("cookie: {c}\r\n"));
    }
    if method == "POST" {
        req.push_str(&format!(
            "content-type: application/json\r\ncontent-length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(&body);
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    s.write_all(req.as_bytes()).await?;
    let mut got = Vec::new();
    s.read_to_end(&mut got).await?;
    let split = find(&got, b"\r\n\r\n").ok_or(std::io::ErrorKind::UnexpectedEof)?;
    let head = String::from_utf8_lossy(&got[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or(std::io::ErrorKind::InvalidData)?;
    Ok((status, head, got[split + 4..].to_vec()))
}

/// Polls `query` (one text column) until it returns `want`.
pub async fn eventually(pool: &PgPool, query: &str, session: &str, want: Option<&str>) {
    let uuid: uuid::Uuid = session.parse().unwrap();
    let mut last = None;
    for _ in 0..100 {
        last = sqlx::query_scalar::<_, String>(query)
            .bind(uuid)
            .fetch_optional(pool)
            .await
            .unwrap();
        if last.as_deref() == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{query}: wanted {want:?}, still {last:?}");
}

/// A page's events stream (`/events/{session}`), read in-process.
pub struct Events {
    body: axum::body::Body,
    buf: String,
}

impl Events {
    /// Opens the stream as `c`; the status if it was refused.
    pub async fn open(c: &Client, session: &str) -> Result<Self, u16> {
        let res = c.send_raw(Request::get(format!("/events/{session}"))).await;
        if res.status() != StatusCode::OK {
            return Err(res.status().as_u16());
        }
        Ok(Self {
            body: res.into_body(),
            buf: String::new(),
        })
    }

    /// The next event, or `None` once the stream has ended.
    pub async fn next(&mut self) -> Option<serde_json::Value> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let message: String = self.buf.drain(..end + 2).collect();
                let data: String = message
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(str::trim)
                    .collect();
                if !data.is_empty() {
                    return Some(serde_json::from_str(&data).expect("JSON event"));
                }
                continue;
            }
            let frame = self.body.frame().await?.ok()?;
            if let Ok(bytes) = frame.into_data() {
                self.buf.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }

    /// Waits (up to `secs`) for an event of `kind`, skipping others.
    pub async fn expect(&mut self, kind: &str, secs: u64) -> serde_json::Value {
        tokio::time::timeout(Duration::from_secs(secs), async {
            loop {
                match self.next().await {
                    Some(e) if e["type"] == kind => return e,
                    Some(_) => {}
                    None => panic!("the stream ended before a {kind} event"),
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no {kind} event within {secs} s"))
    }

    /// Waits (up to `secs`) for the stream to end, returning what came before.
    pub async fn ends(&mut self, secs: u64) -> Vec<serde_json::Value> {
        tokio::time::timeout(Duration::from_secs(secs), async {
            let mut seen = Vec::new();
            while let Some(e) = self.next().await {
                seen.push(e);
            }
            seen
        })
        .await
        .unwrap_or_else(|_| panic!("the stream did not end within {secs} s"))
    }
}

impl Client {
    /// Shares `session` with `user` as `role`, insisting on success.
    pub async fn share(&mut self, session: &str, user: &str, role: &str) -> serde_json::Value {
        self.ok(
            "/api/sharing/set",
            serde_json::json!({"session": session, "user": user, "role": role}),
        )
        .await
    }
}

impl Term {
    /// Waits (up to `secs`) for the socket to close, returning the control
    /// messages it sent before.
    pub async fn closes(&mut self, secs: u64) -> Vec<serde_json::Value> {
        tokio::time::timeout(Duration::from_secs(secs), async {
            while self.next().await.is_some() {}
        })
        .await
        .unwrap_or_else(|_| panic!("the socket stayed open {secs} s"));
        std::mem::take(&mut self.controls)
    }
}

/// A server of end2end/providers (`script`) started under node: its address,
/// and its process (killed when dropped).
pub async fn node_server(
    script: &str,
    args: &[&str],
) -> (std::net::SocketAddr, tokio::process::Child) {
    use tokio::io::AsyncBufReadExt;
    let script = format!(
        "{}/../end2end/providers/{script}",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut child = tokio::process::Command::new("node")
        .arg(script)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs the providers (end2end's npm packages installed)");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap().expect("the server starts");
    // The rest is drained: a closed pipe would end the process at its next line.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let ready: serde_json::Value = serde_json::from_str(&first).unwrap();
    let port = ready["port"].as_u64().unwrap() as u16;
    (([127, 0, 0, 1], port).into(), child)
}
