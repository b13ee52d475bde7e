//! The REST API at `/api/v1` (docs/api-contract.md is the contract).
//!
//! Every route is registered through `utoipa_axum::routes!` from a handler annotated with
//! `#[utoipa::path]`, so the router and the OpenAPI document are built from the same
//! declarations and cannot drift apart. The document is served at `/openapi.json` and
//! browsable at `/docs` (Swagger UI, its assets compiled into the binary).
//!
//! **Invariant:** each handler authenticates through the [`caller::Caller`] extractor,
//! authorizes through `Caller`'s checks, validates input with [`input`], and makes each change
//! with one store call that writes the change and its audit event in one transaction.

use std::sync::Arc;

use axum::extract::Extension;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::ApiState;

mod audit;
pub(crate) mod caller;
pub mod error;
mod events;
mod images;
pub(crate) mod input;
mod pull_secrets;
mod push_commands;
mod registries;
mod robots;
mod scans;
mod session;
mod settings;
mod spaces;
mod uploads;
mod users;
mod workspaces;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Berth REST API",
        description = "Workspaces, registries, spaces, bindings, robots, users, tarball uploads and the audit log of a Berth deployment. \
            Authenticate with `Authorization: Bearer <token>` from `POST /auth/login`, or with HTTP Basic as a user or robot."
    ),
    servers((url = "/api/v1")),
    tags(
        (name = "session", description = "Signing in, and who the caller is"),
        (name = "users", description = "User accounts (platform admins)"),
        (name = "workspaces", description = "Workspaces and the spaces bound to them"),
        (name = "members", description = "Workspace members and their roles"),
        (name = "registries", description = "`hosted` and the platform registries"),
        (name = "spaces", description = "Spaces of platform registries"),
        (name = "bindings", description = "Which workspaces a space is bound to"),
        (name = "workspace registries", description = "Registries only one workspace sees"),
        (name = "robots", description = "Robot accounts of a workspace"),
        (name = "images", description = "The workspace image list, image details and the image selector"),
        (name = "scans", description = "Vulnerability scans of images: starting and stopping them, reports and logs"),
        (name = "push commands", description = "Lines that push into a space with each common client, with optional temporary logins"),
        (name = "pull secrets", description = "Kubernetes pull secrets backed by pull-only robots"),
        (name = "audit", description = "Who changed what, when, and from where"),
        (name = "settings", description = "Deployment-wide settings"),
        (name = "uploads", description = "Importing `docker save` and OCI layout tarballs into the hosted registry"),
        (name = "documentation", description = "This document and its browsable page"),
    ),
    modifiers(&Security),
    security(("bearer" = []), ("basic" = [])),
    components(schemas(berth_api_types::ErrorBody))
)]
struct ApiDoc;

/// Declares the two ways to authenticate.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
        );
    }
}

/// The API's routes together with their OpenAPI description.
fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(session::login))
        .routes(routes!(session::me))
        .routes(routes!(users::list_users, users::create_user))
        .routes(routes!(
            users::get_user,
            users::update_user,
            users::delete_user
        ))
        .routes(routes!(
            workspaces::list_workspaces,
            workspaces::create_workspace
        ))
        .routes(routes!(
            workspaces::get_workspace,
            workspaces::update_workspace,
            workspaces::delete_workspace
        ))
        .routes(routes!(workspaces::list_members))
        .routes(routes!(workspaces::set_member, workspaces::remove_member))
        .routes(routes!(workspaces::list_workspace_spaces))
        .routes(routes!(
            registries::list_platform,
            registries::create_platform
        ))
        .routes(routes!(
            registries::get_platform,
            registries::update_platform,
            registries::delete_platform
        ))
        .routes(routes!(registries::check_health))
        .routes(routes!(
            registries::start_platform_sync,
            registries::platform_sync_status,
            registries::cancel_platform_sync
        ))
        .routes(routes!(registries::check_workspace_health))
        .routes(routes!(registries::platform_event_secret))
        .routes(routes!(registries::workspace_event_secret))
        .routes(routes!(events::receive))
        .routes(routes!(
            registries::start_workspace_sync,
            registries::workspace_sync_status,
            registries::cancel_workspace_sync
        ))
        .routes(routes!(spaces::list_spaces, spaces::create_space))
        .routes(routes!(
            spaces::get_space,
            spaces::update_space,
            spaces::delete_space
        ))
        .routes(routes!(spaces::get_bindings, spaces::set_bindings))
        .routes(routes!(
            registries::list_workspace,
            registries::create_workspace
        ))
        .routes(routes!(
            registries::get_workspace,
            registries::update_workspace,
            registries::delete_workspace
        ))
        .routes(routes!(robots::list_robots, robots::create_robot))
        .routes(routes!(robots::update_robot, robots::delete_robot))
        .routes(routes!(images::list_images))
        .routes(routes!(
            images::get_repository,
            images::update_repository,
            images::delete_repository
        ))
        .routes(routes!(images::list_tags))
        .routes(routes!(images::delete_tag))
        .routes(routes!(images::get_artifact, images::delete_artifact))
        .routes(routes!(images::selector))
        .routes(routes!(scans::start_scan, scans::stop_scan))
        .routes(routes!(scans::vulnerabilities))
        .routes(routes!(scans::scan_log))
        .routes(routes!(scans::get_sbom, scans::attach_sbom))
        .routes(routes!(registries::scan_registry))
        .routes(routes!(push_commands::push_command))
        .routes(routes!(pull_secrets::pull_secret))
        .routes(routes!(audit::list_audit))
        .routes(routes!(settings::get_settings, settings::update_settings))
        // Tarballs are far bigger than the JSON bodies the API's default limit is meant for.
        .routes(
            routes!(uploads::upload).layer(axum::extract::DefaultBodyLimit::max(
                uploads::UPLOAD_BODY_LIMIT,
            )),
        )
        .routes(routes!(openapi_json))
        .routes(routes!(docs))
}

/// The generated OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().into_openapi()
}

pub fn router() -> Router<ApiState> {
    let (router, document) = routes().split_for_parts();
    let document = Document(Arc::from(
        document
            .to_pretty_json()
            .expect("the OpenAPI document serialises"),
    ));
    router
        .route("/docs/", get(docs_file))
        .route("/docs/{*file}", get(docs_file))
        // Unknown API paths answer in the API's error shape, not with an empty 404.
        .fallback(|| async { error::ApiError::not_found("API path") })
        .layer(Extension(document))
}

/// The OpenAPI document as JSON, rendered once at start.
#[derive(Clone)]
struct Document(Arc<str>);

/// The OpenAPI document of this API.
#[utoipa::path(get, path = "/openapi.json", tag = "documentation", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
async fn openapi_json(Extension(Document(document)): Extension<Document>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        document.to_string(),
    )
        .into_response()
}

/// A browsable page of the document (Swagger UI). Answers a redirect to `docs/`, under which
/// the page's relative asset links resolve.
#[utoipa::path(get, path = "/docs", tag = "documentation", security(()),
    responses((status = 303, description = "Redirect to the page at `docs/`")))]
async fn docs() -> Redirect {
    // Relative, so it holds wherever the API is mounted.
    Redirect::to("docs/")
}

/// The Swagger UI page and its assets, configured to load `../openapi.json`.
async fn docs_file(file: Option<axum::extract::Path<String>>) -> Response {
    let file = file
        .map(|axum::extract::Path(file)| file)
        .unwrap_or_default();
    let config = Arc::new(utoipa_swagger_ui::Config::new(["../openapi.json"]));
    match utoipa_swagger_ui::serve(&file, config) {
        Ok(Some(asset)) => (
            [(header::CONTENT_TYPE, asset.content_type)],
            asset.bytes.into_owned(),
        )
            .into_response(),
        Ok(None) => {
            error::ApiError::not_found(format_args!("documentation file `{file}`")).into_response()
        }
        Err(e) => {
            error::ApiError::Internal(anyhow::anyhow!("serving Swagger UI: {e}")).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn document_builds() {
        let document = super::openapi();
        assert!(document
            .paths
            .paths
            .contains_key("/workspaces/{ws}/robots/{robot}"));
        assert!(document
            .paths
            .paths
            .contains_key("/workspaces/{ws}/registries/hosted/spaces/{space}/uploads"));
    }
}
