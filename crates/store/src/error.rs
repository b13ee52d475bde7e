#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was violated; the message names what already exists.
    #[error("{0}")]
    Conflict(String),
    /// Something a change refers to does not exist; the message names it.
    #[error("{0}")]
    Missing(String),
    /// A manifest references blobs or manifests that the repository does not hold.
    #[error("manifest references content unknown to the repository: {}", .0.join(", "))]
    MissingReferences(Vec<String>),
    #[error("database URL is not usable: {0}")]
    BadUrl(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// Turns a unique-constraint violation into a `Conflict` with a message for the caller.
    pub(crate) fn on_unique(error: sqlx::Error, message: impl FnOnce() -> String) -> StoreError {
        match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(message())
            }
            _ => StoreError::Database(error),
        }
    }
}
