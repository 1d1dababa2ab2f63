//! Test helpers: the real router over a real (per-test) database.

#![allow(dead_code)]

use app::state::AppState;
use axum::{
    body::Body,
    http::{Request, StatusCode},
    Router,
};
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use sqlx::PgPool;
use tower::ServiceExt;

pub fn router(pool: PgPool) -> Router {
    let leptos_options = LeptosOptions::builder()
        .output_name(app::BUNDLE_NAME)
        .site_root(env!("CARGO_TARGET_TMPDIR"))
        .build();
    server::routes::app(AppState {
        pool,
        leptos_options,
        settings: app::state::Settings {
            max_file_bytes: 64 * 1024,
            max_workspace_bytes: 256 * 1024,
            secure_cookies: false,
        },
    })
}

pub struct Reply {
    pub status: StatusCode,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

pub async fn send(app: &Router, req: Request<Body>) -> Reply {
    let res = app.clone().oneshot(req).await.expect("router answers");
    let status = res.status();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    Reply {
        status,
        body: String::from_utf8_lossy(&bytes).into_owned(),
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
}

impl Client {
    pub fn new(app: &Router) -> Self {
        Self {
            app: app.clone(),
            cookie: None,
            address: ([127, 0, 0, 1], 40000).into(),
        }
    }

    pub async fn post(&mut self, uri: &str, body: serde_json::Value) -> Reply {
        let mut req = Request::post(uri).header("content-type", "application/json");
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let body = body.to_string();
        let mut req = req
            .header("content-length", body.len())
            .body(Body::from(body))
            .unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(self.address));
        let res = self.app.clone().oneshot(req).await.expect("router answers");
        if let Some(set) = res.headers().get("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_string();
            self.cookie = (!pair.ends_with('=')).then_some(pair);
        }
        let status = res.status();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        Reply {
            status,
            body: String::from_utf8_lossy(&bytes).into_owned(),
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
