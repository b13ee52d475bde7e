//! Prometheus metrics: request counts and latencies by route, bytes in and out, uploads in
//! flight. Rendered at `/metrics`.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

pub const BYTES_RECEIVED: &str = "berth_bytes_received_total";
pub const BYTES_SENT: &str = "berth_bytes_sent_total";
pub const UPLOADS_IN_FLIGHT: &str = "berth_uploads_in_flight";
const REQUESTS: &str = "berth_http_requests_total";
const DURATION: &str = "berth_http_request_duration_seconds";

/// The route label of a response, set by handlers whose paths are parsed by hand (`/v2`), so
/// that metrics say `manifest_get` instead of one label for every registry request.
#[derive(Clone, Copy)]
pub struct RouteLabel(pub &'static str);

/// The process-wide recorder. `metrics` has one global recorder, so servers started in the same
/// process (tests) share it.
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(DURATION.into()),
                    &[
                        0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0,
                    ],
                )
                .expect("bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (an embedding program's); then ours
            // still renders, it just sees no events.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let matched = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string());
    let response = next.run(request).await;
    let route = match response.extensions().get::<RouteLabel>() {
        Some(label) => label.0.to_string(),
        None => matched.unwrap_or_else(|| "unmatched".into()),
    };
    let status = response.status().as_u16().to_string();
    metrics::counter!(REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(DURATION, "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

pub async fn render(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(),
    )
}

/// Counts an upload as in flight until dropped.
pub struct InFlight;

impl InFlight {
    pub fn start() -> InFlight {
        metrics::gauge!(UPLOADS_IN_FLIGHT).increment(1.0);
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!(UPLOADS_IN_FLIGHT).decrement(1.0);
    }
}
