use crate::audit::{insert_audit, NewAuditEvent};
use crate::tenancy::Page;
use crate::values::Flag;
use crate::{now_millis, Store, StoreError};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub email: Option<String>,
    #[sqlx(try_from = "Flag")]
    pub is_admin: bool,
    #[sqlx(try_from = "Flag")]
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
    /// Creates a user without an audit event: the bootstrap admin, made before anyone acts.
    pub async fn create_user(&self, user: NewUser<'_>) -> Result<i64, StoreError> {
        let mut conn = self.writer.acquire().await?;
        Ok(insert_user(&mut conn, &user).await?.id)
    }

    pub async fn find_user(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(&self.reader)
        .await?)
    }
}

/// A change to a user; fields left `None` keep their value.
#[derive(Debug, Clone, Default)]
pub struct UserChange<'a> {
    /// `Some(None)` clears the email address.
    pub email: Option<Option<&'a str>>,
    pub disabled: Option<bool>,
    pub is_admin: Option<bool>,
    /// A new password hash: a reset by a platform admin.
    pub password_hash: Option<&'a str>,
}

const USER_COLUMNS: &str = "id, username, password_hash, email, is_admin, disabled, created_at";

impl Store {
    /// Creates a user and records `audit` in the same transaction.
    pub async fn create_user_audited(
        &self,
        user: NewUser<'_>,
        audit: &NewAuditEvent<'_>,
    ) -> Result<User, StoreError> {
        let mut tx = self.begin_write().await?;
        let created = insert_user(&mut tx, &user).await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        self.changes.principals_changed();
        Ok(created)
    }

    /// Users by name after `after`, at most `limit`, with the total count.
    pub async fn users(&self, after: &str, limit: i64) -> Result<Page<User>, StoreError> {
        let items = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username > $1 ORDER BY username LIMIT $2"
        ))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.reader)
        .await?;
        let total = sqlx::query_scalar("SELECT COUNT(*) AS n FROM users")
            .fetch_one(&self.reader)
            .await?;
        Ok(Page { items, total })
    }

    /// Applies `change` to user `username` and records `audit`, in one transaction. `None`
    /// when the user does not exist. A change that would leave no enabled platform admin is
    /// refused with `Conflict` and changes nothing, so the platform cannot lock itself out.
    pub async fn update_user(
        &self,
        username: &str,
        change: &UserChange<'_>,
        audit: &NewAuditEvent<'_>,
    ) -> Result<Option<User>, StoreError> {
        let mut tx = self.begin_write().await?;
        lock_admins(&mut tx).await?;
        let updated: Option<User> = sqlx::query_as(&format!(
            "UPDATE users SET \
             email = CASE WHEN $1 = 1 THEN $2 ELSE email END, \
             disabled = COALESCE($3, disabled), \
             is_admin = COALESCE($4, is_admin), \
             password_hash = COALESCE($5, password_hash) \
             WHERE username = $6 RETURNING {USER_COLUMNS}"
        ))
        .bind(i64::from(change.email.is_some()))
        .bind(change.email.flatten())
        .bind(change.disabled.map(i64::from))
        .bind(change.is_admin.map(i64::from))
        .bind(change.password_hash)
        .bind(username)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(updated) = updated else {
            return Ok(None);
        };
        ensure_an_admin_remains(&mut tx).await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        self.changes.principals_changed();
        Ok(Some(updated))
    }

    /// Deletes user `username` (their memberships go with them) and records `audit`, in one
    /// transaction. Returns whether the user existed. Deleting the last enabled platform
    /// admin is refused with `Conflict`.
    pub async fn delete_user(
        &self,
        username: &str,
        audit: &NewAuditEvent<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        lock_admins(&mut tx).await?;
        let result = sqlx::query("DELETE FROM users WHERE username = $1")
            .bind(username)
            .execute(&mut *tx)
            .await?;
        if result.rows_affected() == 0 {
            return Ok(false);
        }
        ensure_an_admin_remains(&mut tx).await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        self.changes.principals_changed();
        Ok(true)
    }
}

async fn insert_user(
    conn: &mut sqlx::AnyConnection,
    user: &NewUser<'_>,
) -> Result<User, StoreError> {
    sqlx::query_as(&format!(
        "INSERT INTO users (username, password_hash, email, is_admin, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING {USER_COLUMNS}"
    ))
    .bind(user.username)
    .bind(user.password_hash)
    .bind(user.email)
    .bind(i64::from(user.is_admin))
    .bind(now_millis())
    .fetch_one(conn)
    .await
    .map_err(|e| StoreError::on_unique(e, || format!("user `{}` already exists", user.username)))
}

/// Locks every admin row, so that changes that could remove the last admin run one after the
/// other: on PostgreSQL two concurrent transactions would otherwise each count the other's
/// admin as remaining, and both commit. (SQLite's single writer already serialises them.)
async fn lock_admins(conn: &mut sqlx::AnyConnection) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET is_admin = is_admin WHERE is_admin = 1")
        .execute(conn)
        .await?;
    Ok(())
}

/// Fails with `Conflict` when no enabled platform admin would remain; the caller's
/// transaction then rolls back when it is dropped.
async fn ensure_an_admin_remains(conn: &mut sqlx::AnyConnection) -> Result<(), StoreError> {
    let admins: i64 =
        sqlx::query_scalar("SELECT COUNT(*) AS n FROM users WHERE is_admin = 1 AND disabled = 0")
            .fetch_one(conn)
            .await?;
    if admins == 0 {
        return Err(StoreError::Conflict(
            "the platform must keep at least one enabled platform admin".into(),
        ));
    }
    Ok(())
}
