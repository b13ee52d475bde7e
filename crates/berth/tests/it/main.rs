//! Integration tests: the real server on port 0, driven over HTTP and by real clients.
//! All integration tests compile into this one binary to keep link time down.

mod access_matrix;
mod api;
mod auto_create_crash;
mod cli;
mod console;
mod crash;
mod debian_image;
mod image_cli;
mod image_details;
mod images;
mod metrics;
mod proxy;
mod push_cli;
mod push_commands;
mod readme_cli;
mod registry_http;
mod registry_sync;
mod rest_matrix;
mod scan;
mod skopeo;
mod startup;
mod support;
mod uploads;
mod vulndb;

use support::{client, Backend, BinaryServer, TestServer};

/// The in-process server and the binary both start, answer health checks, and challenge
/// anonymous registry requests.
#[tokio::test]
async fn servers_start_and_challenge() {
    for backend in Backend::ALL {
        let server = TestServer::spawn(backend).await;
        let response = client()
            .get(format!("{}/readyz", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", backend.name());
        let response = client()
            .get(format!("{}/v2/", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
        server.stop().await;
    }
    let dir = tempfile::tempdir().unwrap();
    let binary = BinaryServer::spawn(dir.path(), None);
    let response = client()
        .get(format!("{}/healthz", binary.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    binary.kill();
}
