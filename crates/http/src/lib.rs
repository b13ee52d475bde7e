//! What every HTTP surface of Berth (the registry at `/v2`, the token service, the REST API,
//! the console) shares, so that each convention is written once: the names of the metrics
//! they record, the route label the metrics middleware reads, the client address the audit
//! log records, and the reading of HTTP Basic credentials.
//!
//! **Architecture invariant:** no routes, no state, no rules. This crate knows HTTP and the
//! `metrics` facade, nothing of the store, tenants or registries.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::Extensions;
use base64::Engine as _;

/// Bytes of request bodies read (blobs, manifests, tarballs).
pub const BYTES_RECEIVED: &str = "berth_bytes_received_total";
/// Bytes of blobs and manifests served.
pub const BYTES_SENT: &str = "berth_bytes_sent_total";
/// Blob uploads and tarball imports being received right now.
pub const UPLOADS_IN_FLIGHT: &str = "berth_uploads_in_flight";

/// The route label of a response, set by handlers whose paths are parsed by hand (`/v2`), so
/// that metrics say `manifest_get` instead of one label for every registry request.
#[derive(Clone, Copy)]
pub struct RouteLabel(pub &'static str);

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

/// The client's IP address, for the audit log. The server is started with connection info,
/// so it is there for every request that came over the network.
pub fn client_address(extensions: &Extensions) -> Option<String> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip().to_string())
}

/// Decodes the credentials of an `Authorization: Basic <credentials>` header into a name and
/// a password; `None` when they are not base64 of UTF-8 `name:password`. The password may
/// itself contain `:`.
pub fn decode_basic(credentials: &str) -> Option<(String, String)> {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(credentials.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (name, password) = text.split_once(':')?;
    Some((name.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials() {
        let encoded = base64::engine::general_purpose::STANDARD.encode("robot$ws+ci:s3:cret");
        assert_eq!(
            decode_basic(&encoded),
            Some(("robot$ws+ci".into(), "s3:cret".into()))
        );
        assert_eq!(decode_basic("not base64!"), None);
        let no_colon = base64::engine::general_purpose::STANDARD.encode("alice");
        assert_eq!(decode_basic(&no_colon), None);
    }
}
