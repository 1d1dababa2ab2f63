//! Sign-in with providers, against real ones started here: `oidc-provider` (a
//! full OpenID Connect provider: discovery, keys, PKCE, signed ID tokens,
//! userinfo) and a GitHub-like OAuth server, both in end2end/providers/mock.mjs.
//! The browser's part (following redirects, keeping cookies) is played here.

mod common;

use app::server::providers::{Kind, ProviderConfig, Providers};
use axum::body::Body;
use axum::http::Request;
use axum::Router;
use common::{http, send, Reply};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

const IDE: &str = "http://ide.test";

/// The providers' process; killed when dropped.
struct Mock {
    addr: SocketAddr,
    _child: tokio::process::Child,
}

impl Mock {
    async fn start() -> Self {
        let callback = format!("{IDE}/api/auth/oauth/callback");
        let (addr, child) = common::node_server("mock.mjs", &["--redirect", &callback]).await;
        Self {
            addr,
            _child: child,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Who signs in next at `provider` ("corp" or "github").
    async fn next(&self, who: Value) {
        let (status, _, _) = http(self.addr, "POST", "/control/next", None, Some(who))
            .await
            .unwrap();
        assert_eq!(status, 200);
    }

    fn providers(&self) -> Providers {
        Providers::new(
            vec![
                ProviderConfig {
                    id: "github".into(),
                    name: "GitHub".into(),
                    kind: Kind::GitHub {
                        auth_url: format!("{}/github/login/oauth/authorize", self.url()),
                        token_url: format!("{}/github/login/oauth/access_token", self.url()),
                        api_url: format!("{}/github/api", self.url()),
                    },
                    client_id: "gh-client".into(),
                    client_secret: "gh-secret".into(),
                },
                format!(
                    "id=corp,name=Corp SSO,issuer={},client_id=webide,client_secret=webide-secret",
                    self.url()
                )
                .parse()
                .unwrap(),
            ],
            Some(IDE.into()),
        )
    }

    /// Follows the provider's redirects (keeping its cookies) from `url` until it
    /// sends the browser to `back`: that URL.
    async fn walk(&self, url: &str, back: &str) -> String {
        let mut jar: BTreeMap<String, String> = BTreeMap::new();
        let mut url = url.to_string();
        for _ in 0..10 {
            let path = url.strip_prefix(&self.url()).unwrap_or(&url).to_string();
            let cookie = jar
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            let cookie = (!cookie.is_empty()).then_some(cookie);
            let (status, head, body) = http(self.addr, "GET", &path, cookie.as_deref(), None)
                .await
                .unwrap();
            keep_cookies(&mut jar, &head);
            let location = header(&head, "location")
                .unwrap_or_else(|| panic!("{status} {path}: {}", String::from_utf8_lossy(&body)));
            if location.starts_with(back) {
                return location;
            }
            url = location;
        }
        panic!("the provider never sent the browser back");
    }
}

fn header(head: &str, name: &str) -> Option<String> {
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim().to_string())
}

fn keep_cookies(jar: &mut BTreeMap<String, String>, head: &str) {
    for line in head.lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        if !k.trim().eq_ignore_ascii_case("set-cookie") {
            continue;
        }
        if let Some((name, value)) = v.trim().split(';').next().and_then(|p| p.split_once('=')) {
            if value.is_empty() || v.contains("Max-Age=0") {
                jar.remove(name);
            } else {
                jar.insert(name.to_string(), value.to_string());
            }
        }
    }
}

/// A browser at the IDE: all its cookies.
#[derive(Clone)]
struct Browser {
    app: Router,
    jar: BTreeMap<String, String>,
}

impl Browser {
    fn new(app: &Router) -> Self {
        Self {
            app: app.clone(),
            jar: BTreeMap::new(),
        }
    }

    /// A browser signed in to a new password account `name`.
    async fn registered(app: &Router, name: &str) -> Self {
        let mut b = Self::new(app);
        let r = b
            .post(
                "/api/auth/register",
                json!({"username": name, "email": format!("{name}@example.com"), "password": "correct horse"}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        b
    }

    async fn request(&mut self, req: axum::http::request::Builder, body: Body) -> Reply {
        let cookie = self
            .jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut req = req.header("cookie", cookie).body(body).unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(SocketAddr::from((
                [127, 0, 0, 1],
                40000,
            ))));
        let reply = send(&self.app, req).await;
        let head: String = reply
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|v| format!("set-cookie: {v}\n"))
            .collect();
        keep_cookies(&mut self.jar, &head);
        reply
    }

    async fn get(&mut self, uri: &str) -> Reply {
        let uri = uri.strip_prefix(IDE).unwrap_or(uri).to_string();
        self.request(
            Request::get(uri)
                .header("host", "ide.test")
                .header("accept", "text/html"),
            Body::empty(),
        )
        .await
    }

    async fn post(&mut self, uri: &str, body: Value) -> Reply {
        self.request(
            Request::post(uri).header("content-type", "application/json"),
            Body::from(body.to_string()),
        )
        .await
    }

    async fn me(&mut self) -> Value {
        self.post("/api/auth/me", json!({})).await.json()
    }

    /// Starts a sign-in (or a link) at `provider`: the provider's URL.
    async fn start(&mut self, provider: &str, link: bool) -> String {
        let r = self
            .get(&format!(
                "/api/auth/oauth/start?provider={provider}&link={link}"
            ))
            .await;
        assert_eq!(r.status, 302, "{}", r.body);
        r.headers["location"].to_str().unwrap().to_string()
    }

    /// The whole flow: where the IDE sends the browser at its end.
    async fn sign_in(&mut self, mock: &Mock, provider: &str, link: bool) -> String {
        let at = self.start(provider, link).await;
        let back = mock.walk(&at, IDE).await;
        self.land(&back).await
    }

    async fn land(&mut self, callback: &str) -> String {
        let r = self.get(callback).await;
        assert_eq!(r.status, 302, "{}", r.body);
        r.headers["location"].to_str().unwrap().to_string()
    }
}

async fn setup(pool: PgPool) -> (Mock, Router) {
    let mock = Mock::start().await;
    let mut settings = common::settings();
    settings.providers = Arc::new(mock.providers());
    (mock, common::router_configured(pool, settings))
}

fn oidc_user(sub: &str, email: &str) -> Value {
    json!({"sub": sub, "email": email, "name": format!("{sub} Person"), "preferred_username": sub})
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn the_sign_in_page_offers_the_configured_providers(pool: PgPool) {
    let (_mock, app) = setup(pool.clone()).await;
    let offered = Browser::new(&app)
        .post("/api/auth/providers", json!({}))
        .await
        .json();
    assert_eq!(
        offered,
        json!([{"id": "github", "name": "GitHub"}, {"id": "corp", "name": "Corp SSO"}])
    );
    let none = common::router(pool);
    let mut b = Browser::new(&none);
    assert_eq!(
        b.post("/api/auth/providers", json!({})).await.json(),
        json!([])
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn an_oidc_sign_in_makes_an_account_and_then_signs_in_to_it(pool: PgPool) {
    let (mock, app) = setup(pool.clone()).await;
    mock.next(oidc_user("alice", "alice@corp.example")).await;
    let mut b = Browser::new(&app);
    assert_eq!(b.sign_in(&mock, "corp", false).await, "/");
    let me = b.me().await;
    assert_eq!(me["username"], "alice");
    assert_eq!(me["email"], "alice@corp.example");
    assert_eq!(me["display_name"], "alice Person");
    // The flow's cookie is spent.
    assert!(!b.jar.contains_key("webide_signin"));

    // Another browser, the same person: the same account.
    let mut again = Browser::new(&app);
    assert_eq!(again.sign_in(&mock, "corp", false).await, "/");
    assert_eq!(again.me().await["username"], "alice");
    assert_eq!(count(&pool, "SELECT count(*) FROM users").await, 1);
    assert_eq!(count(&pool, "SELECT count(*) FROM identities").await, 1);

    // A second person whose preferred username is taken gets a free one.
    mock.next(json!({"sub": "zed", "email": "zed@corp.example", "preferred_username": "alice"}))
        .await;
    let mut zed = Browser::new(&app);
    assert_eq!(zed.sign_in(&mock, "corp", false).await, "/");
    assert_eq!(zed.me().await["username"], "alice2");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_github_sign_in_and_a_replayed_code(pool: PgPool) {
    let (mock, app) = setup(pool.clone()).await;
    mock.next(json!({"provider": "github", "id": 4242, "login": "octo", "name": "Octo Cat", "email": "octo@gh.example"}))
        .await;
    let mut b = Browser::new(&app);
    let at = b.start("github", false).await;
    assert!(at.contains("code_challenge_method=S256"), "{at}");
    let back = mock.walk(&at, IDE).await;
    assert_eq!(b.land(&back).await, "/");
    let me = b.me().await;
    assert_eq!(
        (me["username"].as_str(), me["email"].as_str()),
        (Some("octo"), Some("octo@gh.example"))
    );

    // The same code again, in a flow of its own (a fresh state and cookie): the
    // provider has spent it, so nobody is signed in.
    let mut thief = Browser::new(&app);
    let fresh = thief.start("github", false).await;
    let state = fresh
        .split("state=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let code = back
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let to = thief
        .land(&format!(
            "/api/auth/oauth/callback?code={code}&state={state}"
        ))
        .await;
    assert!(to.starts_with("/login?error="), "{to}");
    assert_eq!(thief.me().await, Value::Null);
    assert_eq!(count(&pool, "SELECT count(*) FROM users").await, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_forged_or_reused_state_is_refused(pool: PgPool) {
    let (mock, app) = setup(pool.clone()).await;
    mock.next(oidc_user("dana", "dana@corp.example")).await;
    let mut victim = Browser::new(&app);
    let at = victim.start("corp", false).await;
    let back = mock.walk(&at, IDE).await;

    // The callback in a browser that did not start it (login CSRF): refused.
    let mut other = Browser::new(&app);
    let to = other.land(&back).await;
    assert!(to.starts_with("/login?error="), "{to}");
    assert!(to.contains("not+started+in+this+browser"), "{to}");
    assert_eq!(other.me().await, Value::Null);
    // A state the browser has, but not the one the provider sent back.
    let mut forged = victim.clone();
    forged.jar.insert("webide_signin".into(), "guessed".into());
    assert!(forged.land(&back).await.starts_with("/login?error="));

    // The browser that started it signs in; the same callback again is refused.
    assert_eq!(victim.land(&back).await, "/");
    assert_eq!(victim.me().await["username"], "dana");
    let mut replay = Browser::new(&app);
    replay.jar.insert(
        "webide_signin".into(),
        back.split("state=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .into(),
    );
    let to = replay.land(&back).await;
    assert!(to.contains("already+used"), "{to}");
    assert_eq!(count(&pool, "SELECT count(*) FROM users").await, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_id_token_for_another_audience_is_refused(pool: PgPool) {
    let (mock, _app) = setup(pool).await;
    mock.next(oidc_user("erin", "erin@corp.example")).await;
    // The provider's other application signs erin in and gets an ID token.
    let verifier = "v".repeat(50);
    let challenge = {
        use base64::Engine;
        use sha2::Digest;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&verifier))
    };
    let at = format!(
        "{}/auth?client_id=other-app&response_type=code&scope=openid&redirect_uri=http%3A%2F%2Fother.test%2Fcb\
         &state=s&nonce=n-1&code_challenge={challenge}&code_challenge_method=S256",
        mock.url()
    );
    let back = mock.walk(&at, "http://other.test/cb").await;
    let code = back
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let form = format!(
        "grant_type=authorization_code&code={code}&redirect_uri=http%3A%2F%2Fother.test%2Fcb&code_verifier={verifier}\
         &client_id=other-app&client_secret=other-secret"
    );
    let token = token_request(mock.addr, &form).await;
    let id_token = token["id_token"].as_str().expect("an ID token").to_string();

    let providers = mock.providers();
    let corp = providers.get("corp").unwrap();
    let refused = providers
        .check_id_token(corp, &id_token, "n-1")
        .await
        .unwrap_err();
    assert_eq!(refused.error.status(), 401, "{}", refused.message);
    // The same token is fine for the application it was made for.
    let mut other = corp.clone();
    other.client_id = "other-app".into();
    assert_eq!(
        providers
            .check_id_token(&other, &id_token, "n-1")
            .await
            .unwrap(),
        "erin"
    );
    // …but not with another nonce.
    assert!(providers
        .check_id_token(&other, &id_token, "n-2")
        .await
        .is_err());
}

async fn token_request(addr: SocketAddr, form: &str) -> Value {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let req = format!(
        "POST /token HTTP/1.0\r\nhost: {addr}\r\ncontent-type: application/x-www-form-urlencoded\r\n\
         content-length: {}\r\n\r\n{form}",
        form.len()
    );
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(req.as_bytes()).await.unwrap();
    let mut got = String::new();
    s.read_to_string(&mut got).await.unwrap();
    serde_json::from_str(got.split("\r\n\r\n").nth(1).unwrap()).unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn linking_needs_the_account_proven(pool: PgPool) {
    let (mock, app) = setup(pool.clone()).await;
    let mut bob = Browser::registered(&app, "bob").await;

    // Someone at the provider with bob's email is not let into bob's account.
    mock.next(oidc_user("bob-at-corp", "bob@example.com")).await;
    let mut stranger = Browser::new(&app);
    let to = stranger.sign_in(&mock, "corp", false).await;
    assert!(
        to.starts_with("/login?error=") && to.contains("already+exists"),
        "{to}"
    );
    assert_eq!(stranger.me().await, Value::Null);
    assert_eq!(count(&pool, "SELECT count(*) FROM identities").await, 0);

    // Bob, signed in, links it; then signs in with it.
    let to = bob.sign_in(&mock, "corp", true).await;
    assert_eq!(to, "/settings?linked=Corp+SSO");
    let methods = bob
        .post("/api/account/sign_in_methods", json!({}))
        .await
        .json();
    assert_eq!(methods["password"], true);
    assert_eq!(methods["identities"][0]["provider"], "corp");
    assert_eq!(methods["identities"][0]["email"], "bob@example.com");
    assert_eq!(
        methods["linkable"],
        json!([{"id": "github", "name": "GitHub"}])
    );
    let mut later = Browser::new(&app);
    assert_eq!(later.sign_in(&mock, "corp", false).await, "/");
    assert_eq!(later.me().await["username"], "bob");

    // Linked to bob, it cannot be linked to someone else.
    let mut carl = Browser::registered(&app, "carl").await;
    let to = carl.sign_in(&mock, "corp", true).await;
    assert!(
        to.starts_with("/settings?error=") && to.contains("another+user"),
        "{to}"
    );

    // Bob has a password, so he may unlink it.
    let r = bob
        .post("/api/account/unlink", json!({"provider": "corp"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["identities"], json!([]));
    let r = bob
        .post("/api/account/unlink", json!({"provider": "corp"}))
        .await;
    assert_eq!(r.status, 404);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_last_way_to_sign_in_cannot_be_removed(pool: PgPool) {
    let (mock, app) = setup(pool.clone()).await;
    mock.next(oidc_user("fay", "fay@corp.example")).await;
    let mut fay = Browser::new(&app);
    assert_eq!(fay.sign_in(&mock, "corp", false).await, "/");
    let r = fay
        .post("/api/account/unlink", json!({"provider": "corp"}))
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("only way to sign in"), "{}", r.body);

    // A password (set without a current one: she has none) makes it removable,
    // and signs her in by username as well.
    let r = fay
        .post(
            "/api/account/change_password",
            json!({"current_password": "", "new_password": "fay's new password"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = fay
        .post("/api/account/unlink", json!({"provider": "corp"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut by_password = Browser::new(&app);
    let r = by_password
        .post(
            "/api/auth/login",
            json!({"login": "fay", "password": "fay's new password"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // A new username is hers to choose, once free.
    let r = fay
        .post("/api/account/change_username", json!({"username": "fay.b"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(fay.me().await["username"], "fay.b");
    let mut gus = Browser::registered(&app, "gus").await;
    let r = gus
        .post("/api/account/change_username", json!({"username": "FAY.B"}))
        .await;
    assert_eq!(r.status, 409);
    let r = gus
        .post("/api/account/change_username", json!({"username": "x"}))
        .await;
    assert_eq!(r.status, 422);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_guest_who_signs_in_keeps_their_sessions(pool: PgPool) {
    let (mock, app) = setup(pool.clone()).await;
    let mut b = Browser::new(&app);
    let start = b.post("/api/auth/guest", json!({})).await.json();
    let session = start["session"]["uuid"].as_str().unwrap().to_string();
    mock.next(json!({"provider": "github", "id": 7, "login": "hal", "email": "hal@gh.example"}))
        .await;
    assert_eq!(b.sign_in(&mock, "github", false).await, "/");
    let me = b.me().await;
    assert_eq!(
        (me["username"].as_str(), me["is_guest"].as_bool()),
        (Some("hal"), Some(false))
    );
    let list = b.post("/api/sessions/list", json!({})).await.json();
    assert!(list.to_string().contains(&session), "{list}");
    assert_eq!(count(&pool, "SELECT count(*) FROM users").await, 1);
}
