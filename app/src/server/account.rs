//! A user's own account: password and email changes, and deleting it with
//! everything it owns. Each needs the caller's login; changes of the password
//! or email need the current password too.

use super::access::{self, Login};
use super::auth::{hash_password, verify_password};
use super::state::{AppState, FileChange};
use super::{login, settings};
use crate::error::constraint_of;
use crate::wire::auth::{rules, User};
use crate::AppError;
use uuid::Uuid;

/// 403 unless `password` is the caller's (guests have none: they register). An
/// account made through a sign-in provider has none until it sets one, and sets
/// it without one.
async fn check_password(state: &AppState, me: &Login, password: String) -> Result<(), AppError> {
    if me.user.is_guest {
        return Err(AppError::forbidden(
            "a guest has no password: register to keep this account",
        ));
    }
    let hash: Option<String> = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(me.id)
        .fetch_one(&state.pool)
        .await?;
    if hash.is_none() {
        return Ok(());
    }
    if !verify_password(password, hash).await? {
        return Err(AppError::forbidden("the current password is not right"));
    }
    Ok(())
}

/// A new password; every other login of the user ends (their sockets close).
pub async fn change_password(
    state: &AppState,
    me: &Login,
    current: String,
    new: String,
) -> Result<(), AppError> {
    rules::password(&new)?;
    check_password(state, me, current).await?;
    let hash = hash_password(new).await?;
    let mut tx = state.pool.begin().await?;
    sqlx::query("UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1")
        .bind(me.id)
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
    super::auth::end_logins(&mut tx, me.id, Some(&me.token_hash)).await?;
    tx.commit().await?;
    tracing::info!(user = %me.user.username, "password changed; other logins ended");
    Ok(())
}

pub async fn change_email(
    state: &AppState,
    me: &Login,
    password: String,
    email: String,
) -> Result<User, AppError> {
    let email = email.trim().to_string();
    rules::email(&email)?;
    check_password(state, me, password).await?;
    sqlx::query("UPDATE users SET email = $2, updated_at = now() WHERE id = $1")
        .bind(me.id)
        .bind(&email)
        .execute(&state.pool)
        .await
        .map_err(|e| match constraint_of(&e) {
            Some("users_email_key") => AppError::conflict("that email is already registered"),
            _ => e.into(),
        })?;
    Ok(super::auth::user_by_id(&state.pool, me.id).await?.user())
}

/// A new username (the caller signs in with it from now on).
pub async fn change_username(
    state: &AppState,
    me: &Login,
    username: String,
) -> Result<User, AppError> {
    let username = username.trim().to_string();
    rules::username(&username)?;
    if me.user.is_guest {
        return Err(AppError::forbidden(
            "a guest registers to choose a username",
        ));
    }
    sqlx::query("UPDATE users SET username = $2, updated_at = now() WHERE id = $1")
        .bind(me.id)
        .bind(&username)
        .execute(&state.pool)
        .await
        .map_err(|e| match constraint_of(&e) {
            Some("users_username_key") => AppError::conflict("that username is taken"),
            _ => e.into(),
        })?;
    tracing::info!(from = %me.user.username, to = %username, "username changed");
    Ok(super::auth::user_by_id(&state.pool, me.id).await?.user())
}

/// Deletes the account and every session it owns (their sandboxes stop, their
/// collaborators lose them); `confirm` must be the username.
pub async fn delete(state: &AppState, me: &Login, confirm: &str) -> Result<(), AppError> {
    if confirm.trim() != me.user.username {
        return Err(AppError::invalid(
            "type your username to confirm deleting your account",
        ));
    }
    let mut tx = state.pool.begin().await?;
    let owned: Vec<Uuid> = sqlx::query_scalar(
        "SELECT s.uuid FROM code_sessions s
         JOIN session_roles r ON r.session_id = s.id AND r.user_id = $1 AND r.role = 'owner'",
    )
    .bind(me.id)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(me.id)
        .execute(&mut *tx)
        .await?;
    for s in &owned {
        access::announce(&mut *tx, &access::Change::Session(*s)).await?;
    }
    access::announce(&mut *tx, &access::Change::User(me.id)).await?;
    tx.commit().await?;
    for s in owned {
        state.hooks.changed(s, FileChange::SessionDeleted).await;
    }
    login::set_cookie(state, "", 0);
    settings::send(state, None);
    tracing::info!(user = %me.user.username, "account deleted");
    Ok(())
}
