//! The HTTP surface: health probes, server functions, SSR pages and static files.

use app::{shell, state::AppState, App, AppError};
use axum::{
    extract::State,
    http::{Request, StatusCode},
    response::IntoResponse,
    routing::{any, get},
    Json, Router,
};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

pub fn app(state: AppState) -> Router {
    let options = state.leptos_options.clone();
    let routes = generate_route_list(App);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        // Registers every server function as well as the pages.
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .route("/api/{*rest}", any(unknown_api))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
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

async fn unknown_api() -> impl IntoResponse {
    let err = AppError::not_found("no such API endpoint");
    (err.error.status(), Json(err))
}
