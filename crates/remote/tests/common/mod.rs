//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use berth_remote::{DistributionClient, Endpoint, Settings};

/// Small pages and quick retries, so paging and retrying show within a test's time.
pub fn settings() -> Settings {
    Settings {
        page_size: 10,
        list_page_size: 10,
        retries: 2,
        backoff_base: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(10),
        ..Settings::default()
    }
}

pub fn endpoint(url: &str) -> Endpoint {
    Endpoint::new(url.parse().expect("a test URL"))
}

pub fn client(endpoint: Endpoint) -> DistributionClient {
    DistributionClient::new(endpoint, settings()).expect("a valid endpoint")
}

/// Serves `router` on a loopback port bound before the server starts; returns its base URL.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}
