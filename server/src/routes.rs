//! The HTTP surface: health probes, server functions, SSR pages and static files.

use crate::services::Services;
use crate::terminal::ws;
use app::{server::state::AppState, shell, App, AppError};
use axum::{
    extract::State,
    http::{Request, StatusCode},
    response::IntoResponse,
    routing::{any, get, MethodRouter},
    Router,
};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::{
    compression::CompressionLayer,
    limit::RequestBodyLimitLayer,
    services::ServeDir,
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

/// The routes outside the server functions that take a session's (or a review
/// request's, or a run's) id. Each takes its decision from the access module; the access
/// sweep test calls every one.
pub fn session_routes() -> Vec<(&'static str, MethodRouter<Services>)> {
    vec![
        ("/ws/terminal/{session}", get(ws::terminal)),
        ("/events/{session}", get(ws::events)),
        ("/events/review/{review}", get(ws::review_events)),
        ("/events/run/{run}", get(crate::runs::stream::events)),
        ("/download/{session}", get(crate::download::zip)),
        ("/ai/stream/{message}", get(crate::answer_stream::events)),
    ]
}

/// The whole HTTP surface; `services` serves the terminal sockets and the events
/// streams (its sandboxes are the `hooks` of `state`).
pub fn app(state: AppState, mut services: Services) -> Router {
    // One table of answers in flight: the API starts them, the streams read them.
    services.assistant = state.settings.assistant.clone();
    let secure = state.settings.secure_cookies;
    // Only ever switched on: a process serves one way (tests build many routers at once).
    if secure {
        app::server::login::serve_secure(true);
    }
    let live = session_routes()
        .into_iter()
        .fold(Router::new(), |r, (path, route)| r.route(path, route))
        .with_state(services);
    let options = state.leptos_options.clone();
    // A file's content may grow up to six times when escaped in JSON; an upload's
    // by a third in base64.
    let limits = BodyLimits {
        api: state.settings.max_file_bytes * 6 + 64 * 1024,
        upload: state.settings.max_upload_bytes / 3 * 4 + 64 * 1024,
    };
    let body_limit = limits.api.max(limits.upload);
    let routes = generate_route_list(App);
    // The bundle and Monaco are large and compress about 3:1; the API is not compressed.
    let site = state.leptos_options.site_root.to_string();
    let assets = |dir: &str| {
        tower::ServiceBuilder::new()
            .layer(CompressionLayer::new())
            .service(ServeDir::new(format!("{site}/{dir}")))
    };
    Router::new()
        .nest_service("/pkg", assets("pkg"))
        .nest_service("/vendor", assets("vendor"))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        // Registers every server function as well as the pages.
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .route("/api/{*rest}", any(unknown_api))
        .merge(live)
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(RequestBodyLimitLayer::new(body_limit))
        // Extractors have their own limit (2 MB by default): ours, so a file at the
        // size limit can be saved.
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(limits, refuse_large_bodies))
        .layer(axum::middleware::from_fn(crate::same_origin::guard))
        .layer(axum::middleware::from_fn_with_state(secure, security_headers))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    tracing::info_span!("request", method = %req.method(), path = %logged_path(req.uri().path()))
                })
                .on_response(DefaultOnResponse::new().level(Level::DEBUG)),
        )
        .with_state(state)
}

/// Alive: the process answers.
async fn healthz() -> &'static str {
    "ok"
}

/// Ready: the database answers too.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if app::api::health::ssr::database_ok(&state.pool).await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}

/// Refuses a declared body over the limit with the API's JSON error; bodies that
/// do not declare their length are cut by `RequestBodyLimitLayer`.
/// Headers on every answer: no sniffing a file's type from its bytes, no framing
/// (pages also say so in their CSP), referrers only to this site (a public link's
/// token is in its page's address), and HSTS when served over HTTPS.
async fn security_headers(
    State(secure): State<bool>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use http::header::{self, HeaderValue};
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if secure {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    res
}

/// The largest request bodies: the API's, and the uploads' (which carry files in base64).
#[derive(Clone, Copy)]
struct BodyLimits {
    api: usize,
    upload: usize,
}

async fn refuse_large_bodies(
    State(limits): State<BodyLimits>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let declared = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    let upload = matches!(
        req.uri().path(),
        "/api/files/upload" | "/api/files/import_zip"
    );
    let limit = if upload { limits.upload } else { limits.api };
    if declared.is_some_and(|n| n > limit) {
        let what = if upload { "upload" } else { "request" };
        return AppError::too_large(format!(
            "the {what} is larger than {limit} bytes: send less at once"
        ))
        .into_response();
    }
    next.run(req).await
}

/// A request's path as logs show it: a public link's token is a password, so
/// `/p/{token}` is written `/p/…`.
pub fn logged_path(path: &str) -> &str {
    if path.starts_with("/p/") {
        "/p/…"
    } else {
        path
    }
}

async fn unknown_api() -> AppError {
    AppError::not_found("no such API endpoint")
}
