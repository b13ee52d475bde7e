use sqlx::Row;

use crate::{now_millis, Store, StoreError};

#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub email: Option<String>,
    pub is_admin: bool,
    pub disabled: bool,
    pub created_at: i64,
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub password_hash: &'a str,
    pub email: Option<&'a str>,
    pub is_admin: bool,
}

impl Store {
    pub async fn create_user(&self, user: NewUser<'_>) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO users (username, password_hash, email, is_admin, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(user.username)
        .bind(user.password_hash)
        .bind(user.email)
        .bind(i64::from(user.is_admin))
        .bind(now_millis())
        .fetch_one(&self.writer)
        .await
        .map_err(|e| {
            StoreError::on_unique(e, || format!("user `{}` already exists", user.username))
        })?;
        Ok(row.try_get("id")?)
    }

    pub async fn find_user(&self, username: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(
            "SELECT id, username, password_hash, email, is_admin, disabled, created_at \
             FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(&self.reader)
        .await?;
        row.map(|row| -> Result<User, sqlx::Error> {
            Ok(User {
                id: row.try_get("id")?,
                username: row.try_get("username")?,
                password_hash: row.try_get("password_hash")?,
                email: row.try_get("email")?,
                is_admin: row.try_get::<i64, _>("is_admin")? != 0,
                disabled: row.try_get::<i64, _>("disabled")? != 0,
                created_at: row.try_get("created_at")?,
            })
        })
        .transpose()
        .map_err(StoreError::from)
    }
}
