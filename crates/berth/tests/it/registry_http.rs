//! The `/v2` registry over HTTP, endpoint by endpoint and error code by error code, checked
//! against the OCI Distribution Spec v1.1 and Docker token authentication.
//!
//! Every test body runs once per database backend: `on_both_backends!` turns each
//! `async fn name(backend: Backend)` below into the tests `name::sqlite` and `name::postgres`,
//! so a single code path proves that both databases behave the same. All content is built in
//! memory with `berth_testkit::image`; nothing is downloaded.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use berth_oci::{Digest, RepoName};
use berth_store::hosted::Platform;
use berth_testkit::image::{
    Blob, Image, ImageBuilder, LayoutContent, DEFAULT_CREATED, DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST,
};
use berth_testkit::{index, layer};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Digest as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{
    basic, bind, client, create_space, create_workspace, set_role, Backend, TestServer,
    ADMIN_PASSWORD,
};

crate::on_both_backends!(
    ping,
    token_endpoint,
    token_validation,
    blob_monolithic_and_two_step_uploads,
    blob_chunked_uploads,
    blob_upload_sessions,
    blob_digest_algorithms,
    blob_reads_and_ranges,
    blob_mounts_and_deletes,
    manifest_round_trips,
    manifest_content_negotiation,
    manifest_put_by_digest_with_tags,
    manifest_references_must_exist,
    manifest_validation,
    manifest_unknown_and_wrong_methods,
    referrers,
    tag_pagination,
    catalog_pagination,
    invalid_names,
    auth_matrix,
    catalog_rows,
    nothing_invalid_is_stored,
);

const DEV_PASSWORD: &str = "dev-password-for-tests";
const OCTET_STREAM: &str = "application/octet-stream";
const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

// ---------------------------------------------------------------------------------------------
// The harness: one server, requests, and assertions about what comes back.
// ---------------------------------------------------------------------------------------------

/// A server under test and the HTTP client that talks to it.
struct Ctx {
    server: TestServer,
    http: reqwest::Client,
}

/// A response with its body already read, so assertions can look at all of it at once.
struct Reply {
    /// `METHOD /path?query`, so that every assertion message names the request.
    what: String,
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn header_values(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().to_string())
            .collect()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{}: body is not JSON ({e}): {}", self.what, self.text()))
    }

    /// The `code` of the first error in the OCI error envelope, if the body is one.
    fn code(&self) -> Option<String> {
        let body: Value = serde_json::from_slice(&self.body).ok()?;
        body["errors"][0]["code"].as_str().map(str::to_string)
    }

    /// A JSON array of strings under `key`, such as `tags` or `repositories`.
    fn strings(&self, key: &str) -> Vec<String> {
        strings(&self.json()[key])
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected a JSON array, got {value}"))
        .iter()
        .map(|v| v.as_str().expect("a JSON string").to_string())
        .collect()
}

async fn send(builder: reqwest::RequestBuilder) -> Reply {
    let (http, request) = builder.build_split();
    let request = request.expect("a well-formed request");
    let what = format!(
        "{} {}",
        request.method(),
        &request.url()[url::Position::BeforePath..]
    );
    let response = http
        .execute(request)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .bytes()
        .await
        .unwrap_or_else(|e| panic!("{what}: reading the body: {e}"))
        .to_vec();
    Reply {
        what,
        status,
        headers,
        body,
    }
}

#[track_caller]
fn expect_status(reply: &Reply, status: u16) {
    assert_eq!(
        reply.status,
        status,
        "{}: unexpected status; body: {}",
        reply.what,
        reply.text()
    );
}

/// Checks an error response: the status, and for anything but HEAD (whose answers carry no
/// body) the JSON envelope `{"errors":[{"code","message",...}]}` with the expected code.
#[track_caller]
fn expect_error(reply: &Reply, status: u16, code: &str) {
    expect_status(reply, status);
    if reply.what.starts_with("HEAD ") {
        return;
    }
    assert_eq!(
        reply.header("content-type"),
        Some("application/json"),
        "{}: error bodies are JSON",
        reply.what
    );
    let body = reply.json();
    let errors = body["errors"]
        .as_array()
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| panic!("{}: no `errors` list in {body}", reply.what));
    assert_eq!(errors[0]["code"], code, "{}: {body}", reply.what);
    assert!(
        errors[0]["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{}: every error carries a message: {body}",
        reply.what
    );
}

/// Splits a `Bearer k="v",k="v"` challenge into its parameters. Values are quoted and may
/// contain commas (`scope="repository:a:pull,push"`), so this reads quote by quote.
fn parse_challenge(header: &str) -> BTreeMap<String, String> {
    let rest = header
        .strip_prefix("Bearer ")
        .unwrap_or_else(|| panic!("not a Bearer challenge: {header}"));
    let mut params = BTreeMap::new();
    let mut chars = rest.chars();
    loop {
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        let key = key.trim().trim_start_matches(',').trim().to_string();
        if key.is_empty() {
            return params;
        }
        assert_eq!(chars.next(), Some('"'), "unquoted value in {header}");
        let value: String = chars.by_ref().take_while(|c| *c != '"').collect();
        params.insert(key, value);
    }
}

/// The `next` target of a `Link` header, which must be relative and `rel="next"`.
fn next_link(reply: &Reply) -> Option<String> {
    let link = reply.header("link")?;
    let (target, relation) = link
        .split_once(';')
        .unwrap_or_else(|| panic!("{}: malformed Link `{link}`", reply.what));
    assert_eq!(relation.trim(), "rel=\"next\"", "{}", reply.what);
    let target = target
        .trim()
        .strip_prefix('<')
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or_else(|| panic!("{}: Link target not in <>: `{link}`", reply.what));
    assert!(target.starts_with("/v2/"), "{}: Link `{link}`", reply.what);
    Some(target.to_string())
}

/// The `Range` an upload session holding `size` bytes reports. An empty session reports
/// `0-0`, as the reference implementation (distribution) does.
fn upload_range(size: usize) -> String {
    format!("0-{}", size.saturating_sub(1))
}

/// Appends a query parameter to a location that may or may not already carry a query.
fn with_query(location: &str, pair: &str) -> String {
    let separator = if location.contains('?') { '&' } else { '?' };
    format!("{location}{separator}{pair}")
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

fn sha512(bytes: &[u8]) -> String {
    format!("sha512:{}", hex::encode(sha2::Sha512::digest(bytes)))
}

fn octets(text: &str) -> Blob {
    Blob::new(OCTET_STREAM, text.as_bytes().to_vec())
}

/// A small image whose digests depend on `seed`, so every test can make distinct images.
fn sample_image(seed: &str) -> Image {
    image_builder(seed).build()
}

/// The same image with Docker schema 2 media types.
fn docker_image(seed: &str) -> Image {
    image_builder(seed).docker().build()
}

fn image_builder(seed: &str) -> ImageBuilder {
    ImageBuilder::new()
        .layer(
            layer(&[("etc/seed", seed.as_bytes())]),
            "COPY seed /etc/seed",
        )
        .empty_history("ENV SEED=1")
        .layer(
            layer(&[("bin/app", format!("app built from {seed}").as_bytes())]),
            "COPY app /bin/app",
        )
}

/// A manifest re-serialised after `edit`, for malformed or lying variants of a good one.
fn edited(manifest: &Blob, edit: impl FnOnce(&mut Value)) -> Blob {
    let mut value: Value = serde_json::from_slice(&manifest.bytes).unwrap();
    edit(&mut value);
    Blob::new(&manifest.media_type, serde_json::to_vec(&value).unwrap())
}

/// A manifest padded with an annotation to exactly `size` bytes.
fn manifest_of_size(manifest: &Blob, size: usize) -> Blob {
    let unpadded = edited(manifest, |m| m["annotations"] = json!({"pad": ""}));
    let pad = "x".repeat(size - unpadded.bytes.len());
    let padded = edited(manifest, |m| m["annotations"] = json!({ "pad": pad }));
    assert_eq!(padded.bytes.len(), size);
    padded
}

/// A body sent with `Transfer-Encoding: chunked`, so the server cannot know its size up front.
fn streamed(bytes: &[u8]) -> reqwest::Body {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        bytes.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    reqwest::Body::wrap_stream(futures::stream::iter(chunks))
}

impl Ctx {
    async fn start(backend: Backend) -> Ctx {
        Ctx {
            server: TestServer::spawn(backend).await,
            http: client(),
        }
    }

    async fn stop(self) {
        self.server.stop().await;
    }

    fn request(&self, method: Method, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let builder = self
            .http
            .request(method, format!("{}{path}", self.server.url));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    async fn get(&self, path: &str, token: &str) -> Reply {
        send(self.request(Method::GET, path, Some(token))).await
    }

    async fn head(&self, path: &str, token: &str) -> Reply {
        send(self.request(Method::HEAD, path, Some(token))).await
    }

    async fn delete(&self, path: &str, token: &str) -> Reply {
        send(self.request(Method::DELETE, path, Some(token))).await
    }

    async fn post(&self, path: &str, token: &str, body: Vec<u8>) -> Reply {
        send(
            self.request(Method::POST, path, Some(token))
                .header("content-type", OCTET_STREAM)
                .body(body),
        )
        .await
    }

    async fn patch(
        &self,
        location: &str,
        token: &str,
        content_range: Option<&str>,
        body: &[u8],
    ) -> Reply {
        let mut builder = self
            .request(Method::PATCH, location, Some(token))
            .header("content-type", OCTET_STREAM)
            .body(body.to_vec());
        if let Some(range) = content_range {
            builder = builder.header("content-range", range);
        }
        send(builder).await
    }

    async fn put_blob(
        &self,
        location: &str,
        token: &str,
        digest: &str,
        content_range: Option<&str>,
        body: &[u8],
    ) -> Reply {
        let mut builder = self
            .request(
                Method::PUT,
                &with_query(location, &format!("digest={digest}")),
                Some(token),
            )
            .header("content-type", OCTET_STREAM)
            .body(body.to_vec());
        if let Some(range) = content_range {
            builder = builder.header("content-range", range);
        }
        send(builder).await
    }

    async fn admin(&self, repositories: &[&str]) -> String {
        self.server.admin_token(repositories).await
    }

    /// A token for the non-admin user `dev`, created on first use.
    async fn dev(&self, scopes: &[&str]) -> String {
        if self
            .server
            .state
            .store
            .find_user("dev")
            .await
            .unwrap()
            .is_none()
        {
            self.server.create_user("dev", DEV_PASSWORD, false).await;
        }
        self.server.token(Some(("dev", DEV_PASSWORD)), scopes).await
    }

    #[track_caller]
    fn expect_challenge(&self, reply: &Reply, scope: Option<&str>, error: Option<&str>) {
        expect_error(reply, 401, "UNAUTHORIZED");
        let header = reply
            .header("www-authenticate")
            .unwrap_or_else(|| panic!("{}: 401 without WWW-Authenticate", reply.what));
        let mut expected = BTreeMap::from([
            (
                "realm".to_string(),
                format!("{}/auth/token", self.server.url),
            ),
            ("service".to_string(), "berth".to_string()),
        ]);
        if let Some(scope) = scope {
            expected.insert("scope".into(), scope.into());
        }
        if let Some(error) = error {
            expected.insert("error".into(), error.into());
        }
        assert_eq!(parse_challenge(header), expected, "{}", reply.what);
    }

    /// Opens an upload session and returns its location, checking the `202` that opens it.
    async fn open_session(&self, repo: &str, token: &str) -> String {
        let reply = self
            .post(&format!("/v2/{repo}/blobs/uploads/"), token, Vec::new())
            .await;
        expect_session(&reply, 202, repo, 0)
    }

    async fn push_blob(&self, repo: &str, token: &str, blob: &Blob) {
        let reply = self
            .post(
                &format!("/v2/{repo}/blobs/uploads/?digest={}", blob.digest),
                token,
                blob.bytes.clone(),
            )
            .await;
        expect_blob_created(&reply, repo, &blob.digest);
    }

    async fn put_manifest(
        &self,
        repo: &str,
        token: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Reply {
        send(
            self.request(
                Method::PUT,
                &format!("/v2/{repo}/manifests/{reference}"),
                Some(token),
            )
            .header("content-type", media_type)
            .body(bytes.to_vec()),
        )
        .await
    }

    /// Pushes a manifest that must be accepted, checking the `201` and its headers.
    async fn push_manifest(&self, repo: &str, token: &str, reference: &str, manifest: &Blob) {
        let reply = self
            .put_manifest(
                repo,
                token,
                reference,
                &manifest.media_type,
                &manifest.bytes,
            )
            .await;
        expect_status(&reply, 201);
        assert_eq!(
            reply.header("location"),
            Some(format!("/v2/{repo}/manifests/{}", manifest.digest).as_str()),
            "{}",
            reply.what
        );
        assert_eq!(
            reply.header("docker-content-digest"),
            Some(manifest.digest.as_str()),
            "{}",
            reply.what
        );
    }

    /// Pushes an image or an index the way a client does: blobs, then child manifests by
    /// digest, then the root manifest under `reference`.
    async fn push(&self, repo: &str, token: &str, content: &dyn LayoutContent, reference: &str) {
        for blob in content.content_blobs() {
            self.push_blob(repo, token, blob).await;
        }
        for child in content.child_manifests() {
            self.push_manifest(repo, token, &child.digest, child).await;
        }
        self.push_manifest(repo, token, reference, content.root())
            .await;
    }

    /// The repository's tags. A repository without manifests is unknown to the listing
    /// (`404 NAME_UNKNOWN`), just as it is absent from the catalog; that reads as no tags.
    async fn tags(&self, repo: &str, token: &str) -> Vec<String> {
        let reply = self.get(&format!("/v2/{repo}/tags/list"), token).await;
        if reply.status == 404 {
            expect_error(&reply, 404, "NAME_UNKNOWN");
            return Vec::new();
        }
        expect_status(&reply, 200);
        assert_eq!(reply.json()["name"], repo);
        reply.strings("tags")
    }

    async fn catalog(&self, token: &str) -> Vec<String> {
        let reply = self.get("/v2/_catalog", token).await;
        expect_status(&reply, 200);
        reply.strings("repositories")
    }

    /// Follows `Link: rel="next"` from `first` to the end and returns every entry in order.
    /// Pages may hold at most `n` entries, and only the last one may come without a Link.
    async fn walk(&self, first: &str, key: &str, token: &str, n: usize) -> Vec<String> {
        let mut all = Vec::new();
        let mut next = Some(first.to_string());
        let mut pages = 0;
        while let Some(path) = next {
            let reply = self.get(&path, token).await;
            expect_status(&reply, 200);
            let items = reply.strings(key);
            next = next_link(&reply);
            assert!(items.len() <= n, "{}: {} entries", reply.what, items.len());
            if let Some(link) = &next {
                assert!(
                    !items.is_empty(),
                    "{}: an empty page with a Link",
                    reply.what
                );
                assert!(link.contains(&format!("n={n}")), "{}: {link}", reply.what);
            }
            all.extend(items);
            pages += 1;
            assert!(pages <= 100, "{first}: the Links never end");
        }
        all
    }

    /// Checks that GET and HEAD serve `manifest` under `reference` byte for byte, with its
    /// media type and digest.
    async fn expect_manifest(&self, repo: &str, token: &str, reference: &str, manifest: &Blob) {
        let path = format!("/v2/{repo}/manifests/{reference}");
        for reply in [self.get(&path, token).await, self.head(&path, token).await] {
            expect_status(&reply, 200);
            let length = manifest.bytes.len().to_string();
            for (name, value) in [
                ("content-type", manifest.media_type.as_str()),
                ("docker-content-digest", manifest.digest.as_str()),
                ("content-length", length.as_str()),
            ] {
                assert_eq!(reply.header(name), Some(value), "{}: {name}", reply.what);
            }
            if reply.what.starts_with("GET") {
                assert!(reply.body == manifest.bytes, "{}: bytes differ", reply.what);
            } else {
                assert!(reply.body.is_empty(), "{}: HEAD with a body", reply.what);
            }
        }
    }

    /// Checks that GET and HEAD serve `blob` from `repo` with the headers the spec requires.
    async fn expect_blob(&self, repo: &str, token: &str, blob: &Blob) {
        let path = format!("/v2/{repo}/blobs/{}", blob.digest);
        for reply in [self.get(&path, token).await, self.head(&path, token).await] {
            expect_status(&reply, 200);
            let length = blob.bytes.len().to_string();
            for (name, value) in [
                ("content-length", length.as_str()),
                ("docker-content-digest", blob.digest.as_str()),
                ("content-type", OCTET_STREAM),
            ] {
                assert_eq!(reply.header(name), Some(value), "{}: {name}", reply.what);
            }
            if reply.what.starts_with("GET") {
                assert!(reply.body == blob.bytes, "{}: bytes differ", reply.what);
            } else {
                assert!(reply.body.is_empty(), "{}: HEAD with a body", reply.what);
            }
        }
    }

    /// Checks that `digest` is not served from `repo`: 404 `BLOB_UNKNOWN` on GET and HEAD.
    async fn expect_no_blob(&self, repo: &str, token: &str, digest: &str) {
        let path = format!("/v2/{repo}/blobs/{digest}");
        expect_error(&self.get(&path, token).await, 404, "BLOB_UNKNOWN");
        expect_error(&self.head(&path, token).await, 404, "BLOB_UNKNOWN");
    }
}

/// Checks a `201 Created` that ends a blob upload or mount.
#[track_caller]
fn expect_blob_created(reply: &Reply, repo: &str, digest: &str) {
    expect_status(reply, 201);
    assert_eq!(
        reply.header("location"),
        Some(format!("/v2/{repo}/blobs/{digest}").as_str()),
        "{}: Location",
        reply.what
    );
    assert_eq!(
        reply.header("docker-content-digest"),
        Some(digest),
        "{}: Docker-Content-Digest",
        reply.what
    );
}

/// Checks an upload session answer (202 after POST/PATCH, 204 for GET): a relative Location
/// in the repository, a Range covering `size` bytes, and the session id. Returns the Location.
#[track_caller]
fn expect_session(reply: &Reply, status: u16, repo: &str, size: usize) -> String {
    expect_status(reply, status);
    let location = reply
        .header("location")
        .unwrap_or_else(|| panic!("{}: no Location", reply.what));
    let prefix = format!("/v2/{repo}/blobs/uploads/");
    let id = location.strip_prefix(&prefix).unwrap_or_else(|| {
        panic!(
            "{}: Location `{location}` is not under {prefix}",
            reply.what
        )
    });
    assert!(!id.is_empty(), "{}: empty session id", reply.what);
    assert_eq!(
        reply.header("range"),
        Some(upload_range(size).as_str()),
        "{}: Range",
        reply.what
    );
    assert_eq!(
        reply.header("docker-upload-uuid"),
        Some(id),
        "{}: Docker-Upload-UUID",
        reply.what
    );
    location.to_string()
}

// ---------------------------------------------------------------------------------------------
// Tokens minted by hand, for the cases the token endpoint never produces.
// ---------------------------------------------------------------------------------------------

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Claims shaped like the server's, valid from a minute ago until `expires_in` from now.
fn claims(subject: &str, access: Value, expires_in: i64) -> Value {
    let now = unix_now();
    json!({
        "iss": "berth",
        "sub": subject,
        "aud": "berth",
        "exp": now + expires_in,
        "nbf": now - 60,
        "iat": now - 60,
        "jti": format!("minted-by-test-{now}"),
        "access": access,
    })
}

fn repository_access(repo: &str, actions: &[&str]) -> Value {
    json!([{"type": "repository", "name": repo, "actions": actions}])
}

/// Signs `claims` with ES256 using the PKCS#8 key in `key_file`.
fn mint(key_file: &Path, claims: &Value) -> String {
    let pem = std::fs::read(key_file).expect("reading a signing key");
    let key = jsonwebtoken::EncodingKey::from_ec_pem(&pem).expect("a P-256 key");
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    jsonwebtoken::encode(&header, claims, &key).expect("signing a token")
}

fn decode_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    serde_json::from_slice(&B64.decode(payload).expect("base64url payload"))
        .expect("a JSON payload")
}

/// Rewrites a token's payload but keeps its header and signature, as an attacker would.
fn tamper(token: &str, edit: impl FnOnce(&mut Value)) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload = decode_claims(token);
    edit(&mut payload);
    let payload = B64.encode(serde_json::to_vec(&payload).unwrap());
    format!("{}.{payload}.{}", parts[0], parts[2])
}

/// An unsigned token (`alg: none`), which a verifier must never accept.
fn unsigned(claims: &Value) -> String {
    let header = B64.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = B64.encode(serde_json::to_vec(claims).unwrap());
    format!("{header}.{payload}.")
}

/// Hand-made tokens for one repository: valid ones signed with the server's key, and the
/// invalid kinds the registry must refuse.
struct MintedTokens {
    valid: String,
    expired: String,
    not_yet_valid: String,
    forged: String,
    tampered: String,
    wrong_audience: String,
    wrong_issuer: String,
    unsigned: String,
}

impl MintedTokens {
    async fn new(t: &Ctx, repo: &str, actions: &[&str]) -> MintedTokens {
        let own_key = t.server.data_dir.join("token-signing-key.pem");
        // Another Berth's key: a token it signs is well-formed in every way but the signature.
        let other = tempfile::tempdir().unwrap();
        berth_identity::tokens::TokenService::open(other.path(), Duration::from_secs(300)).unwrap();
        let other_key = other.path().join("token-signing-key.pem");
        let access = repository_access(repo, actions);
        let good = claims("admin", access.clone(), 300);
        let with = |key: &str, value: &str| {
            let mut c = good.clone();
            c[key] = json!(value);
            c
        };
        // A real token for a repository the holder may not touch, edited to name this one.
        let elsewhere = t
            .server
            .token(
                Some(("admin", ADMIN_PASSWORD)),
                &["repository:elsewhere/x:pull"],
            )
            .await;
        MintedTokens {
            valid: mint(&own_key, &good),
            // Well past the verifier's 5 s leeway, so the test needs no sleeping.
            expired: mint(&own_key, &claims("admin", access.clone(), -60)),
            // Valid for the next two hours, but only from an hour from now.
            not_yet_valid: mint(&own_key, &{
                let mut c = claims("admin", access.clone(), 7200);
                c["nbf"] = json!(unix_now() + 3600);
                c
            }),
            forged: mint(&other_key, &good),
            tampered: tamper(&elsewhere, |c| c["access"] = access.clone()),
            wrong_audience: mint(&own_key, &with("aud", "another-service")),
            wrong_issuer: mint(&own_key, &with("iss", "another-issuer")),
            unsigned: unsigned(&good),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 1. The base endpoint and the token service.
// ---------------------------------------------------------------------------------------------

/// `/v2/` tells clients where to get a token, and answers 200 to any valid token.
async fn ping(backend: Backend) {
    let t = Ctx::start(backend).await;
    // No scope is named: any token at all, even an anonymous one, is enough for /v2/.
    let reply = send(t.request(Method::GET, "/v2/", None)).await;
    t.expect_challenge(&reply, None, None);
    assert_eq!(
        reply.header("docker-distribution-api-version"),
        Some("registry/2.0")
    );
    let reply = send(t.request(Method::GET, "/v2/", Some("not-a-jwt"))).await;
    t.expect_challenge(&reply, None, Some("invalid_token"));

    let anonymous = t.server.token(None, &[]).await;
    let admin = t.admin(&[]).await;
    for (who, token) in [("anonymous", &anonymous), ("admin", &admin)] {
        for path in ["/v2/", "/v2"] {
            let reply = t.get(path, token).await;
            expect_status(&reply, 200);
            assert_eq!(reply.json(), json!({}), "{who}");
            assert_eq!(
                reply.header("docker-distribution-api-version"),
                Some("registry/2.0"),
                "{who}"
            );
            expect_status(&t.head(path, token).await, 200);
        }
    }
    t.stop().await;
}

impl Ctx {
    async fn token_get(&self, authorization: Option<&str>, scopes: &[&str]) -> Reply {
        let mut path = "/auth/token?service=berth".to_string();
        for scope in scopes {
            let encoded: String = url::form_urlencoded::byte_serialize(scope.as_bytes()).collect();
            path.push_str(&format!("&scope={encoded}"));
        }
        let mut builder = self.request(Method::GET, &path, None);
        if let Some(value) = authorization {
            builder = builder.header("authorization", value);
        }
        send(builder).await
    }

    async fn token_post(&self, form: &[(&str, &str)]) -> Reply {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        send(
            self.request(Method::POST, "/auth/token", None)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body),
        )
        .await
    }
}

/// The `access` claim as a set of `(type, name, action)`.
fn access_set(claims: &Value) -> BTreeSet<(String, String, String)> {
    let access = claims["access"]
        .as_array()
        .unwrap_or_else(|| panic!("no access list in {claims}"));
    access
        .iter()
        .flat_map(|entry| {
            strings(&entry["actions"]).into_iter().map(|action| {
                (
                    entry["type"].as_str().unwrap().to_string(),
                    entry["name"].as_str().unwrap().to_string(),
                    action,
                )
            })
        })
        .collect()
}

/// What a list of scopes asks for, as `(type, name, action)`, with `*` on a repository
/// expanded to the actions it stands for.
fn requested_set(scopes: &[&str]) -> BTreeSet<(String, String, String)> {
    let mut set = BTreeSet::new();
    for scope in scopes.iter().flat_map(|s| s.split(' ')) {
        let (kind, rest) = scope.split_once(':').unwrap();
        let (name, actions) = rest.rsplit_once(':').unwrap();
        for action in actions.split(',') {
            let expanded: &[&str] = match (kind, action) {
                ("repository", "*") => &["pull", "push", "delete"],
                _ => &[action],
            };
            for a in expanded {
                set.insert((kind.to_string(), name.to_string(), a.to_string()));
            }
        }
    }
    set
}

fn access(entries: &[(&str, &str, &str)]) -> BTreeSet<(String, String, String)> {
    entries
        .iter()
        .map(|(k, n, a)| (k.to_string(), n.to_string(), a.to_string()))
        .collect()
}

/// The token endpoint: both grant styles, its refusals, and the rule that a token never
/// carries more than was asked for, nor more than the access rule allows its subject.
async fn token_endpoint(backend: Backend) {
    let t = Ctx::start(backend).await;
    t.dev(&[]).await;
    // `dev` edits in workspace `team`, which the private space `a` is bound to. The private
    // space `closed` is bound to nobody; `library` is public from the start.
    let store = &t.server.state.store;
    create_space(store, "a", false).await;
    create_space(store, "closed", false).await;
    create_workspace(store, "team").await;
    set_role(store, "team", "dev", "editor").await;
    bind(store, "a", &["team"]).await;
    let (admin, dev) = (basic("admin", ADMIN_PASSWORD), basic("dev", DEV_PASSWORD));
    let (admin, dev) = (admin.as_str(), dev.as_str());

    // GET with Basic: the response shape clients rely on.
    let reply = t
        .token_get(Some(admin), &["repository:a/b:pull,push"])
        .await;
    expect_status(&reply, 200);
    let body = reply.json();
    let token = body["token"].as_str().expect("a token");
    assert_eq!(body["access_token"], token, "token and access_token agree");
    assert_eq!(body["expires_in"], 300);
    assert!(body["issued_at"].as_str().is_some_and(|s| s.ends_with('Z')));
    let claims = decode_claims(token);
    assert_eq!(claims["iss"], "berth");
    assert_eq!(claims["aud"], "berth");
    assert_eq!(claims["sub"], "admin");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        300
    );
    assert_eq!(
        access_set(&claims),
        access(&[("repository", "a/b", "pull"), ("repository", "a/b", "push")])
    );

    // POST with the OAuth2 password grant, as containerd and buildkit send it.
    let reply = t
        .token_post(&[
            ("grant_type", "password"),
            ("username", "dev"),
            ("password", DEV_PASSWORD),
            ("service", "berth"),
            ("scope", "repository:a/b:pull"),
        ])
        .await;
    expect_status(&reply, 200);
    let claims = decode_claims(reply.json()["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], "dev");
    assert_eq!(
        access_set(&claims),
        access(&[("repository", "a/b", "pull")])
    );

    // Refusals. A 401 names the scheme to retry with, as every 401 must (RFC 9110 15.5.2).
    let (wrong, unknown) = (
        basic("admin", "wrong-password"),
        basic("nobody", "whatever"),
    );
    let (wrong, unknown) = (wrong.as_str(), unknown.as_str());
    let scope = ["repository:a/b:pull"];
    let refusals = [
        (
            "GET, wrong password",
            t.token_get(Some(wrong), &scope).await,
            401,
            "UNAUTHORIZED",
        ),
        (
            "GET, unknown user",
            t.token_get(Some(unknown), &scope).await,
            401,
            "UNAUTHORIZED",
        ),
        (
            "GET, Bearer instead of Basic",
            t.token_get(Some("Bearer x"), &scope).await,
            401,
            "UNAUTHORIZED",
        ),
        (
            "GET, Basic that is not base64",
            t.token_get(Some("Basic %%%"), &scope).await,
            401,
            "UNAUTHORIZED",
        ),
        (
            "POST, wrong password",
            t.token_post(&[
                ("grant_type", "password"),
                ("username", "admin"),
                ("password", "wrong"),
            ])
            .await,
            401,
            "UNAUTHORIZED",
        ),
        (
            "GET, malformed scope",
            t.token_get(Some(admin), &["nonsense"]).await,
            400,
            "UNSUPPORTED",
        ),
        (
            "GET, unknown resource type",
            t.token_get(Some(admin), &["registry:other:*"]).await,
            400,
            "UNSUPPORTED",
        ),
        (
            "GET, scope without a name",
            t.token_get(None, &["repository::pull"]).await,
            400,
            "UNSUPPORTED",
        ),
        // A repository name `/v2` would refuse is refused here too, before anything is
        // granted, with the code `/v2` answers for it and a message naming the scope.
        (
            "GET, a name with `..`",
            t.token_get(Some(admin), &["repository:library/../etc:pull"])
                .await,
            400,
            "NAME_INVALID",
        ),
        (
            "GET, anonymous, a name with `..`",
            t.token_get(None, &["repository:a/b:pull", "repository:../b:pull"])
                .await,
            400,
            "NAME_INVALID",
        ),
        (
            "GET, a name with a port",
            t.token_get(Some(admin), &["repository:host:5000/a:pull"])
                .await,
            400,
            "NAME_INVALID",
        ),
        (
            "POST, an upper-case name",
            t.token_post(&[
                ("grant_type", "password"),
                ("username", "admin"),
                ("password", ADMIN_PASSWORD),
                ("scope", "repository:a/b:pull repository:Team/App:push"),
            ])
            .await,
            400,
            "NAME_INVALID",
        ),
        (
            "POST, unsupported grant type",
            t.token_post(&[("grant_type", "client_credentials")]).await,
            400,
            "UNSUPPORTED",
        ),
        (
            "POST, no grant type",
            t.token_post(&[("username", "admin")]).await,
            400,
            "UNSUPPORTED",
        ),
        (
            "POST, password grant without password",
            t.token_post(&[("grant_type", "password"), ("username", "admin")])
                .await,
            400,
            "UNSUPPORTED",
        ),
    ];
    for (what, reply, status, code) in &refusals {
        println!(
            "{:<8} token endpoint: {what:<40} -> {} {}",
            t.server.backend.name(),
            reply.status,
            reply.code().unwrap_or_default()
        );
        expect_error(reply, *status, code);
        if *code == "NAME_INVALID" {
            let message = reply.json()["errors"][0]["message"].to_string();
            let named = ["library/../etc", "../b", "host:5000/a", "Team/App"]
                .iter()
                .any(|name| message.contains(&format!("`repository:{name}:")));
            assert!(named, "{what}: the message names the scope: {message}");
        }
        if *status == 401 {
            let challenge = reply.header("www-authenticate").unwrap_or_else(|| {
                panic!("{what}: a 401 from the token endpoint carries no WWW-Authenticate")
            });
            assert!(challenge.starts_with("Basic "), "{what}: {challenge}");
        }
    }

    // The granted access is always a subset of the request; the subject and the space decide
    // how much of it. Anonymous clients get a token, but it carries only pulls of public
    // spaces.
    let grants: Vec<(&str, Option<&str>, Vec<&str>, BTreeSet<_>)> = vec![
        (
            "admin asks pull",
            Some(admin),
            vec!["repository:a/b:pull"],
            access(&[("repository", "a/b", "pull")]),
        ),
        (
            "admin asks *",
            Some(admin),
            vec!["repository:a/b:*"],
            access(&[
                ("repository", "a/b", "pull"),
                ("repository", "a/b", "push"),
                ("repository", "a/b", "delete"),
            ]),
        ),
        (
            "admin asks an unknown action too",
            Some(admin),
            vec!["repository:a/b:pull,frobnicate"],
            access(&[("repository", "a/b", "pull")]),
        ),
        (
            "admin asks only unknown actions",
            Some(admin),
            vec!["repository:a/b:frobnicate"],
            access(&[]),
        ),
        (
            "admin asks two scopes in one parameter",
            Some(admin),
            vec!["repository:a/b:pull repository:c/d:push"],
            access(&[("repository", "a/b", "pull"), ("repository", "c/d", "push")]),
        ),
        (
            "admin asks the catalog",
            Some(admin),
            vec!["registry:catalog:*"],
            access(&[("registry", "catalog", "*")]),
        ),
        ("admin asks nothing", Some(admin), vec![], access(&[])),
        (
            "user asks pull",
            Some(dev),
            vec!["repository:a/b:pull"],
            access(&[("repository", "a/b", "pull")]),
        ),
        (
            "user asks push alone",
            Some(dev),
            vec!["repository:a/b:push"],
            access(&[("repository", "a/b", "push")]),
        ),
        (
            "user asks * in a bound space",
            Some(dev),
            vec!["repository:a/b:*"],
            access(&[("repository", "a/b", "pull"), ("repository", "a/b", "push")]),
        ),
        (
            "user asks * in an unbound private space",
            Some(dev),
            vec!["repository:closed/x:*"],
            access(&[]),
        ),
        (
            "user asks * in a public space",
            Some(dev),
            vec!["repository:library/x:*"],
            access(&[("repository", "library/x", "pull")]),
        ),
        (
            "user asks * in a missing space",
            Some(dev),
            vec!["repository:missing/x:*"],
            access(&[]),
        ),
        (
            "user asks the catalog",
            Some(dev),
            vec!["registry:catalog:*"],
            access(&[("registry", "catalog", "*")]),
        ),
        (
            "anonymous asks pull",
            None,
            vec!["repository:a/b:pull"],
            access(&[]),
        ),
        (
            "anonymous asks * in a public space",
            None,
            vec!["repository:library/x:*"],
            access(&[("repository", "library/x", "pull")]),
        ),
        // The catalog is open to everyone and lists only what each caller may pull.
        (
            "anonymous asks everything",
            None,
            vec!["repository:a/b:*", "registry:catalog:*"],
            access(&[("registry", "catalog", "*")]),
        ),
    ];
    for (what, credentials, scopes, expected) in grants {
        let reply = t.token_get(credentials, &scopes).await;
        expect_status(&reply, 200);
        let claims = decode_claims(reply.json()["token"].as_str().unwrap());
        let granted = access_set(&claims);
        assert!(
            granted.is_subset(&requested_set(&scopes)),
            "{what}: granted {granted:?} beyond the request {scopes:?}"
        );
        assert_eq!(granted, expected, "{what}");
        if credentials.is_none() {
            assert_eq!(claims["sub"], "", "{what}: anonymous tokens name nobody");
        }
    }
    t.stop().await;
}

/// Tokens the registry must refuse with `401 invalid_token`: expired, forged, tampered with,
/// for another audience or issuer, unsigned, or not a JWT at all.
async fn token_validation(backend: Backend) {
    let t = Ctx::start(backend).await;
    let repo = "auth/jwt";
    let admin = t.admin(&[repo]).await;
    t.push(repo, &admin, &sample_image("jwt"), "v1").await;
    let path = format!("/v2/{repo}/manifests/v1");
    let minted = MintedTokens::new(&t, repo, &["pull"]).await;

    // The control: a token minted here with the server's own key is accepted. Each refused
    // token below differs from it in one way only, so each refusal is for that reason.
    expect_status(&t.get(&path, &minted.valid).await, 200);

    let refused = [
        ("expired a minute ago", &minted.expired),
        ("not valid for another hour", &minted.not_yet_valid),
        ("signed by another key", &minted.forged),
        ("payload edited after signing", &minted.tampered),
        ("issued for another audience", &minted.wrong_audience),
        ("issued by another issuer", &minted.wrong_issuer),
        ("unsigned (alg none)", &minted.unsigned),
        ("not a JWT", &"garbage".to_string()),
    ];
    for (what, token) in refused {
        let reply = t.get(&path, token).await;
        println!(
            "{:<8} token {what:<30} -> {} {}",
            t.server.backend.name(),
            reply.status,
            reply.code().unwrap_or_default()
        );
        t.expect_challenge(
            &reply,
            Some(&format!("repository:{repo}:pull")),
            Some("invalid_token"),
        );
    }
    t.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 2. Blobs.
// ---------------------------------------------------------------------------------------------

/// The one-request upload, POST then PUT, and POST, streamed PATCH and an empty closing PUT.
async fn blob_monolithic_and_two_step_uploads(backend: Backend) {
    let t = Ctx::start(backend).await;
    let repo = "blobs/mono";
    let token = t.admin(&[repo]).await;

    let monolithic = octets("uploaded in one request");
    t.push_blob(repo, &token, &monolithic).await;
    t.expect_blob(repo, &token, &monolithic).await;

    let two_step = octets("uploaded by POST then PUT");
    let location = t.open_session(repo, &token).await;
    let reply = t
        .put_blob(&location, &token, &two_step.digest, None, &two_step.bytes)
        .await;
    expect_blob_created(&reply, repo, &two_step.digest);
    t.expect_blob(repo, &token, &two_step).await;

    let streamed = octets("uploaded by a streamed PATCH");
    let location = t.open_session(repo, &token).await;
    let reply = t.patch(&location, &token, None, &streamed.bytes).await;
    let location = expect_session(&reply, 202, repo, streamed.bytes.len());
    let reply = t
        .put_blob(&location, &token, &streamed.digest, None, &[])
        .await;
    expect_blob_created(&reply, repo, &streamed.digest);
    t.expect_blob(repo, &token, &streamed).await;

    // Uploading content the repository already has is harmless and answers the same.
    t.push_blob(repo, &token, &monolithic).await;
    t.stop().await;
}

/// Chunked uploads: in-order chunks grow the Range, anything out of order or malformed is
/// refused without touching what the session holds.
async fn blob_chunked_uploads(backend: Backend) {
    let t = Ctx::start(backend).await;
    let repo = "blobs/chunked";
    let token = t.admin(&[repo]).await;
    let data: Vec<u8> = (0u8..25).collect();
    let blob = Blob::new(OCTET_STREAM, data.clone());

    let location = t.open_session(repo, &token).await;
    let reply = t.patch(&location, &token, Some("0-9"), &data[..10]).await;
    assert_eq!(expect_session(&reply, 202, repo, 10), location);
    expect_session(&t.get(&location, &token).await, 204, repo, 10);

    // Skipping ahead or going back is out of order: 416, with the Range to resume from.
    for range in ["20-24", "0-4", "11-15"] {
        let reply = t.patch(&location, &token, Some(range), &data[..5]).await;
        expect_error(&reply, 416, "BLOB_UPLOAD_INVALID");
        assert_eq!(reply.header("range"), Some("0-9"), "{range}");
        assert_eq!(reply.header("location"), Some(location.as_str()), "{range}");
    }
    // A Content-Range that is not `<first>-<last>` is a bad request.
    for range in ["abc", "10", "10-", "-9", "12-10", "ten-twenty"] {
        let reply = t.patch(&location, &token, Some(range), &data[10..15]).await;
        expect_error(&reply, 400, "BLOB_UPLOAD_INVALID");
    }
    // A range that does not match the body's length is a size error.
    let reply = t
        .patch(&location, &token, Some("10-19"), &data[10..15])
        .await;
    expect_error(&reply, 400, "SIZE_INVALID");
    // None of the refused chunks left a byte behind.
    expect_session(&t.get(&location, &token).await, 204, repo, 10);

    let reply = t
        .patch(&location, &token, Some("10-19"), &data[10..20])
        .await;
    expect_session(&reply, 202, repo, 20);
    // The closing PUT may carry the last chunk, which must be in order too.
    let reply = t
        .put_blob(&location, &token, &blob.digest, Some("21-24"), &data[21..])
        .await;
    expect_error(&reply, 416, "BLOB_UPLOAD_INVALID");
    assert_eq!(reply.header("range"), Some("0-19"));
    let reply = t
        .put_blob(&location, &token, &blob.digest, Some("20-24"), &data[20..])
        .await;
    expect_blob_created(&reply, repo, &blob.digest);
    t.expect_blob(repo, &token, &blob).await;
    // A closed session is gone.
    expect_error(&t.get(&location, &token).await, 404, "BLOB_UPLOAD_UNKNOWN");
    t.stop().await;
}

/// Session status, cancellation, sessions of other repositories, unknown ids, and closing PUTs
/// without or with a wrong digest.
async fn blob_upload_sessions(backend: Backend) {
    let t = Ctx::start(backend).await;
    let (repo, other) = ("sessions/a", "sessions/b");
    let token = t.admin(&[repo, other]).await;

    let location = t.open_session(repo, &token).await;
    let reply = t.patch(&location, &token, None, b"hello ").await;
    expect_session(&reply, 202, repo, 6);
    let reply = t.patch(&location, &token, None, b"world").await;
    expect_session(&reply, 202, repo, 11);
    let reply = t.get(&location, &token).await;
    assert_eq!(expect_session(&reply, 204, repo, 11), location);

    // A session belongs to the repository it was opened for; another repository's URL for
    // it leads nowhere, whatever the method.
    let foreign = location.replace(&format!("/v2/{repo}/"), &format!("/v2/{other}/"));
    let digest = sha256(b"hello world");
    for reply in [
        t.get(&foreign, &token).await,
        t.patch(&foreign, &token, None, b"!").await,
        t.put_blob(&foreign, &token, &digest, None, b"").await,
        t.delete(&foreign, &token).await,
    ] {
        expect_error(&reply, 404, "BLOB_UPLOAD_UNKNOWN");
    }
    expect_session(&t.get(&location, &token).await, 204, repo, 11);

    // Ids the registry never handed out, including ones that try to climb out of the
    // session directory.
    for id in [
        "00000000-0000-4000-8000-000000000000",
        "not-a-uuid",
        "..%2F..%2Finfo",
    ] {
        let path = format!("/v2/{repo}/blobs/uploads/{id}");
        expect_error(&t.get(&path, &token).await, 404, "BLOB_UPLOAD_UNKNOWN");
    }

    // Closing needs a well-formed digest; a refused close leaves the session as it was.
    let reply = send(t.request(Method::PUT, &location, Some(&token))).await;
    expect_error(&reply, 400, "DIGEST_INVALID");
    let reply = t
        .put_blob(&location, &token, "sha256:not-hex", None, b"")
        .await;
    expect_error(&reply, 400, "DIGEST_INVALID");
    expect_session(&t.get(&location, &token).await, 204, repo, 11);

    // Cancelling ends the session for good.
    expect_status(&t.delete(&location, &token).await, 204);
    for reply in [
        t.get(&location, &token).await,
        t.patch(&location, &token, None, b"late").await,
        t.delete(&location, &token).await,
    ] {
        expect_error(&reply, 404, "BLOB_UPLOAD_UNKNOWN");
    }

    // Content that does not hash to the closing digest is discarded: neither the claimed
    // digest nor the real one is stored, and the session is over.
    let location = t.open_session(repo, &token).await;
    let claimed = sha256(b"what the client claims");
    let reply = t
        .put_blob(&location, &token, &claimed, None, b"what it sends")
        .await;
    expect_error(&reply, 400, "DIGEST_INVALID");
    t.expect_no_blob(repo, &token, &claimed).await;
    t.expect_no_blob(repo, &token, &sha256(b"what it sends"))
        .await;
    expect_error(&t.get(&location, &token).await, 404, "BLOB_UPLOAD_UNKNOWN");
    t.stop().await;
}

/// sha512 works for uploads and reads; algorithms the spec does not register are refused.
async fn blob_digest_algorithms(backend: Backend) {
    let t = Ctx::start(backend).await;
    let repo = "blobs/algorithms";
    let token = t.admin(&[repo]).await;

    let bytes = b"content addressed by sha512".to_vec();
    let digest = sha512(&bytes);
    let blob = Blob {
        media_type: OCTET_STREAM.into(),
        digest: digest.clone(),
        bytes: bytes.clone(),
    };
    t.push_blob(repo, &token, &blob).await;
    t.expect_blob(repo, &token, &blob).await;

    // A session asked to hash with sha512 closes with a sha512 digest.
    let second = b"a sha512 session".to_vec();
    let reply = t
        .post(
            &format!("/v2/{repo}/blobs/uploads/?digest-algorithm=sha512"),
            &token,
            Vec::new(),
        )
        .await;
    let location = expect_session(&reply, 202, repo, 0);
    let reply = t
        .put_blob(&location, &token, &sha512(&second), None, &second)
        .await;
    expect_blob_created(&reply, repo, &sha512(&second));

    // The closing digest decides, even when the session hashed with another algorithm.
    let third = b"a sha256 session closed with sha512".to_vec();
    let location = t.open_session(repo, &token).await;
    let reply = t
        .put_blob(&location, &token, &sha512(&third), None, &third)
        .await;
    expect_blob_created(&reply, repo, &sha512(&third));

    // Other algorithms are well-formed but unsupported.
    let md5 = format!("md5:{}", "0".repeat(32));
    for path in [
        format!("/v2/{repo}/blobs/uploads/?digest-algorithm=md5"),
        format!("/v2/{repo}/blobs/uploads/?digest={md5}"),
    ] {
        expect_error(
            &t.post(&path, &token, b"x".to_vec()).await,
            400,
            "UNSUPPORTED",
        );
    }
    expect_error(
        &t.get(&format!("/v2/{repo}/blobs/{md5}"), &token).await,
        400,
        "UNSUPPORTED",
    );
    t.stop().await;
}

/// Blob reads: headers, byte ranges, and repository isolation.
async fn blob_reads_and_ranges(backend: Backend) {
    let t = Ctx::start(backend).await;
    let (repo, other) = ("reads/a", "reads/b");
    let token = t.admin(&[repo, other]).await;
    let data: Vec<u8> = (0..100u8).collect();
    let blob = Blob::new(OCTET_STREAM, data.clone());
    t.push_blob(repo, &token, &blob).await;
    t.push_blob(other, &token, &octets("something else")).await;
    t.expect_blob(repo, &token, &blob).await;

    let path = format!("/v2/{repo}/blobs/{}", blob.digest);
    let ranges: [(&str, u16, Option<&str>, std::ops::Range<usize>); 9] = [
        ("bytes=0-9", 206, Some("bytes 0-9/100"), 0..10),
        ("bytes=90-", 206, Some("bytes 90-99/100"), 90..100),
        ("bytes=-5", 206, Some("bytes 95-99/100"), 95..100),
        ("bytes=95-500", 206, Some("bytes 95-99/100"), 95..100),
        ("bytes=0-0", 206, Some("bytes 0-0/100"), 0..1),
        // A range that is not valid (the last byte before the first) is ignored, as RFC 9110
        // section 14.2 says: the whole blob, 200.
        ("bytes=50-10", 200, None, 0..100),
        ("bytes=x-y", 200, None, 0..100),
        // Several ranges are answered with the whole blob, which RFC 9110 allows.
        ("bytes=0-1,5-6", 200, None, 0..100),
        ("bytes=10-5", 200, None, 0..100),
    ];
    for (range, status, content_range, slice) in ranges {
        let reply = send(
            t.request(Method::GET, &path, Some(&token))
                .header("range", range),
        )
        .await;
        expect_status(&reply, status);
        assert_eq!(reply.header("content-range"), content_range, "{range}");
        assert_eq!(reply.body, &data[slice.clone()], "{range}");
        assert_eq!(
            reply.header("content-length"),
            Some(slice.len().to_string().as_str()),
            "{range}"
        );
        assert_eq!(
            reply.header("docker-content-digest"),
            Some(blob.digest.as_str())
        );
    }
    // A valid range that starts past the end (or asks for no bytes at all) cannot be served:
    // 416 with the blob's size, and a range code rather than an upload one.
    for range in ["bytes=100-", "bytes=100-200", "bytes=-0"] {
        for method in [Method::GET, Method::HEAD] {
            let reply = send(
                t.request(method.clone(), &path, Some(&token))
                    .header("range", range),
            )
            .await;
            expect_error(&reply, 416, "RANGE_INVALID");
            assert_eq!(
                reply.header("content-range"),
                Some("bytes */100"),
                "{method} {range}"
            );
        }
    }

    // Another repository does not serve the blob, though the bytes are on disk.
    t.expect_no_blob(other, &token, &blob.digest).await;
    t.expect_no_blob(repo, &token, &sha256(b"never uploaded"))
        .await;
    expect_error(
        &t.get(&format!("/v2/{repo}/blobs/sha256:abc"), &token).await,
        400,
        "DIGEST_INVALID",
    );
    t.stop().await;
}

/// Cross-repository mounts and blob deletes.
async fn blob_mounts_and_deletes(backend: Backend) {
    let t = Ctx::start(backend).await;
    let (source, target, unrelated, fallback, no_from) = (
        "mounts/source",
        "mounts/target",
        "mounts/unrelated",
        "mounts/fallback",
        "mounts/no-from",
    );
    let token = t
        .admin(&[source, target, unrelated, fallback, no_from])
        .await;
    let blob = octets("a layer shared between repositories");
    t.push_blob(source, &token, &blob).await;
    t.push_blob(unrelated, &token, &octets("not the shared layer"))
        .await;
    let mount =
        |to: &str, query: &str| format!("/v2/{to}/blobs/uploads/?mount={}{query}", blob.digest);

    // Mounting from a repository that has the blob links it without an upload.
    let reply = t
        .post(
            &mount(target, &format!("&from={source}")),
            &token,
            Vec::new(),
        )
        .await;
    expect_blob_created(&reply, target, &blob.digest);
    t.expect_blob(target, &token, &blob).await;

    // From a repository that lacks it, the registry opens a session instead, which works.
    let reply = t
        .post(
            &mount(fallback, &format!("&from={unrelated}")),
            &token,
            Vec::new(),
        )
        .await;
    let location = expect_session(&reply, 202, fallback, 0);
    t.expect_no_blob(fallback, &token, &blob.digest).await;
    let reply = t
        .put_blob(&location, &token, &blob.digest, None, &blob.bytes)
        .await;
    expect_blob_created(&reply, fallback, &blob.digest);

    // Without `from`, any repository the caller may pull from will do.
    let reply = t.post(&mount(no_from, ""), &token, Vec::new()).await;
    expect_blob_created(&reply, no_from, &blob.digest);

    // A digest nobody has, or a `from` that is not a repository name, falls back to a session.
    let unknown = sha256(b"nobody has this");
    let reply = t
        .post(
            &format!("/v2/{target}/blobs/uploads/?mount={unknown}"),
            &token,
            Vec::new(),
        )
        .await;
    expect_session(&reply, 202, target, 0);
    let reply = t
        .post(&mount(target, "&from=NOT..A..NAME"), &token, Vec::new())
        .await;
    expect_session(&reply, 202, target, 0);

    // Deleting unlinks the blob from that repository only.
    let path = format!("/v2/{target}/blobs/{}", blob.digest);
    let reply = t.delete(&path, &token).await;
    expect_status(&reply, 202);
    t.expect_no_blob(target, &token, &blob.digest).await;
    expect_error(&t.delete(&path, &token).await, 404, "BLOB_UNKNOWN");
    t.expect_blob(source, &token, &blob).await;
    t.expect_blob(no_from, &token, &blob).await;
    t.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 3. Manifests.
// ---------------------------------------------------------------------------------------------

/// PUT, GET, HEAD and DELETE by tag and by digest, for each of the four manifest formats.
async fn manifest_round_trips(backend: Backend) {
    let t = Ctx::start(backend).await;
    let arm64 = |seed: &str| image_builder(seed).platform("linux", "arm64", Some("v8"));
    let oci_image = sample_image("oci");
    let oci_index = index(vec![sample_image("oci-amd64"), arm64("oci-arm64").build()]);
    let docker = docker_image("docker");
    let docker_list = index(vec![
        docker_image("docker-amd64"),
        arm64("docker-arm64").docker().build(),
    ]);
    assert_eq!(oci_index.manifest.media_type, OCI_INDEX);
    assert_eq!(docker.manifest.media_type, DOCKER_MANIFEST);
    assert_eq!(docker_list.manifest.media_type, DOCKER_MANIFEST_LIST);

    let kinds: [(&str, &dyn LayoutContent); 4] = [
        ("oci-image", &oci_image),
        ("oci-index", &oci_index),
        ("docker-image", &docker),
        ("docker-list", &docker_list),
    ];
    let repos: Vec<String> = kinds
        .iter()
        .map(|(k, _)| format!("round-trip/{k}"))
        .collect();
    let token = t
        .admin(&repos.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    for ((kind, content), repo) in kinds.into_iter().zip(&repos) {
        let root = content.root();
        t.push(repo, &token, content, "v1").await;
        t.push_manifest(repo, &token, "v2", root).await;
        t.expect_manifest(repo, &token, "v1", root).await;
        t.expect_manifest(repo, &token, "v2", root).await;
        t.expect_manifest(repo, &token, &root.digest, root).await;
        for child in content.child_manifests() {
            t.expect_manifest(repo, &token, &child.digest, child).await;
        }
        assert_eq!(t.tags(repo, &token).await, ["v1", "v2"], "{kind}");

        // Deleting a tag leaves the manifest, and its other tags, reachable.
        expect_status(
            &t.delete(&format!("/v2/{repo}/manifests/v1"), &token).await,
            202,
        );
        let reply = t.get(&format!("/v2/{repo}/manifests/v1"), &token).await;
        expect_error(&reply, 404, "MANIFEST_UNKNOWN");
        t.expect_manifest(repo, &token, &root.digest, root).await;
        t.expect_manifest(repo, &token, "v2", root).await;
        assert_eq!(t.tags(repo, &token).await, ["v2"], "{kind}");

        // Deleting by digest removes the manifest and every tag pointing at it.
        let by_digest = format!("/v2/{repo}/manifests/{}", root.digest);
        expect_status(&t.delete(&by_digest, &token).await, 202);
        expect_error(&t.get(&by_digest, &token).await, 404, "MANIFEST_UNKNOWN");
        let reply = t.get(&format!("/v2/{repo}/manifests/v2"), &token).await;
        expect_error(&reply, 404, "MANIFEST_UNKNOWN");
        assert!(t.tags(repo, &token).await.is_empty(), "{kind}");
        expect_error(&t.delete(&by_digest, &token).await, 404, "MANIFEST_UNKNOWN");
    }
    t.stop().await;
}

/// A registry cannot convert manifests, so one whose type the client does not accept is
/// reported as unknown; wildcards and multi-valued Accept headers are honoured.
async fn manifest_content_negotiation(backend: Backend) {
    let t = Ctx::start(backend).await;
    let repo = "negotiation/app";
    let token = t.admin(&[repo]).await;
    let oci = sample_image("negotiated");
    let docker = docker_image("negotiated");
    t.push(repo, &token, &oci, "oci").await;
    t.push(repo, &token, &docker, "docker").await;

    let cases: [(&str, &str, &[&str], u16); 11] = [
        ("oci", "no Accept header", &[], 200),
        ("oci", "*/*", &["*/*"], 200),
        ("oci", "its own type", &[OCI_MANIFEST], 200),
        ("oci", "application/*", &["application/*"], 200),
        (
            "oci",
            "its type in a list with parameters",
            &["application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json; q=0.5"],
            200,
        ),
        ("oci", "its type on a second Accept line", &[DOCKER_MANIFEST, OCI_MANIFEST], 200),
        ("oci", "only the Docker type", &[DOCKER_MANIFEST], 404),
        ("oci", "only the index type", &[OCI_INDEX], 404),
        ("docker", "its own type", &[DOCKER_MANIFEST], 200),
        ("docker", "only the OCI type", &[OCI_MANIFEST], 404),
        ("docker", "only list types", &[OCI_INDEX, DOCKER_MANIFEST_LIST], 404),
    ];
    for (tag, what, accept, status) in cases {
        let path = format!("/v2/{repo}/manifests/{tag}");
        let expected = if tag == "oci" {
            &oci.manifest
        } else {
            &docker.manifest
        };
        for method in [Method::GET, Method::HEAD] {
            let mut builder = t.request(method.clone(), &path, Some(&token));
            for value in accept {
                builder = builder.header("accept", *value);
            }
            let reply = send(builder).await;
            if status == 200 {
                expect_status(&reply, 200);
                assert_eq!(
                    reply.header("content-type"),
                    Some(expected.media_type.as_str()),
                    "{tag}, {what}"
                );
                assert_eq!(
                    reply.header("docker-content-digest"),
                    Some(expected.digest.as_str()),
                    "{tag}, {what}"
                );
            } else {
                expect_error(&reply, 404, "MANIFEST_UNKNOWN");
            }
        }
    }
    t.stop().await;
}

/// PUT by digest checks the digest, and `?tag=` attaches tags reported in `OCI-Tag`.
async fn manifest_put_by_digest_with_tags(backend: Backend) {
    let t = Ctx::start(backend).await;
    let repo = "by-digest/app";
    let token = t.admin(&[repo]).await;
    let image = sample_image("by-digest");
    for blob in image.blobs() {
        t.push_blob(repo, &token, blob).await;
    }
    let manifest = &image.manifest;

    // The URL's digest must be the body's.
    let wrong = sha256(b"some other manifest");
    let reply = t
        .put_manifest(repo, &token, &wrong, OCI_MANIFEST, &manifest.bytes)
        .await;
    expect_error(&reply, 400, "DIGEST_INVALID");
    let reply = t
        .get(&format!("/v2/{repo}/manifests/{wrong}"), &token)
        .await;
    expect_error(&reply, 404, "MANIFEST_UNKNOWN");

    // An invalid tag parameter refuses the whole push.
    let reference = format!("{}?tag=good&tag=-bad", manifest.digest);
    let reply = t
        .put_manifest(repo, &token, &reference, OCI_MANIFEST, &manifest.bytes)
        .await;
    expect_error(&reply, 400, "MANIFEST_INVALID");
    assert!(t.tags(repo, &token).await.is_empty());

    // Each accepted tag is reported back in `OCI-Tag`.
    let reference = format!("{}?tag=a&tag=b", manifest.digest);
    let reply = t
        .put_manifest(repo, &token, &reference, OCI_MANIFEST, &manifest.bytes)
        .await;
    expect_status(&reply, 201);
    assert_eq!(
        reply.header("location"),
        Some(format!("/v2/{repo}/manifests/{}", manifest.digest).as_str())
    );
    let reported: BTreeSet<String> = reply.header_values("oci-tag").into_iter().collect();
    assert_eq!(reported, BTreeSet::from(["a".to_string(), "b".to_string()]));
    assert_eq!(t.tags(repo, &token).await, ["a", "b"]);
    t.expect_manifest(repo, &token, "a", manifest).await;
    t.expect_manifest(repo, &token, "b", manifest).await;

    // A manifest may be addressed by its sha512 digest too.
    let by_sha512 = sha512(&manifest.bytes);
    let reply = t
        .put_manifest(repo, &token, &by_sha512, OCI_MANIFEST, &manifest.bytes)
        .await;
    expect_status(&reply, 201);
    assert_eq!(
        reply.header("docker-content-digest"),
        Some(by_sha512.as_str())
    );
    let reply = t
        .get(&format!("/v2/{repo}/manifests/{by_sha512}"), &token)
        .await;
    expect_status(&reply, 200);
    assert_eq!(reply.body, manifest.bytes);
    assert_eq!(
        reply.header("docker-content-digest"),
        Some(by_sha512.as_str())
    );
    t.stop().await;
}

/// A manifest may only reference blobs and manifests its repository holds; a refused push
/// stores nothing.
async fn manifest_references_must_exist(backend: Backend) {
    let t = Ctx::start(backend).await;
    let (repo, other) = ("references/app", "references/other");
    let token = t.admin(&[repo, other]).await;
    let image = sample_image("references");
    let missing = &image.layers[1];
    t.push_blob(repo, &token, &image.config).await;
    t.push_blob(repo, &token, &image.layers[0]).await;
    // The missing layer exists, but in another repository, which does not count.
    t.push_blob(other, &token, missing).await;

    let check_refused = async |manifest: &Blob, missing: &[&str]| {
        let reply = t
            .put_manifest(repo, &token, "v1", &manifest.media_type, &manifest.bytes)
            .await;
        expect_error(&reply, 400, "MANIFEST_BLOB_UNKNOWN");
        let reported = strings(&reply.json()["errors"][0]["detail"]["digests"]);
        for digest in missing {
            assert!(
                reported.iter().any(|r| r.starts_with(digest)),
                "{digest} not in {reported:?}"
            );
        }
        let reply = t
            .get(&format!("/v2/{repo}/manifests/{}", manifest.digest), &token)
            .await;
        expect_error(&reply, 404, "MANIFEST_UNKNOWN");
        expect_error(
            &t.get(&format!("/v2/{repo}/manifests/v1"), &token).await,
            404,
            "MANIFEST_UNKNOWN",
        );
        assert!(t.tags(repo, &token).await.is_empty());
    };
    check_refused(&image.manifest, &[missing.digest.as_str()]).await;
    // A descriptor whose size lies about the blob is as good as a missing blob.
    let wrong_size = edited(&image.manifest, |m| {
        m["layers"][0]["size"] = json!(image.layers[0].size() + 1)
    });
    check_refused(
        &wrong_size,
        &[image.layers[0].digest.as_str(), missing.digest.as_str()],
    )
    .await;

    // With the blob in place the same manifest is accepted.
    t.push_blob(repo, &token, missing).await;
    t.push_manifest(repo, &token, "v1", &image.manifest).await;

    // An index may only list manifests the repository holds.
    let absent_child = sample_image("references-absent-child");
    let idx = index(vec![image.clone(), absent_child.clone()]);
    for blob in absent_child.blobs() {
        t.push_blob(repo, &token, blob).await;
    }
    let reply = t
        .put_manifest(repo, &token, "multi", OCI_INDEX, &idx.manifest.bytes)
        .await;
    expect_error(&reply, 400, "MANIFEST_BLOB_UNKNOWN");
    assert_eq!(
        strings(&reply.json()["errors"][0]["detail"]["digests"]),
        [absent_child.manifest.digest.as_str()]
    );
    let reply = t
        .get(
            &format!("/v2/{repo}/manifests/{}", idx.manifest.digest),
            &token,
        )
        .await;
    expect_error(&reply, 404, "MANIFEST_UNKNOWN");
    assert_eq!(t.tags(repo, &token).await, ["v1"]);
    t.stop().await;
}

/// Malformed, unsupported and oversized manifests are refused with the right code and leave
/// the repository as it was.
async fn manifest_validation(backend: Backend) {
    let t = Ctx::start(backend).await;
    let repo = "validation/app";
    let token = t.admin(&[repo]).await;
    let image = sample_image("validation");
    t.push(repo, &token, &image, "good").await;
    let good = &image.manifest;

    let invalid_digest = edited(good, |m| m["layers"][0]["digest"] = json!("sha256:zz"));
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        (
            "not JSON",
            OCI_MANIFEST,
            b"{not json".to_vec(),
            400,
            "MANIFEST_INVALID",
        ),
        (
            "empty body",
            OCI_MANIFEST,
            Vec::new(),
            400,
            "MANIFEST_INVALID",
        ),
        (
            "a JSON array",
            OCI_MANIFEST,
            b"[]".to_vec(),
            400,
            "MANIFEST_INVALID",
        ),
        (
            "schemaVersion 1",
            "application/vnd.docker.distribution.manifest.v1+json",
            br#"{"schemaVersion":1,"name":"validation/app","tag":"x","fsLayers":[]}"#.to_vec(),
            400,
            "UNSUPPORTED",
        ),
        (
            "schemaVersion missing",
            OCI_MANIFEST,
            edited(good, |m| {
                m.as_object_mut()
                    .unwrap()
                    .retain(|k, _| k != "schemaVersion")
            })
            .bytes,
            400,
            "MANIFEST_INVALID",
        ),
        (
            "schemaVersion 3",
            OCI_MANIFEST,
            edited(good, |m| m["schemaVersion"] = json!(3)).bytes,
            400,
            "MANIFEST_INVALID",
        ),
        (
            "layers is not a list",
            OCI_MANIFEST,
            edited(good, |m| m["layers"] = json!("x")).bytes,
            400,
            "MANIFEST_INVALID",
        ),
        (
            "config size is a string",
            OCI_MANIFEST,
            edited(good, |m| m["config"]["size"] = json!("12")).bytes,
            400,
            "MANIFEST_INVALID",
        ),
        (
            "mediaType is a number",
            OCI_MANIFEST,
            edited(good, |m| m["mediaType"] = json!(7)).bytes,
            400,
            "MANIFEST_INVALID",
        ),
        (
            "a malformed descriptor digest",
            OCI_MANIFEST,
            invalid_digest.bytes.clone(),
            400,
            "MANIFEST_INVALID",
        ),
        (
            "Content-Type says index, body says manifest",
            OCI_INDEX,
            good.bytes.clone(),
            400,
            "MANIFEST_INVALID",
        ),
        (
            "Content-Type says Docker, body says OCI",
            DOCKER_MANIFEST,
            good.bytes.clone(),
            400,
            "MANIFEST_INVALID",
        ),
        (
            "an unknown mediaType",
            OCI_MANIFEST,
            edited(good, |m| {
                m["mediaType"] = json!("application/vnd.example.unknown+json")
            })
            .bytes,
            400,
            "MANIFEST_INVALID",
        ),
        (
            "an unknown mediaType in body and header",
            "application/vnd.example.unknown+json",
            edited(good, |m| {
                m["mediaType"] = json!("application/vnd.example.unknown+json")
            })
            .bytes,
            400,
            "UNSUPPORTED",
        ),
        (
            "one byte over 4 MiB",
            OCI_MANIFEST,
            manifest_of_size(good, MAX_MANIFEST_BYTES + 1).bytes,
            413,
            "MANIFEST_INVALID",
        ),
    ];
    let check_unchanged = async |what: &str, body: &[u8]| {
        assert_eq!(t.tags(repo, &token).await, ["good"], "{what}");
        t.expect_manifest(repo, &token, "good", good).await;
        // A body that is the good manifest itself is of course still there.
        if sha256(body) != good.digest {
            let reply = t
                .get(&format!("/v2/{repo}/manifests/{}", sha256(body)), &token)
                .await;
            expect_error(&reply, 404, "MANIFEST_UNKNOWN");
        }
    };
    for (what, content_type, body, status, code) in &cases {
        let reply = t
            .put_manifest(repo, &token, "bad", content_type, body)
            .await;
        println!(
            "{:<8} manifest {what:<45} -> {} {}",
            t.server.backend.name(),
            reply.status,
            reply.code().unwrap_or_default()
        );
        expect_error(&reply, *status, code);
        check_unchanged(what, body).await;
    }

    // Without a Content-Length the limit is enforced while reading.
    let oversized = manifest_of_size(good, MAX_MANIFEST_BYTES + 1);
    let reply = send(
        t.request(
            Method::PUT,
            &format!("/v2/{repo}/manifests/bad"),
            Some(&token),
        )
        .header("content-type", OCI_MANIFEST)
        .body(streamed(&oversized.bytes)),
    )
    .await;
    expect_error(&reply, 413, "MANIFEST_INVALID");
    check_unchanged("streamed, over 4 MiB", &oversized.bytes).await;

    // The spec asks registries to accept manifests of up to 4 MiB: exactly that is fine.
    let largest = manifest_of_size(good, MAX_MANIFEST_BYTES);
    t.push_manifest(repo, &token, "largest", &largest).await;
    t.expect_manifest(repo, &token, "largest", &largest).await;
    t.stop().await;
}

/// Unknown repositories, tags and digests, and methods a route does not support.
async fn manifest_unknown_and_wrong_methods(backend: Backend) {
    let t = Ctx::start(backend).await;
    let (repo, nowhere) = ("known/app", "unknown/app");
    let token = t.admin(&[repo, nowhere]).await;
    let image = sample_image("known");
    t.push(repo, &token, &image, "v1").await;
    let absent = sha256(b"no such manifest");

    for reference in ["v1", absent.as_str()] {
        let path = format!("/v2/{nowhere}/manifests/{reference}");
        expect_error(&t.get(&path, &token).await, 404, "NAME_UNKNOWN");
        expect_error(&t.head(&path, &token).await, 404, "NAME_UNKNOWN");
        expect_error(&t.delete(&path, &token).await, 404, "NAME_UNKNOWN");
    }
    for reference in ["v2", absent.as_str()] {
        let path = format!("/v2/{repo}/manifests/{reference}");
        expect_error(&t.get(&path, &token).await, 404, "MANIFEST_UNKNOWN");
        expect_error(&t.head(&path, &token).await, 404, "MANIFEST_UNKNOWN");
        expect_error(&t.delete(&path, &token).await, 404, "MANIFEST_UNKNOWN");
    }
    let path = format!("/v2/{repo}/manifests/sha256:abc");
    expect_error(&t.get(&path, &token).await, 400, "DIGEST_INVALID");

    // A path under /v2 that is no endpoint at all.
    expect_error(
        &t.get(&format!("/v2/{repo}/unknown/x"), &token).await,
        404,
        "NAME_UNKNOWN",
    );

    // Routes that exist, with methods they do not support: 405, and the methods they do
    // support in `Allow`, as RFC 9110 (15.5.6) requires of every 405.
    let digest = &image.config.digest;
    let location = t.open_session(repo, &token).await;
    let cases = [
        (Method::POST, "/v2/".to_string(), "GET, HEAD"),
        (Method::DELETE, "/v2/_catalog".to_string(), "GET"),
        (Method::POST, format!("/v2/{repo}/tags/list"), "GET"),
        (
            Method::POST,
            format!("/v2/{repo}/manifests/v1"),
            "GET, HEAD, PUT, DELETE",
        ),
        (
            Method::PATCH,
            format!("/v2/{repo}/manifests/v1"),
            "GET, HEAD, PUT, DELETE",
        ),
        (
            Method::PUT,
            format!("/v2/{repo}/blobs/{digest}"),
            "GET, HEAD, DELETE",
        ),
        (
            Method::POST,
            format!("/v2/{repo}/blobs/{digest}"),
            "GET, HEAD, DELETE",
        ),
        (Method::GET, format!("/v2/{repo}/blobs/uploads/"), "POST"),
        (Method::POST, location.clone(), "GET, PATCH, PUT, DELETE"),
        (
            Method::DELETE,
            format!("/v2/{repo}/referrers/{digest}"),
            "GET",
        ),
    ];
    for (method, path, allow) in cases {
        let reply = send(t.request(method, &path, Some(&token))).await;
        expect_error(&reply, 405, "UNSUPPORTED");
        assert_eq!(reply.header("allow"), Some(allow), "{}", reply.what);
    }
    t.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 4. Subjects and referrers.
// ---------------------------------------------------------------------------------------------

/// An artifact manifest pointing at `subject`, with `config` and one `layer`.
fn artifact(
    artifact_type: Option<&str>,
    config: &Blob,
    layer: &Blob,
    subject: &Blob,
    annotations: Value,
) -> Blob {
    let mut manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config.descriptor(),
        "layers": [layer.descriptor()],
        "subject": subject.descriptor(),
        "annotations": annotations,
    });
    if let Some(t) = artifact_type {
        manifest["artifactType"] = json!(t);
    }
    Blob::new(OCI_MANIFEST, serde_json::to_vec(&manifest).unwrap())
}

/// Pushing a manifest with a `subject` is acknowledged with `OCI-Subject`, and the referrers
/// API lists it as an index of descriptors, filtered by `artifactType` on request.
async fn referrers(backend: Backend) {
    let t = Ctx::start(backend).await;
    let repo = "referrers/app";
    let token = t.admin(&[repo, "referrers/none"]).await;
    let subject = sample_image("subject");
    t.push(repo, &token, &subject, "v1").await;
    let sbom_type = "application/vnd.example.sbom.v1+json";
    let signature_type = "application/vnd.example.signature.config.v1+json";

    let empty = Blob::new(OCI_EMPTY, b"{}".to_vec());
    let sbom_data = Blob::new(
        "application/spdx+json",
        br#"{"spdxVersion":"SPDX-2.3"}"#.to_vec(),
    );
    let signature_config = Blob::new(signature_type, br#"{"signer":"tests"}"#.to_vec());
    let signature_data = Blob::new("application/octet-stream", b"signature bytes".to_vec());
    for blob in [&empty, &sbom_data, &signature_config, &signature_data] {
        t.push_blob(repo, &token, blob).await;
    }
    let sbom = artifact(
        Some(sbom_type),
        &empty,
        &sbom_data,
        &subject.manifest,
        json!({"org.example.kind": "sbom"}),
    );
    // Without `artifactType`, an image manifest's config media type stands in for it.
    let signature = artifact(
        None,
        &signature_config,
        &signature_data,
        &subject.manifest,
        json!({"org.example.kind": "signature"}),
    );
    // An index may refer too; it has no config, so its artifact type is simply absent.
    let bundle = Blob::new(
        OCI_INDEX,
        serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [],
            "subject": subject.manifest.descriptor(),
            "annotations": {"org.example.kind": "bundle"},
        }))
        .unwrap(),
    );
    for manifest in [&sbom, &signature, &bundle] {
        let reply = t
            .put_manifest(
                repo,
                &token,
                &manifest.digest,
                &manifest.media_type,
                &manifest.bytes,
            )
            .await;
        expect_status(&reply, 201);
        assert_eq!(
            reply.header("oci-subject"),
            Some(subject.manifest.digest.as_str())
        );
    }
    let reply = t
        .get(&format!("/v2/{repo}/manifests/{}", sbom.digest), &token)
        .await;
    expect_status(&reply, 200);
    assert_eq!(
        reply.header("oci-subject"),
        Some(subject.manifest.digest.as_str())
    );

    let descriptor = |manifest: &Blob, artifact_type: Option<&str>, kind: &str| {
        let mut d = json!({
            "mediaType": manifest.media_type,
            "digest": manifest.digest,
            "size": manifest.size(),
            "annotations": {"org.example.kind": kind},
        });
        if let Some(t) = artifact_type {
            d["artifactType"] = json!(t);
        }
        d
    };
    let all = [
        descriptor(&sbom, Some(sbom_type), "sbom"),
        descriptor(&signature, Some(signature_type), "signature"),
        descriptor(&bundle, None, "bundle"),
    ];
    let subject_digest = subject.manifest.digest.clone();
    let list = async |name: &str, digest: &str, query: &str| {
        let reply = t
            .get(&format!("/v2/{name}/referrers/{digest}{query}"), &token)
            .await;
        expect_status(&reply, 200);
        assert_eq!(
            reply.header("content-type"),
            Some(OCI_INDEX),
            "{}",
            reply.what
        );
        let body = reply.json();
        assert_eq!(body["schemaVersion"], 2);
        assert_eq!(body["mediaType"], OCI_INDEX);
        let mut manifests = body["manifests"]
            .as_array()
            .expect("a manifests list")
            .clone();
        manifests.sort_by_key(|d| d["digest"].as_str().unwrap().to_string());
        (
            reply.header("oci-filters-applied").map(str::to_string),
            manifests,
        )
    };
    let sorted = |items: &[&Value]| {
        let mut items: Vec<Value> = items.iter().map(|v| (*v).clone()).collect();
        items.sort_by_key(|d| d["digest"].as_str().unwrap().to_string());
        items
    };

    assert_eq!(
        list(repo, &subject_digest, "").await,
        (None, sorted(&[&all[0], &all[1], &all[2]]))
    );
    let encoded: String = url::form_urlencoded::byte_serialize(sbom_type.as_bytes()).collect();
    assert_eq!(
        list(repo, &subject_digest, &format!("?artifactType={encoded}")).await,
        (Some("artifactType".to_string()), sorted(&[&all[0]]))
    );
    assert_eq!(
        list(
            repo,
            &subject_digest,
            "?artifactType=application/vnd.example.none"
        )
        .await,
        (Some("artifactType".to_string()), vec![])
    );
    // No referrers, or no repository at all, is an empty list: never a 404.
    assert_eq!(list(repo, &subject.config.digest, "").await, (None, vec![]));
    assert_eq!(
        list("referrers/none", &subject_digest, "").await,
        (None, vec![])
    );
    let reply = t
        .get(&format!("/v2/{repo}/referrers/sha256:abc"), &token)
        .await;
    expect_error(&reply, 400, "DIGEST_INVALID");

    // A referrer may arrive before its subject.
    let later = sample_image("pushed-later");
    let early = artifact(
        Some(sbom_type),
        &empty,
        &sbom_data,
        &later.manifest,
        json!({"org.example.kind": "early"}),
    );
    let reply = t
        .put_manifest(repo, &token, &early.digest, OCI_MANIFEST, &early.bytes)
        .await;
    expect_status(&reply, 201);
    assert_eq!(
        reply.header("oci-subject"),
        Some(later.manifest.digest.as_str())
    );
    let (_, listed) = list(repo, &later.manifest.digest, "").await;
    assert_eq!(listed, [descriptor(&early, Some(sbom_type), "early")]);

    // A deleted referrer leaves the list.
    expect_status(
        &t.delete(&format!("/v2/{repo}/manifests/{}", sbom.digest), &token)
            .await,
        202,
    );
    assert_eq!(
        list(repo, &subject_digest, "").await,
        (None, sorted(&[&all[1], &all[2]]))
    );
    t.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 5. Tag lists, the catalog, and repository names.
// ---------------------------------------------------------------------------------------------

/// Tags come back in byte order, page by page through `Link` headers.
async fn tag_pagination(backend: Backend) {
    let t = Ctx::start(backend).await;
    let (repo, blobs_only) = ("pages/tags", "pages/blobs-only");
    let token = t.admin(&[repo, blobs_only, "pages/unknown"]).await;
    let image = sample_image("pages");
    for blob in image.blobs() {
        t.push_blob(repo, &token, blob).await;
    }
    // Mixed case and punctuation tell byte order apart from any locale's collation.
    let tags = [
        "v2", "A", "latest", "B-rc", "_x", "v1.1", "v1", "z", "v1.0", "a-b", "a_b", "a.b",
    ];
    let query: Vec<String> = tags.iter().map(|t| format!("tag={t}")).collect();
    let reference = format!("{}?{}", image.manifest.digest, query.join("&"));
    let reply = t
        .put_manifest(
            repo,
            &token,
            &reference,
            OCI_MANIFEST,
            &image.manifest.bytes,
        )
        .await;
    expect_status(&reply, 201);
    assert_eq!(reply.header_values("oci-tag").len(), tags.len());
    let mut expected: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
    expected.sort();
    assert_eq!(
        expected,
        ["A", "B-rc", "_x", "a-b", "a.b", "a_b", "latest", "v1", "v1.0", "v1.1", "v2", "z"]
    );

    let reply = t.get(&format!("/v2/{repo}/tags/list"), &token).await;
    expect_status(&reply, 200);
    assert_eq!(reply.strings("tags"), expected);
    assert_eq!(next_link(&reply), None);
    for n in [1, 2, 3, 5, 12, 13, 1000] {
        let walked = t
            .walk(&format!("/v2/{repo}/tags/list?n={n}"), "tags", &token, n)
            .await;
        assert_eq!(walked, expected, "n={n}");
    }

    // `last` starts after the named tag, with or without `n`.
    let page = |query: &str| format!("/v2/{repo}/tags/list?{query}");
    let reply = t.get(&page("last=latest"), &token).await;
    assert_eq!(reply.strings("tags"), &expected[7..]);
    let reply = t.get(&page("n=2&last=a.b"), &token).await;
    assert_eq!(reply.strings("tags"), ["a_b", "latest"]);
    assert_eq!(
        next_link(&reply),
        Some(format!("/v2/{repo}/tags/list?n=2&last=latest"))
    );
    let reply = t.get(&page("last=zzz"), &token).await;
    assert!(reply.strings("tags").is_empty());

    // `n=0` is an empty list and no Link.
    let reply = t.get(&page("n=0"), &token).await;
    expect_status(&reply, 200);
    assert!(reply.strings("tags").is_empty());
    assert_eq!(next_link(&reply), None);
    for n in ["abc", "-1", "1.5", ""] {
        expect_error(
            &t.get(&page(&format!("n={n}")), &token).await,
            400,
            "UNSUPPORTED",
        );
    }

    // A repository without manifests is unknown to the listing, whatever the page size.
    t.push_blob(blobs_only, &token, &octets("a blob and nothing else"))
        .await;
    for name in ["pages/unknown", blobs_only] {
        for query in ["", "?n=0", "?n=1"] {
            let reply = t.get(&format!("/v2/{name}/tags/list{query}"), &token).await;
            expect_error(&reply, 404, "NAME_UNKNOWN");
        }
    }
    t.stop().await;
}

/// The catalog lists repositories holding manifests, in byte order, page by page, and only
/// those the caller may pull.
async fn catalog_pagination(backend: Backend) {
    let t = Ctx::start(backend).await;
    // Space `gamma` is public and `beta` is bound to `dev`'s workspace; the admin's pushes
    // create the other spaces private and unbound.
    let store = &t.server.state.store;
    t.dev(&[]).await;
    create_space(store, "gamma", true).await;
    create_space(store, "beta", false).await;
    create_workspace(store, "team").await;
    set_role(store, "team", "dev", "viewer").await;
    bind(store, "beta", &["team"]).await;
    let repos = ["zulu", "beta/two", "alpha", "x-ray/y", "gamma", "beta/one"];
    let mut all: Vec<&str> = repos.to_vec();
    all.extend(["blobs-only", "emptied"]);
    let token = t.admin(&all).await;
    let image = sample_image("catalog");
    for repo in repos {
        t.push(repo, &token, &image, "v1").await;
    }
    // Repositories without manifests are not listed: one never had any, one lost its only one.
    t.push_blob("blobs-only", &token, &octets("only a blob"))
        .await;
    t.push("emptied", &token, &image, "v1").await;
    expect_status(
        &t.delete(
            &format!("/v2/emptied/manifests/{}", image.manifest.digest),
            &token,
        )
        .await,
        202,
    );

    let mut expected: Vec<String> = repos.iter().map(|r| r.to_string()).collect();
    expected.sort();
    assert_eq!(t.catalog(&token).await, expected);
    for n in [1, 2, 4, 6, 7] {
        let walked = t
            .walk(&format!("/v2/_catalog?n={n}"), "repositories", &token, n)
            .await;
        assert_eq!(walked, expected, "n={n}");
    }
    let reply = t.get("/v2/_catalog?last=beta/one", &token).await;
    assert_eq!(reply.strings("repositories"), &expected[2..]);
    let reply = t.get("/v2/_catalog?n=0", &token).await;
    expect_status(&reply, 200);
    assert!(reply.strings("repositories").is_empty());
    assert_eq!(next_link(&reply), None);
    expect_error(&t.get("/v2/_catalog?n=x", &token).await, 400, "UNSUPPORTED");

    // Who sees what: a member sees the public spaces and those bound to their workspace, an
    // anonymous token only the public ones. Hidden repositories never cut a page short.
    let dev = t.dev(&["registry:catalog:*"]).await;
    assert_eq!(t.catalog(&dev).await, ["beta/one", "beta/two", "gamma"]);
    for n in [1, 2] {
        let walked = t
            .walk(&format!("/v2/_catalog?n={n}"), "repositories", &dev, n)
            .await;
        assert_eq!(walked, ["beta/one", "beta/two", "gamma"], "n={n}");
    }
    let anonymous = t.server.token(None, &["registry:catalog:*"]).await;
    assert_eq!(t.catalog(&anonymous).await, ["gamma"]);
    let walked = t
        .walk("/v2/_catalog?n=1", "repositories", &anonymous, 1)
        .await;
    assert_eq!(walked, ["gamma"]);
    let reply = send(t.request(Method::GET, "/v2/_catalog", None)).await;
    t.expect_challenge(&reply, Some("registry:catalog:*"), None);
    t.stop().await;
}

/// A request written straight to a TCP socket, for what HTTP clients will not send: paths
/// with `..` segments, and bodies shorter than their Content-Length.
struct RawRequest<'a> {
    method: &'a str,
    path: &'a str,
    headers: Vec<(&'a str, String)>,
    body: &'a [u8],
    /// The Content-Length to announce; more than `body` makes the request truncated.
    announced: usize,
}

/// Sends `request`, half-closes the connection, and returns the status and error code if the
/// server answered before closing.
async fn raw_http(host: &str, request: &RawRequest<'_>) -> Option<(u16, Option<String>)> {
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        request.method, request.path, request.announced
    );
    for (name, value) in &request.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(request.body).await.unwrap();
    // Closing our side ends the body early; the server may still answer on its side.
    stream.shutdown().await.unwrap();
    let mut response = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response));
    let _ = read.await;
    let text = String::from_utf8_lossy(&response);
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let code = text
        .find("\r\n\r\n")
        .and_then(|end| text[end..].find('{').map(|i| end + i))
        .and_then(|start| {
            serde_json::Deserializer::from_str(&text[start..])
                .into_iter::<Value>()
                .next()?
                .ok()
        })
        .and_then(|body| body["errors"][0]["code"].as_str().map(str::to_string));
    Some((status, code))
}

/// Names outside the spec's grammar are refused with `NAME_INVALID` on every endpoint.
async fn invalid_names(backend: Backend) {
    let t = Ctx::start(backend).await;
    let token = t.admin(&[]).await;
    let digest = sha256(b"whatever");
    let too_long = "a".repeat(300);
    let names = [
        "UPPER/x",
        "a//b",
        "-lead",
        "trail-",
        "a..b",
        "a/b!",
        "a___b",
        too_long.as_str(),
    ];
    for name in names {
        let endpoints = [
            (Method::GET, format!("/v2/{name}/tags/list")),
            (Method::GET, format!("/v2/{name}/manifests/latest")),
            (Method::HEAD, format!("/v2/{name}/manifests/latest")),
            (Method::PUT, format!("/v2/{name}/manifests/latest")),
            (Method::DELETE, format!("/v2/{name}/manifests/latest")),
            (Method::GET, format!("/v2/{name}/blobs/{digest}")),
            (Method::POST, format!("/v2/{name}/blobs/uploads/")),
            (Method::GET, format!("/v2/{name}/referrers/{digest}")),
        ];
        for (method, path) in endpoints {
            expect_error(
                &send(t.request(method, &path, Some(&token))).await,
                400,
                "NAME_INVALID",
            );
        }
    }
    // Clients normalise `..` away, so these go over a raw socket exactly as written.
    for path in [
        "/v2/../x/tags/list",
        "/v2/a/../../x/manifests/latest",
        "/v2/./a/blobs/uploads/",
    ] {
        let request = RawRequest {
            method: "GET",
            path,
            headers: vec![("Authorization", format!("Bearer {token}"))],
            body: b"",
            announced: 0,
        };
        let answer = raw_http(&t.server.host, &request).await;
        assert_eq!(answer, Some((400, Some("NAME_INVALID".into()))), "{path}");
    }
    // The longest valid name is still a name: unknown rather than invalid.
    let longest = "a".repeat(255);
    let token = t.admin(&[&longest]).await;
    let reply = t.get(&format!("/v2/{longest}/tags/list"), &token).await;
    expect_error(&reply, 404, "NAME_UNKNOWN");
    t.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 6. Who may do what.
// ---------------------------------------------------------------------------------------------

/// What a principal should get for an operation.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Status(u16),
    /// 401 with a challenge for the operation's scope and this `error`, if any.
    Challenge(Option<&'static str>),
    /// 403 `DENIED`: the rule refuses, so asking for a new token would not help.
    Denied,
    /// 404 `NAME_UNKNOWN`: the caller may not see the repository's space at all, and is told
    /// exactly what it would be told if the space did not exist.
    Hidden,
}

/// The registry-side access matrix on a private space bound to workspace `team`: nobody
/// anonymous, an editor of `team` pulls and pushes, a user outside `team` is denied
/// everything, and only `team`'s admins and the platform admin delete.
async fn auth_matrix(backend: Backend) {
    let t = Ctx::start(backend).await;
    let repo = "team/app";
    let store = &t.server.state.store;
    t.dev(&[]).await;
    t.server
        .create_user("outsider", "outsider-password", false)
        .await;
    t.server.create_user("boss", "boss-password", false).await;
    create_space(store, "team", false).await;
    create_workspace(store, "team").await;
    set_role(store, "team", "dev", "editor").await;
    set_role(store, "team", "boss", "admin").await;
    bind(store, "team", &["team"]).await;
    let admin = t.admin(&[repo]).await;
    let image = sample_image("matrix");
    t.push(repo, &admin, &image, "v1").await;
    let principals = [
        "none",
        "anonymous",
        "outsider",
        "user-elsewhere",
        "user",
        "ws-admin",
        "admin",
    ];
    // Each principal gets its own tag and blob to delete, so one row cannot spoil another.
    let doomed_blob = |who: &str| octets(&format!("doomed blob of {who}"));
    for who in principals {
        t.push_manifest(repo, &admin, &format!("doomed-{who}"), &image.manifest)
            .await;
        t.push_blob(repo, &admin, &doomed_blob(who)).await;
    }

    // An editor asking for everything receives pull and push, never delete; a user outside
    // the bound workspace receives nothing.
    let all = format!("repository:{repo}:*");
    let dev_all = t.dev(&[all.as_str()]).await;
    let granted = access_set(&decode_claims(&dev_all));
    let outsider_all = t
        .server
        .token(Some(("outsider", "outsider-password")), &[all.as_str()])
        .await;
    let outsider_granted = access_set(&decode_claims(&outsider_all));
    let tokens: BTreeMap<&str, Option<String>> = BTreeMap::from([
        ("none", None),
        (
            "anonymous",
            Some(t.server.token(None, &[all.as_str()]).await),
        ),
        ("outsider", Some(outsider_all)),
        (
            "user-elsewhere",
            Some(t.dev(&["repository:team/other:*"]).await),
        ),
        ("user", Some(dev_all.clone())),
        (
            "ws-admin",
            Some(
                t.server
                    .token(Some(("boss", "boss-password")), &[all.as_str()])
                    .await,
            ),
        ),
        ("admin", Some(admin.clone())),
    ]);

    use Expect::*;
    let ops = [
        "pull manifest",
        "pull blob",
        "list tags",
        "push blob",
        "push manifest",
        "delete tag",
        "delete blob",
    ];
    let scopes = [
        "pull",
        "pull",
        "pull",
        "pull,push",
        "pull,push",
        "delete",
        "delete",
    ];
    let insufficient = Challenge(Some("insufficient_scope"));
    let expected: BTreeMap<&str, [Expect; 7]> = BTreeMap::from([
        ("none", [Challenge(None); 7]),
        ("anonymous", [insufficient; 7]),
        ("outsider", [Hidden; 7]),
        (
            "user-elsewhere",
            [
                insufficient,
                insufficient,
                insufficient,
                insufficient,
                insufficient,
                Denied,
                Denied,
            ],
        ),
        (
            "user",
            [
                Status(200),
                Status(200),
                Status(200),
                Status(201),
                Status(201),
                Denied,
                Denied,
            ],
        ),
        (
            "ws-admin",
            [
                Status(200),
                Status(200),
                Status(200),
                Status(201),
                Status(201),
                Status(202),
                Status(202),
            ],
        ),
        (
            "admin",
            [
                Status(200),
                Status(200),
                Status(200),
                Status(201),
                Status(201),
                Status(202),
                Status(202),
            ],
        ),
    ]);

    let mut mismatches = Vec::new();
    let backend = t.server.backend.name();
    println!(
        "{:<8} {:<16} {:<14} {:<8} expected",
        "backend", "principal", "operation", "got"
    );
    for who in principals {
        let token = tokens[who].as_deref();
        let pushed = octets(&format!("pushed by {who}"));
        let requests = [
            t.request(Method::GET, &format!("/v2/{repo}/manifests/v1"), token),
            t.request(
                Method::GET,
                &format!("/v2/{repo}/blobs/{}", image.config.digest),
                token,
            ),
            t.request(Method::GET, &format!("/v2/{repo}/tags/list"), token),
            t.request(
                Method::POST,
                &format!("/v2/{repo}/blobs/uploads/?digest={}", pushed.digest),
                token,
            )
            .body(pushed.bytes.clone()),
            t.request(
                Method::PUT,
                &format!("/v2/{repo}/manifests/pushed-by-{who}"),
                token,
            )
            .header("content-type", OCI_MANIFEST)
            .body(image.manifest.bytes.clone()),
            t.request(
                Method::DELETE,
                &format!("/v2/{repo}/manifests/doomed-{who}"),
                token,
            ),
            t.request(
                Method::DELETE,
                &format!("/v2/{repo}/blobs/{}", doomed_blob(who).digest),
                token,
            ),
        ];
        for (i, request) in requests.into_iter().enumerate() {
            let reply = send(request).await;
            let want = expected[who][i];
            let ok = match want {
                Status(status) => reply.status == status,
                Challenge(error) => {
                    reply.status == 401
                        && reply
                            .header("www-authenticate")
                            .map(parse_challenge)
                            .is_some_and(|c| {
                                c.get("scope") == Some(&format!("repository:{repo}:{}", scopes[i]))
                                    && c.get("error").map(String::as_str) == error
                            })
                }
                Denied => reply.status == 403 && reply.code().as_deref() == Some("DENIED"),
                Hidden => reply.status == 404 && reply.code().as_deref() == Some("NAME_UNKNOWN"),
            };
            let got = format!("{} {}", reply.status, reply.code().unwrap_or_default());
            println!(
                "{backend:<8} {who:<16} {:<14} {got:<8} {want:?}{}",
                ops[i],
                if ok { "" } else { "  <-- MISMATCH" }
            );
            if !ok {
                mismatches.push(format!("{who} / {}: got {got}, expected {want:?}", ops[i]));
            }
        }
    }
    // Every refused delete left its target in place.
    for who in ["none", "anonymous", "outsider", "user-elsewhere", "user"] {
        let reply = t
            .get(&format!("/v2/{repo}/manifests/doomed-{who}"), &admin)
            .await;
        if reply.status != 200 {
            mismatches.push(format!("{who}: the tag doomed-{who} was deleted"));
        }
    }
    let user_grant = access(&[("repository", repo, "pull"), ("repository", repo, "push")]);
    if granted != user_grant {
        mismatches.push(format!(
            "a non-admin user's token for `{all}` carries {granted:?}"
        ));
    }
    if !outsider_granted.is_empty() {
        mismatches.push(format!(
            "an outsider's token for `{all}` carries {outsider_granted:?}"
        ));
    }
    assert!(
        mismatches.is_empty(),
        "access matrix mismatches:\n{}",
        mismatches.join("\n")
    );
    t.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 7. What a push records in the catalog.
// ---------------------------------------------------------------------------------------------

/// A push over HTTP records who pushed, the platform, layers joined with their history, the
/// full history, index children, and counters; manifest GETs are counted as pulls.
async fn catalog_rows(backend: Backend) {
    let t = Ctx::start(backend).await;
    let repo_name = "catalog/rows";
    let repo = RepoName::parse(repo_name).unwrap();
    let admin = t.admin(&[repo_name]).await;
    let store = &t.server.state.store;
    let image = ImageBuilder::new()
        .platform("linux", "arm64", Some("v8"))
        .author("Berth tests")
        .config_field("Env", json!(["A=b"]))
        .config_field("Cmd", json!(["/bin/app"]))
        .layer(layer(&[("etc/motd", b"hello\n")]), "COPY motd /etc/motd")
        .empty_history("ENV A=b")
        .layer(layer(&[("bin/app", b"binary")]), "COPY app /bin/app")
        .build();
    t.push(repo_name, &admin, &image, "v1").await;
    let digest = |blob: &Blob| Digest::parse(&blob.digest).unwrap();

    let record = store
        .artifact(&repo, &digest(&image.manifest))
        .await
        .unwrap()
        .expect("recorded");
    assert_eq!(record.pushed_by.as_deref(), Some("admin"));
    assert_eq!(record.media_type, OCI_MANIFEST);
    assert_eq!(
        record.platform,
        Platform {
            os: Some("linux".into()),
            architecture: Some("arm64".into()),
            variant: Some("v8".into())
        }
    );
    assert_eq!(
        record.config_digest.as_deref(),
        Some(image.config.digest.as_str())
    );
    assert_eq!(record.author.as_deref(), Some("Berth tests"));
    assert_eq!(record.created.as_deref(), Some(DEFAULT_CREATED));
    assert_eq!(record.manifest_size, image.manifest.size() as i64);
    let content: u64 = image.blobs().iter().map(|b| b.size()).sum();
    assert_eq!(record.size, (image.manifest.size() + content) as i64);
    assert_eq!(record.tags, ["v1"]);
    let config: Value = serde_json::from_str(record.config_json.as_deref().unwrap()).unwrap();
    assert_eq!(config["env"], json!(["A=b"]));
    assert_eq!(config["cmd"], json!(["/bin/app"]));
    // Each layer carries the history entry that produced it, skipping the empty ENV step.
    let layers: Vec<(String, i64, Option<String>)> = record
        .layers
        .iter()
        .map(|l| (l.digest.clone(), l.size, l.created_by.clone()))
        .collect();
    assert_eq!(
        layers,
        [
            (
                image.layers[0].digest.clone(),
                image.layers[0].size() as i64,
                Some("COPY motd /etc/motd".into())
            ),
            (
                image.layers[1].digest.clone(),
                image.layers[1].size() as i64,
                Some("COPY app /bin/app".into())
            ),
        ]
    );
    let history: Vec<(Option<String>, bool)> = record
        .history
        .iter()
        .map(|h| (h.created_by.clone(), h.empty_layer))
        .collect();
    assert_eq!(
        history,
        [
            (Some("COPY motd /etc/motd".into()), false),
            (Some("ENV A=b".into()), true),
            (Some("COPY app /bin/app".into()), false),
        ]
    );

    // An index records its children with their platforms.
    let amd64 = sample_image("rows-amd64");
    let idx = index(vec![amd64.clone(), image.clone()]);
    t.push(repo_name, &admin, &idx, "multi").await;
    let record = store
        .artifact(&repo, &digest(&idx.manifest))
        .await
        .unwrap()
        .expect("recorded");
    assert_eq!(record.media_type, OCI_INDEX);
    assert!(record.layers.is_empty() && record.config_digest.is_none());
    let children: Vec<(String, String, Platform)> = record
        .children
        .iter()
        .map(|c| (c.digest.clone(), c.media_type.clone(), c.platform.clone()))
        .collect();
    assert_eq!(
        children,
        [
            (
                amd64.manifest.digest.clone(),
                OCI_MANIFEST.to_string(),
                Platform {
                    os: Some("linux".into()),
                    architecture: Some("amd64".into()),
                    variant: None
                },
            ),
            (
                image.manifest.digest.clone(),
                OCI_MANIFEST.to_string(),
                Platform {
                    os: Some("linux".into()),
                    architecture: Some("arm64".into()),
                    variant: Some("v8".into())
                },
            ),
        ]
    );

    // A non-admin push is recorded under that user: an editor of a workspace the space
    // `catalog` (created by the admin's push) is bound to.
    t.dev(&[]).await;
    create_workspace(store, "rows").await;
    set_role(store, "rows", "dev", "editor").await;
    bind(store, "catalog", &["rows"]).await;
    let docker = docker_image("rows-docker");
    let dev = t
        .dev(&[format!("repository:{repo_name}:pull,push").as_str()])
        .await;
    t.push(repo_name, &dev, &docker, "docker").await;
    let record = store
        .artifact(&repo, &digest(&docker.manifest))
        .await
        .unwrap()
        .expect("recorded");
    assert_eq!(record.pushed_by.as_deref(), Some("dev"));
    assert_eq!(record.media_type, DOCKER_MANIFEST);

    let summary = store
        .repository_summary(&repo)
        .await
        .unwrap()
        .expect("a summary");
    assert_eq!(summary.tag_count, 3);
    // The image, the index, its amd64 child and the Docker image.
    assert_eq!(summary.artifact_count, 4);

    // Two GETs are two pulls; a HEAD only checks and is not counted.
    for _ in 0..2 {
        expect_status(
            &t.get(&format!("/v2/{repo_name}/manifests/v1"), &admin)
                .await,
            200,
        );
    }
    expect_status(
        &t.head(&format!("/v2/{repo_name}/manifests/v1"), &admin)
            .await,
        200,
    );
    t.server.flush_pulls().await;
    let record = store
        .artifact(&repo, &digest(&image.manifest))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.pull_count, 2);
    assert!(record.pulled_at.is_some());
    let summary = store.repository_summary(&repo).await.unwrap().unwrap();
    assert_eq!(summary.pulls, 2);
    t.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 8. Nothing invalid is ever stored.
// ---------------------------------------------------------------------------------------------

/// Everything a bad request could change, as seen from outside the server.
#[derive(Debug, PartialEq)]
struct Snapshot {
    catalog: Vec<String>,
    tags: Vec<String>,
    /// Whether each watched repository has a row in the database.
    repositories: Vec<(String, bool)>,
    /// Every blob file, relative to the blob root.
    blob_files: BTreeSet<String>,
    /// Upload sessions and the bytes each holds.
    uploads: BTreeMap<String, u64>,
}

fn files_under(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(root, &path, out);
        } else {
            out.insert(path.strip_prefix(root).unwrap().display().to_string());
        }
    }
}

/// How a bad request travels.
#[derive(Clone, Copy)]
enum Transport {
    Http,
    /// Chunked, without a Content-Length.
    Streamed,
    /// Over a raw socket, announcing `announced` bytes of body.
    Raw {
        announced: usize,
    },
}

struct BadInput {
    what: &'static str,
    method: &'static str,
    /// The path; `{session}` stands for the location of a fresh upload session.
    path: String,
    authorization: Option<String>,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    transport: Transport,
    status: u16,
    code: &'static str,
}

impl Ctx {
    async fn snapshot(&self, repo: &str, watched: &[&str], token: &str) -> Snapshot {
        let blob_root = self.server.data_dir.join("blobs");
        let mut blob_files = BTreeSet::new();
        files_under(&blob_root, &blob_root, &mut blob_files);
        blob_files.retain(|f| !f.starts_with("_uploads"));
        let mut uploads = BTreeMap::new();
        for entry in std::fs::read_dir(blob_root.join("_uploads"))
            .unwrap()
            .flatten()
        {
            let size = std::fs::metadata(entry.path().join("data"))
                .map(|m| m.len())
                .unwrap_or(0);
            uploads.insert(entry.file_name().to_string_lossy().into_owned(), size);
        }
        let mut repositories = Vec::new();
        for name in watched {
            let exists = self
                .server
                .state
                .store
                .repository_exists(&RepoName::parse(name).unwrap())
                .await
                .unwrap();
            repositories.push((name.to_string(), exists));
        }
        Snapshot {
            catalog: self.catalog(token).await,
            tags: self.tags(repo, token).await,
            repositories,
            blob_files,
            uploads,
        }
    }

    async fn perform(&self, case: &BadInput, path: &str) -> Option<(u16, Option<String>)> {
        let mut headers = case.headers.clone();
        if let Some(value) = &case.authorization {
            headers.push(("authorization", value.clone()));
        }
        let body = case.body.clone();
        let mut builder = self.http.request(
            Method::from_bytes(case.method.as_bytes()).unwrap(),
            format!("{}{path}", self.server.url),
        );
        for (name, value) in &headers {
            builder = builder.header(*name, value);
        }
        let reply = match case.transport {
            Transport::Raw { announced } => {
                let request = RawRequest {
                    method: case.method,
                    path,
                    headers,
                    body: &body,
                    announced,
                };
                return raw_http(&self.server.host, &request).await;
            }
            Transport::Http => send(builder.body(body)).await,
            Transport::Streamed => send(builder.body(streamed(&body))).await,
        };
        Some((reply.status, reply.code()))
    }
}

/// Every bad request in the table gets the right status and code and leaves the registry
/// exactly as it found it: catalog, tags, repository rows, blob files and upload sessions.
async fn nothing_invalid_is_stored(backend: Backend) {
    let t = Ctx::start(backend).await;
    let repo = "bad/target";
    let watched = [repo, "bad/never"];
    let admin = t.admin(&[repo, "bad/never"]).await;
    let image = sample_image("bad-target");
    t.push(repo, &admin, &image, "v1").await;
    let minted = MintedTokens::new(&t, repo, &["pull", "push", "delete"]).await;
    let anonymous = t
        .server
        .token(None, &[format!("repository:{repo}:*").as_str()])
        .await;
    let bearer = |token: &str| Some(format!("Bearer {token}"));

    let payload: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    let payload_digest = sha256(&payload);
    let wrong_digest = sha256(b"not the payload");
    let orphan = sample_image("bad-orphan");
    let missing_child = index(vec![image.clone(), orphan.clone()]);
    let good = &image.manifest;
    let new_manifest = edited(good, |m| m["annotations"] = json!({"new": "manifest"}));
    let schema1 = br#"{"schemaVersion":1,"name":"bad/target","tag":"v2","fsLayers":[]}"#.to_vec();
    let unknown_type = edited(good, |m| {
        m["mediaType"] = json!("application/vnd.example.thing+json")
    });
    let oversized = manifest_of_size(good, MAX_MANIFEST_BYTES + 1);
    let uploads_path = format!("/v2/{repo}/blobs/uploads/");

    let case = |what, method, path: String, body: Vec<u8>, status, code| BadInput {
        what,
        method,
        path,
        authorization: bearer(&admin),
        headers: Vec::new(),
        body,
        transport: Transport::Http,
        status,
        code,
    };
    let manifest = |what, content_type: &str, body: Vec<u8>, status, code| BadInput {
        headers: vec![("content-type", content_type.to_string())],
        ..case(
            what,
            "PUT",
            format!("/v2/{repo}/manifests/v2"),
            body,
            status,
            code,
        )
    };
    let cases = vec![
        case(
            "upload: wrong digest",
            "POST",
            format!("{uploads_path}?digest={wrong_digest}"),
            payload.clone(),
            400,
            "DIGEST_INVALID",
        ),
        case(
            "upload: malformed digest",
            "POST",
            format!("{uploads_path}?digest=sha256:1234"),
            payload.clone(),
            400,
            "DIGEST_INVALID",
        ),
        case(
            "upload: md5 digest",
            "POST",
            format!("{uploads_path}?digest=md5:{}", "0".repeat(32)),
            payload.clone(),
            400,
            "UNSUPPORTED",
        ),
        case(
            "upload: digest-algorithm=md5",
            "POST",
            format!("{uploads_path}?digest-algorithm=md5"),
            Vec::new(),
            400,
            "UNSUPPORTED",
        ),
        BadInput {
            transport: Transport::Raw {
                announced: payload.len(),
            },
            ..case(
                "upload: truncated body",
                "POST",
                format!("{uploads_path}?digest={payload_digest}"),
                payload[..100].to_vec(),
                400,
                "BLOB_UPLOAD_INVALID",
            )
        },
        case(
            "closing PUT: wrong digest",
            "PUT",
            format!("{{session}}?digest={wrong_digest}"),
            payload.clone(),
            400,
            "DIGEST_INVALID",
        ),
        case(
            "closing PUT: no digest",
            "PUT",
            "{session}".into(),
            payload.clone(),
            400,
            "DIGEST_INVALID",
        ),
        BadInput {
            transport: Transport::Raw {
                announced: payload.len(),
            },
            ..case(
                "closing PUT: truncated body",
                "PUT",
                format!("{{session}}?digest={payload_digest}"),
                payload[..100].to_vec(),
                400,
                "BLOB_UPLOAD_INVALID",
            )
        },
        BadInput {
            headers: vec![("content-range", "5-104".into())],
            ..case(
                "closing PUT: final chunk out of order",
                "PUT",
                format!("{{session}}?digest={payload_digest}"),
                payload[..100].to_vec(),
                416,
                "BLOB_UPLOAD_INVALID",
            )
        },
        BadInput {
            headers: vec![("content-range", "bytes=abc".into())],
            ..case(
                "chunk: malformed Content-Range",
                "PATCH",
                "{session}".into(),
                payload[..100].to_vec(),
                400,
                "BLOB_UPLOAD_INVALID",
            )
        },
        BadInput {
            headers: vec![("content-range", "100-199".into())],
            ..case(
                "chunk: out of order",
                "PATCH",
                "{session}".into(),
                payload[..100].to_vec(),
                416,
                "BLOB_UPLOAD_INVALID",
            )
        },
        BadInput {
            headers: vec![("content-range", "0-499".into())],
            ..case(
                "chunk: Content-Range/Length disagree",
                "PATCH",
                "{session}".into(),
                payload[..100].to_vec(),
                400,
                "SIZE_INVALID",
            )
        },
        BadInput {
            headers: vec![("content-type", OCI_MANIFEST.into())],
            ..case(
                "name: uppercase",
                "PUT",
                "/v2/BAD/target/manifests/v1".into(),
                good.bytes.clone(),
                400,
                "NAME_INVALID",
            )
        },
        case(
            "name: 300 characters",
            "POST",
            format!(
                "/v2/{}/blobs/uploads/?digest={payload_digest}",
                "b".repeat(300)
            ),
            payload.clone(),
            400,
            "NAME_INVALID",
        ),
        BadInput {
            headers: vec![("content-type", OCI_MANIFEST.into())],
            transport: Transport::Raw {
                announced: good.bytes.len(),
            },
            ..case(
                "name: ../ traversal",
                "PUT",
                "/v2/../bad/target/manifests/v2".into(),
                good.bytes.clone(),
                400,
                "NAME_INVALID",
            )
        },
        manifest(
            "manifest: malformed JSON",
            OCI_MANIFEST,
            b"{\"schemaVersion\":2,".to_vec(),
            400,
            "MANIFEST_INVALID",
        ),
        manifest(
            "manifest: schema 1",
            "application/vnd.docker.distribution.manifest.v1+json",
            schema1,
            400,
            "UNSUPPORTED",
        ),
        manifest(
            "manifest: unknown media type",
            "application/vnd.example.thing+json",
            unknown_type.bytes.clone(),
            400,
            "UNSUPPORTED",
        ),
        manifest(
            "manifest: Content-Type contradicts mediaType",
            DOCKER_MANIFEST,
            new_manifest.bytes.clone(),
            400,
            "MANIFEST_INVALID",
        ),
        manifest(
            "manifest: over 4 MiB",
            OCI_MANIFEST,
            oversized.bytes.clone(),
            413,
            "MANIFEST_INVALID",
        ),
        BadInput {
            transport: Transport::Streamed,
            ..manifest(
                "manifest: over 4 MiB, streamed",
                OCI_MANIFEST,
                oversized.bytes.clone(),
                413,
                "MANIFEST_INVALID",
            )
        },
        BadInput {
            transport: Transport::Raw {
                announced: new_manifest.bytes.len(),
            },
            ..manifest(
                "manifest: truncated body",
                OCI_MANIFEST,
                new_manifest.bytes[..50].to_vec(),
                400,
                "MANIFEST_INVALID",
            )
        },
        manifest(
            "manifest: references a missing blob",
            OCI_MANIFEST,
            orphan.manifest.bytes.clone(),
            400,
            "MANIFEST_BLOB_UNKNOWN",
        ),
        manifest(
            "index: references a missing manifest",
            OCI_INDEX,
            missing_child.manifest.bytes.clone(),
            400,
            "MANIFEST_BLOB_UNKNOWN",
        ),
        BadInput {
            path: format!("/v2/{repo}/manifests/{wrong_digest}"),
            ..manifest(
                "manifest: PUT by a digest it does not have",
                OCI_MANIFEST,
                new_manifest.bytes.clone(),
                400,
                "DIGEST_INVALID",
            )
        },
        BadInput {
            authorization: Some(basic("admin", "wrong-password")),
            ..case(
                "credentials: wrong password",
                "GET",
                format!("/auth/token?service=berth&scope=repository:{repo}:pull,push,delete"),
                Vec::new(),
                401,
                "UNAUTHORIZED",
            )
        },
        BadInput {
            authorization: Some(basic("admin", ADMIN_PASSWORD)),
            ..manifest(
                "credentials: Basic sent to the registry",
                OCI_MANIFEST,
                new_manifest.bytes.clone(),
                401,
                "UNAUTHORIZED",
            )
        },
        BadInput {
            authorization: None,
            ..case(
                "token: none",
                "DELETE",
                format!("/v2/{repo}/manifests/v1"),
                Vec::new(),
                401,
                "UNAUTHORIZED",
            )
        },
        BadInput {
            authorization: bearer(&anonymous),
            ..case(
                "token: anonymous",
                "DELETE",
                format!("/v2/{repo}/manifests/v1"),
                Vec::new(),
                401,
                "UNAUTHORIZED",
            )
        },
        BadInput {
            authorization: bearer(&minted.expired),
            ..case(
                "token: expired",
                "DELETE",
                format!("/v2/{repo}/manifests/v1"),
                Vec::new(),
                401,
                "UNAUTHORIZED",
            )
        },
        BadInput {
            authorization: bearer(&minted.expired),
            ..case(
                "token: expired, pushing a blob",
                "POST",
                format!("{uploads_path}?digest={payload_digest}"),
                payload.clone(),
                401,
                "UNAUTHORIZED",
            )
        },
        BadInput {
            authorization: bearer(&minted.forged),
            ..case(
                "token: forged",
                "DELETE",
                format!("/v2/{repo}/manifests/v1"),
                Vec::new(),
                401,
                "UNAUTHORIZED",
            )
        },
        BadInput {
            authorization: bearer(&minted.tampered),
            ..manifest(
                "token: tampered",
                OCI_MANIFEST,
                new_manifest.bytes.clone(),
                401,
                "UNAUTHORIZED",
            )
        },
        BadInput {
            authorization: bearer(&minted.unsigned),
            ..case(
                "token: unsigned",
                "DELETE",
                format!("/v2/{repo}/blobs/{}", image.config.digest),
                Vec::new(),
                401,
                "UNAUTHORIZED",
            )
        },
    ];

    let backend = t.server.backend.name();
    println!(
        "\n{:<8} {:<46} {:>6}  {:<22} {:<10} store",
        "backend", "bad input", "status", "code", "session"
    );
    let mut failures = Vec::new();
    for case in &cases {
        // A case on an upload session gets a fresh one, opened before the "before" picture.
        let session = if case.path.contains("{session}") {
            Some(t.open_session(repo, &admin).await)
        } else {
            None
        };
        let session_id = session
            .as_ref()
            .map(|l| l.rsplit('/').next().unwrap().to_string());
        let path = case
            .path
            .replace("{session}", session.as_deref().unwrap_or(""));
        let mut before = t.snapshot(repo, &watched, &admin).await;
        let answer = t.perform(case, &path).await;
        // A request cut short may be answered only after cleaning up; wait until it settles.
        let mut after = t.snapshot(repo, &watched, &admin).await;
        for _ in 0..50 {
            let mut comparable = after.uploads.clone();
            if let Some(id) = &session_id {
                comparable.remove(id);
            }
            if answer.is_some() || comparable == before.uploads {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            after = t.snapshot(repo, &watched, &admin).await;
        }
        // The case's own session may be kept (with the bytes it held) or discarded.
        let session_state = match &session_id {
            None => "-",
            Some(id) => match (before.uploads.remove(id), after.uploads.remove(id)) {
                (Some(b), Some(a)) if a == b => "kept",
                (Some(_), None) => "discarded",
                _ => "CHANGED",
            },
        };
        // Neither the body as a manifest nor as a blob became reachable.
        let body_digest = sha256(&case.body);
        let leaked = !case.body.is_empty()
            && (t
                .head(&format!("/v2/{repo}/manifests/{body_digest}"), &admin)
                .await
                .status
                != 404
                || t.head(&format!("/v2/{repo}/blobs/{body_digest}"), &admin)
                    .await
                    .status
                    != 404)
            && body_digest != good.digest;
        let unchanged = before == after && session_state != "CHANGED" && !leaked;
        let (status, code) = match &answer {
            Some((status, code)) => (status.to_string(), code.clone().unwrap_or("-".into())),
            None => ("-".into(), "(closed)".into()),
        };
        let answered_right = answer
            .as_ref()
            .is_some_and(|(s, c)| *s == case.status && c.as_deref() == Some(case.code));
        println!(
            "{backend:<8} {:<46} {status:>6}  {code:<22} {session_state:<10} {}",
            case.what,
            if unchanged { "unchanged" } else { "CHANGED" }
        );
        if !answered_right {
            failures.push(format!(
                "{}: got {status} {code}, expected {} {}",
                case.what, case.status, case.code
            ));
        }
        if !unchanged {
            failures.push(format!(
                "{}: the store changed:\nbefore {before:?}\nafter  {after:?}",
                case.what
            ));
        }
    }
    // The good content is still served after all of it.
    t.expect_manifest(repo, &admin, "v1", good).await;
    assert!(
        failures.is_empty(),
        "bad inputs handled wrongly:\n{}",
        failures.join("\n")
    );
    t.stop().await;
}
