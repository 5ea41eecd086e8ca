//! `GET /metrics`: Prometheus text.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use std::sync::atomic::Ordering;

use crate::control::StoreStats;
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
    let mut text = text + &store_metrics(&state.control.stats);
    if let Some(cluster) = &state.cluster {
        text += &node_metrics(cluster);
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}

/// The nodes this one knows, and what it forwarded and re-homed.
fn node_metrics(cluster: &crate::cluster::Cluster) -> String {
    format!(
        "# HELP redis_tutor_nodes Live nodes on this control store, as of the last heartbeat.\n\
# TYPE redis_tutor_nodes gauge\n\
redis_tutor_nodes {}\n\
# HELP redis_tutor_forwarded_total Requests sent on to the node holding their session.\n\
# TYPE redis_tutor_forwarded_total counter\n\
redis_tutor_forwarded_total {}\n\
# HELP redis_tutor_rehomed_total Sessions brought back on this node after their node stopped.\n\
# TYPE redis_tutor_rehomed_total counter\n\
redis_tutor_rehomed_total {}\n",
        cluster.nodes().len(),
        cluster.stats.forwarded.load(Ordering::Relaxed),
        cluster.stats.rehomed.load(Ordering::Relaxed),
    )
}

/// The control store's round trips, fsync confirmations and failures.
fn store_metrics(stats: &StoreStats) -> String {
    let get = |n: &std::sync::atomic::AtomicU64| n.load(Ordering::Relaxed);
    let seconds = |us: u64| us as f64 / 1e6;
    format!(
        "# HELP redis_tutor_control_store_calls_total Commands sent to the control store.\n\
# TYPE redis_tutor_control_store_calls_total counter\n\
redis_tutor_control_store_calls_total {}\n\
# HELP redis_tutor_control_store_call_seconds_total Time spent in control store round trips.\n\
# TYPE redis_tutor_control_store_call_seconds_total counter\n\
redis_tutor_control_store_call_seconds_total {}\n\
# HELP redis_tutor_control_store_fsync_confirms_total Writes confirmed on disk (WAITAOF).\n\
# TYPE redis_tutor_control_store_fsync_confirms_total counter\n\
redis_tutor_control_store_fsync_confirms_total {}\n\
# HELP redis_tutor_control_store_fsync_seconds_total Time writes waited for their fsync confirmation.\n\
# TYPE redis_tutor_control_store_fsync_seconds_total counter\n\
redis_tutor_control_store_fsync_seconds_total {}\n\
# HELP redis_tutor_control_store_errors_total Control store calls that failed or could not be confirmed.\n\
# TYPE redis_tutor_control_store_errors_total counter\n\
redis_tutor_control_store_errors_total {}\n",
        get(&stats.calls),
        seconds(get(&stats.call_micros)),
        get(&stats.confirms),
        seconds(get(&stats.confirm_micros)),
        get(&stats.errors),
    )
}
