//! `/auth/token`: the Docker token service. Clients authenticate with HTTP Basic (GET) or an
//! OAuth2 password grant (POST) and receive a signed token with the scopes [`berth_access`]
//! grants them.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_access::{Scope, Subject};
use berth_identity::principals;
use serde_json::json;

use crate::v2::form_pairs;
use crate::RegistryState;

/// A failed token request. The body uses the registry's error envelope so that clients that
/// print registry errors show the message.
pub struct TokenError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl TokenError {
    fn unauthorized(message: &str) -> TokenError {
        TokenError {
            status: StatusCode::UNAUTHORIZED,
            code: "UNAUTHORIZED",
            message: message.into(),
        }
    }

    /// A scope naming a repository that `/v2` would refuse. The code is the one `/v2` answers
    /// for that name, so a client reports the same problem whichever it reaches first.
    fn invalid_name(scope: &str, error: berth_oci::NameError) -> TokenError {
        TokenError {
            status: StatusCode::BAD_REQUEST,
            code: "NAME_INVALID",
            message: format!(
                "invalid scope `{}`: {error}",
                scope.chars().take(300).collect::<String>()
            ),
        }
    }

    fn bad_request(message: String) -> TokenError {
        TokenError {
            status: StatusCode::BAD_REQUEST,
            code: "UNSUPPORTED",
            message,
        }
    }
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let body = json!({"errors": [{"code": self.code, "message": self.message}]});
        let mut response = (self.status, Json(body)).into_response();
        // Every 401 must name a scheme to authenticate with (RFC 9110 15.5.2); here it is
        // Basic, the one `GET /auth/token` takes.
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Basic realm=\"berth\""),
            );
        }
        response
    }
}

impl From<anyhow::Error> for TokenError {
    fn from(error: anyhow::Error) -> TokenError {
        tracing::error!(error = %error, "token request failed");
        TokenError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "UNKNOWN",
            message: "internal error".into(),
        }
    }
}

/// `GET /auth/token?service=berth&scope=…` with optional HTTP Basic credentials.
pub async fn get_token(
    State(state): State<RegistryState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, TokenError> {
    let params = form_pairs(query.as_deref().unwrap_or(""));
    let scopes: Vec<&str> = params
        .iter()
        .filter(|(k, _)| k == "scope")
        .flat_map(|(_, v)| v.split(' '))
        .collect();
    let credentials = basic_credentials(&headers)?;
    issue(&state, credentials, &scopes).await
}

/// `POST /auth/token` with an OAuth2 `grant_type=password` form, as containerd and buildkit
/// send it.
pub async fn post_token(
    State(state): State<RegistryState>,
    body: String,
) -> Result<Response, TokenError> {
    let params = form_pairs(&body);
    let get = |key: &str| {
        params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let scopes_text = get("scope").unwrap_or_default();
    let scopes: Vec<&str> = scopes_text.split(' ').collect();
    match get("grant_type").as_deref() {
        Some("password") => {
            let (Some(username), Some(password)) = (get("username"), get("password")) else {
                return Err(TokenError::bad_request("the password grant needs username and password".into()));
            };
            issue(&state, Some((username, password)), &scopes).await
        }
        Some(other) => Err(TokenError::bad_request(format!(
            "grant_type `{other}` is not supported; use `password`, or GET with Basic authentication"
        ))),
        None => Err(TokenError::bad_request("grant_type is required".into())),
    }
}

async fn issue(
    state: &RegistryState,
    credentials: Option<(String, String)>,
    scopes: &[&str],
) -> Result<Response, TokenError> {
    let requested = scopes
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| {
            let scope = Scope::parse(s).map_err(|e| TokenError::bad_request(e.to_string()))?;
            // A token for a name `/v2` refuses could never be used, and granting it would
            // let the rule and auto-create reason about names nothing can hold.
            if let Scope::Repository { name, .. } = &scope {
                berth_oci::RepoName::parse(name).map_err(|e| TokenError::invalid_name(s, e))?;
            }
            Ok(scope)
        })
        .collect::<Result<Vec<_>, TokenError>>()?;
    let (subject, credential, expires_at) = match credentials {
        None => (Subject::Anonymous, String::new(), None),
        Some((username, password)) => {
            let signed_in =
                principals::authenticate(&state.store, &state.passwords, &username, &password)
                    .await
                    .map_err(anyhow::Error::from)?
                    .ok_or_else(|| TokenError::unauthorized("incorrect username or password"))?;
            (
                signed_in.subject,
                signed_in.credential,
                signed_in.expires_at,
            )
        }
    };
    let repositories = requested.iter().filter_map(|scope| match scope {
        Scope::Repository { name, .. } => Some(name.as_str()),
        Scope::Catalog => None,
    });
    let facts = principals::facts_for(&state.store, repositories)
        .await
        .map_err(anyhow::Error::from)?;
    let granted = berth_access::grant(&subject, &facts, &requested);
    create_missing_spaces(state, &subject, &facts, &granted).await?;
    let (token, claims) = state.tokens.issue_until(
        subject.name(),
        &credential,
        &granted,
        expires_at.map(|ms| ms.div_euclid(1000)),
    )?;
    let issued_at = time::OffsetDateTime::from_unix_timestamp(claims.iat)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        });
    Ok(Json(json!({
        "token": token,
        "access_token": token,
        "expires_in": claims.exp - claims.iat,
        "issued_at": issued_at,
    }))
    .into_response())
}

/// A push granted into a space that does not exist yet (the rule grants it only to platform
/// admins with auto-create on) creates the space now, private and unbound, so that the push
/// lands in a real space.
async fn create_missing_spaces(
    state: &RegistryState,
    subject: &Subject,
    facts: &berth_access::Facts,
    granted: &[Scope],
) -> Result<(), TokenError> {
    for scope in granted {
        let Scope::Repository { name, actions } = scope else {
            continue;
        };
        let space = berth_oci::space_of(name);
        // Auto-created spaces obey the same naming rule as spaces made through the API.
        let well_named = berth_oci::is_resource_name(space);
        if actions.contains(&berth_access::Action::Push)
            && !facts.repositories.contains_key(name)
            && well_named
        {
            let target = format!("hosted/{space}");
            let audit = berth_store::audit::NewAuditEvent {
                actor: subject.name(),
                action: "space.auto_create",
                target: &target,
                ..Default::default()
            };
            state
                .store
                .create_hosted_space_if_missing(space, &audit)
                .await
                .map_err(anyhow::Error::from)?;
        }
    }
    Ok(())
}

fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, TokenError> {
    let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || TokenError::unauthorized("malformed Basic credentials");
    let value = value.to_str().map_err(|_| malformed())?;
    let Some(encoded) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    else {
        return Err(TokenError::unauthorized(
            "the token endpoint takes HTTP Basic credentials",
        ));
    };
    berth_http::decode_basic(encoded)
        .map(Some)
        .ok_or_else(malformed)
}
