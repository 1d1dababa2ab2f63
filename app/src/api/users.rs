//! `/api/users/*`: what users set about each other (reviewer levels).

use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// Sets `user`'s (a username or email) reviewer level: 0 (not a reviewer), 1
/// (junior) or 2 (senior). Seniors set anyone's; others their own, to 0 or 1.
#[server(prefix = "/api", endpoint = "users/set_reviewer_level", input = Json)]
pub async fn set_reviewer_level(user: String, level: i16) -> Result<i16, AppError> {
    let (state, me) = crate::server::access::caller().await?;
    crate::server::reviews::set_level(&state.pool, &me, &user, level).await
}
