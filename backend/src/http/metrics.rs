//! `GET /metrics`: Prometheus text.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::metrics::Gauges;
use crate::state::AppState;

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let pool = state.sessions.pool();
    let text = state.metrics.render(&Gauges {
        sessions: state.sessions.len(),
        sandboxes: pool.live_count(),
        warm_sandboxes: pool.warm_count(),
        spawns_total: pool.spawned_total(),
    });
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}
