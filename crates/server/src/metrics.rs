//! Prometheus metrics at `/metrics`: request counts and latencies by route, bytes in and out,
//! and, read when scraped, what an operator watches: the catalog's size per registry, the
//! bytes the hosted registry stores, open upload sessions, database pool use, and the image
//! list index's size and load time.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use berth_api::image_list::ImageList;
use berth_blobs::BlobStore;
use berth_http::{RouteLabel, BYTES_RECEIVED, BYTES_SENT, UPLOADS_IN_FLIGHT};
use berth_store::Store;
use metrics::{describe_counter, describe_gauge, describe_histogram, gauge, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::sync::Mutex;

const REQUESTS: &str = "berth_http_requests_total";
const DURATION: &str = "berth_http_request_duration_seconds";
const REPOSITORIES: &str = "berth_repositories";
const ARTIFACTS: &str = "berth_artifacts";
const TAGS: &str = "berth_tags";
const STORED_BYTES: &str = "berth_stored_bytes";
const UPLOAD_SESSIONS: &str = "berth_upload_sessions";
const POOL_CONNECTIONS: &str = "berth_database_pool_connections";
const POOL_IDLE: &str = "berth_database_pool_idle_connections";
const POOL_MAX: &str = "berth_database_pool_max_connections";
const INDEX_SPACES: &str = "berth_image_list_index_spaces";
const INDEX_REPOSITORIES: &str = "berth_image_list_index_repositories";
const INDEX_TAG_NAMES: &str = "berth_image_list_index_tag_names";
const INDEX_LOAD_SECONDS: &str = "berth_image_list_index_load_seconds";

/// The catalog counts are read from the database at most this often, so a scraper polling
/// fast cannot turn `/metrics` into a stream of counting queries.
const CATALOG_COUNTS_MAX_AGE: Duration = Duration::from_secs(10);

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
            if metrics::set_global_recorder(recorder).is_ok() {
                describe();
            }
            handle
        })
        .clone()
}

/// The `# HELP` line of every metric Berth records.
fn describe() {
    describe_counter!(
        REQUESTS,
        "HTTP requests answered, by method, route and status"
    );
    describe_histogram!(
        DURATION,
        Unit::Seconds,
        "Time from a request's arrival to its answer's headers, by method and route"
    );
    describe_counter!(
        BYTES_RECEIVED,
        Unit::Bytes,
        "Bytes of blobs, manifests and tarballs received"
    );
    describe_counter!(
        BYTES_SENT,
        Unit::Bytes,
        "Bytes of blobs and manifests served"
    );
    describe_gauge!(
        UPLOADS_IN_FLIGHT,
        "Blob uploads and tarball imports whose bodies are being received now"
    );
    describe_gauge!(
        UPLOAD_SESSIONS,
        "Blob upload sessions open: started, neither finished nor cancelled"
    );
    describe_gauge!(
        REPOSITORIES,
        "Repositories holding at least one manifest, by registry"
    );
    describe_gauge!(ARTIFACTS, "Manifests (artifacts), by registry");
    describe_gauge!(TAGS, "Tags, by registry");
    describe_gauge!(
        STORED_BYTES,
        Unit::Bytes,
        "Bytes of the hosted registry's blobs and manifests: `deduplicated` counts a shared blob once, `logical` once per repository"
    );
    describe_gauge!(POOL_CONNECTIONS, "Database connections open, by pool");
    describe_gauge!(POOL_IDLE, "Database connections open and idle, by pool");
    describe_gauge!(POOL_MAX, "The most database connections a pool opens");
    describe_gauge!(INDEX_SPACES, "Spaces in the image list index");
    describe_gauge!(INDEX_REPOSITORIES, "Repositories in the image list index");
    describe_gauge!(
        INDEX_TAG_NAMES,
        "Distinct tag names interned in the image list index"
    );
    describe_gauge!(
        INDEX_LOAD_SECONDS,
        Unit::Seconds,
        "How long loading the image list index at start took"
    );
}

/// Records every request's count and duration under its route.
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

/// What `/metrics` reads when scraped.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
    store: Store,
    blobs: Arc<dyn BlobStore>,
    image_list: Arc<ImageList>,
    /// When the catalog counts were last read.
    counted_at: Arc<Mutex<Option<Instant>>>,
}

impl Metrics {
    pub fn new(store: Store, blobs: Arc<dyn BlobStore>, image_list: Arc<ImageList>) -> Metrics {
        Metrics {
            handle: handle(),
            store,
            blobs,
            image_list,
            counted_at: Arc::default(),
        }
    }

    /// Sets the gauges that are read rather than recorded as things happen. A failed read
    /// is logged and leaves the gauge at its last value.
    async fn refresh(&self) {
        for pool in self.store.pool_use() {
            gauge!(POOL_CONNECTIONS, "pool" => pool.pool).set(pool.size);
            gauge!(POOL_IDLE, "pool" => pool.pool).set(pool.idle);
            gauge!(POOL_MAX, "pool" => pool.pool).set(pool.max);
        }
        match self.blobs.upload_sessions().await {
            Ok(open) => gauge!(UPLOAD_SESSIONS).set(open as f64),
            Err(error) => tracing::warn!(error = %error, "counting upload sessions failed"),
        }
        gauge!(INDEX_LOAD_SECONDS).set(self.image_list.loaded_in().as_secs_f64());
        match self.image_list.read().await {
            Ok(index) => {
                let size = index.size();
                gauge!(INDEX_SPACES).set(size.spaces as f64);
                gauge!(INDEX_REPOSITORIES).set(size.repositories as f64);
                gauge!(INDEX_TAG_NAMES).set(size.tag_names as f64);
            }
            Err(error) => tracing::warn!(error = %error, "reading the image list index failed"),
        }
        let mut counted_at = self.counted_at.lock().await;
        if counted_at.is_some_and(|at| at.elapsed() < CATALOG_COUNTS_MAX_AGE) {
            return;
        }
        if let Err(error) = self.count_catalog().await {
            tracing::warn!(error = %error, "counting the catalog for metrics failed");
            return;
        }
        *counted_at = Some(Instant::now());
    }

    async fn count_catalog(&self) -> Result<(), berth_store::StoreError> {
        for registry in self.store.registry_statistics().await? {
            let name = registry.registry;
            gauge!(REPOSITORIES, "registry" => name.clone()).set(registry.repositories as f64);
            gauge!(ARTIFACTS, "registry" => name.clone()).set(registry.artifacts as f64);
            gauge!(TAGS, "registry" => name).set(registry.tags as f64);
        }
        let bytes = self.store.stored_bytes().await?;
        gauge!(STORED_BYTES, "count" => "deduplicated").set(bytes.deduplicated as f64);
        gauge!(STORED_BYTES, "count" => "logical").set(bytes.logical as f64);
        Ok(())
    }
}

/// `GET /metrics` in the Prometheus text format.
pub async fn render(State(metrics): State<Metrics>) -> impl IntoResponse {
    metrics.refresh().await;
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        metrics.handle.render(),
    )
}
