//! The REST API at `/api/v1` (see docs/api-contract.md). Being built.

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
