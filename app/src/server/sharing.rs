//! Collaborators: the owner (or an admin) gives other registered users a role on
//! a session. Who may change what is decided by the grant and the rules here;
//! every change is announced so the affected sockets and pages re-check at once.

use super::access::{self, Change, Grant};
use crate::wire::access::{Capability, Role};
use crate::wire::sharing::Share;
use crate::AppError;
use sqlx::PgPool;

/// Everyone with access, the owner first.
pub async fn list(pool: &PgPool, sid: i64) -> Result<Vec<Share>, AppError> {
    Ok(sqlx::query_as(
        "SELECT u.username AS user, r.role FROM session_roles r JOIN users u ON u.id = r.user_id
         WHERE r.session_id = $1
         ORDER BY r.role = 'owner' DESC, lower(u.username)",
    )
    .bind(sid)
    .fetch_all(pool)
    .await?)
}

/// A registered user by username or email; guests and unknown names alike are
/// "no such user", so the answer tells nothing about who has an account.
async fn find_user(pool: &PgPool, who: &str) -> Result<(i64, String), AppError> {
    let who = who.trim();
    sqlx::query_as(
        "SELECT id, username FROM users
         WHERE NOT is_guest AND (lower(username) = lower($1) OR lower(email) = lower($1))",
    )
    .bind(who)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::not_found(format!("no such user: {who}")))
}

async fn role_of(pool: &PgPool, sid: i64, user: i64) -> Result<Option<Role>, AppError> {
    Ok(
        sqlx::query_scalar("SELECT role FROM session_roles WHERE session_id = $1 AND user_id = $2")
            .bind(sid)
            .bind(user)
            .fetch_optional(pool)
            .await?,
    )
}

/// Only the owner changes or removes an admin.
fn may_change(g: &Grant, current: Option<Role>, name: &str) -> Result<(), AppError> {
    if current == Some(Role::Admin) && g.role != Role::Owner {
        return Err(AppError::forbidden(format!(
            "{name} is an admin of this session: only the owner changes or removes an admin"
        )));
    }
    Ok(())
}

/// Gives `who` (a username or an email) `role`, or changes theirs.
pub async fn set(pool: &PgPool, g: &Grant, who: &str, role: Role) -> Result<Vec<Share>, AppError> {
    g.require(Capability::Manage)?;
    if !Role::SHARED.contains(&role) {
        return Err(AppError::invalid(
            "a collaborator's role is viewer, editor or admin",
        ));
    }
    let (user, name) = find_user(pool, who).await?;
    if user == g.login.id {
        return Err(AppError::invalid("you cannot change your own access"));
    }
    if user == g.owner_id {
        return Err(AppError::invalid(format!(
            "{name} owns this session and has every right already"
        )));
    }
    may_change(g, role_of(pool, g.session_id, user).await?, &name)?;
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO session_collaborators (session_id, user_id, role, invited_by)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (session_id, user_id) DO UPDATE SET role = EXCLUDED.role, updated_at = now()",
    )
    .bind(g.session_id)
    .bind(user)
    .bind(role)
    .bind(g.login.id)
    .execute(&mut *tx)
    .await?;
    access::announce(&mut *tx, &Change::Session(g.session)).await?;
    tx.commit().await?;
    tracing::info!(session = %g.session, user = %name, role = role.id(), "shared");
    list(pool, g.session_id).await
}

/// Takes `who`'s access away. Anyone may leave a session shared with them;
/// removing someone else needs the manage capability.
pub async fn remove(pool: &PgPool, g: &Grant, who: &str) -> Result<Vec<Share>, AppError> {
    let not_collaborator = || {
        AppError::not_found(format!(
            "{} is not a collaborator of this session",
            who.trim()
        ))
    };
    let (user, name) = match find_user(pool, who).await {
        Ok(found) => found,
        Err(e) if e.error == crate::ErrorCode::NotFound => return Err(not_collaborator()),
        Err(e) => return Err(e),
    };
    if user != g.login.id {
        g.require(Capability::Manage)?;
    }
    let current = role_of(pool, g.session_id, user).await?;
    match current {
        None => return Err(not_collaborator()),
        Some(Role::Owner) if user == g.login.id => {
            return Err(AppError::invalid(
                "the owner cannot leave their own session; delete it instead",
            ))
        }
        Some(Role::Owner) => {
            return Err(AppError::forbidden("the owner's access cannot be removed"))
        }
        Some(_) if user == g.login.id => {}
        Some(_) => may_change(g, current, &name)?,
    }
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM session_collaborators WHERE session_id = $1 AND user_id = $2")
        .bind(g.session_id)
        .bind(user)
        .execute(&mut *tx)
        .await?;
    access::announce(&mut *tx, &Change::Session(g.session)).await?;
    tx.commit().await?;
    tracing::info!(session = %g.session, user = %name, "access removed");
    if user == g.login.id {
        return Ok(Vec::new());
    }
    list(pool, g.session_id).await
}
