//! `/api/ai/*`: the assistant. The caller's own keys (set, list, delete: never
//! read back), their usage, and questions about a session's code: asking needs
//! the write capability there (a viewer sends no one's files anywhere), the
//! answer streams at `GET /ai/stream/{message}`, and conversations are their
//! author's alone.

use crate::wire::assistant::{
    AssistantOptions, ChatContext, ChatMessage, ChatStarted, ConversationInfo, KeyInfo, Usage,
};
use crate::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use uuid::Uuid;

#[cfg(feature = "ssr")]
use crate::{
    server::{
        access,
        assistant::{chat, keys, usage},
    },
    wire::access::Capability,
};

/// Saves a key for `provider` (`openai`: any OpenAI-compatible API at
/// `base_url`; `anthropic`), sealed; answers with how it is shown from now on.
#[server(prefix = "/api", endpoint = "ai/keys/set", input = Json)]
pub async fn set_key(
    provider: String,
    base_url: Option<String>,
    model: Option<String>,
    label: String,
    key: String,
) -> Result<KeyInfo, AppError> {
    let (state, me) = access::caller().await?;
    let new = keys::NewKey {
        provider,
        base_url,
        model,
        label,
        key,
    };
    keys::set(&state.pool, &state.settings.assistant, me.id, new).await
}

#[server(prefix = "/api", endpoint = "ai/keys/list", input = Json)]
pub async fn list_keys() -> Result<Vec<KeyInfo>, AppError> {
    let (state, me) = access::caller().await?;
    keys::list(&state.pool, me.id).await
}

#[server(prefix = "/api", endpoint = "ai/keys/delete", input = Json)]
pub async fn delete_key(id: Uuid) -> Result<(), AppError> {
    let (state, me) = access::caller().await?;
    keys::delete(&state.pool, me.id, id).await
}

/// The server's default model (with the caller's allowance) and the context cap.
#[server(prefix = "/api", endpoint = "ai/options", input = Json)]
pub async fn options() -> Result<AssistantOptions, AppError> {
    let (state, me) = access::caller().await?;
    let a = &state.settings.assistant;
    let quota = usage::default_quota(&state, me.id).await?;
    let default_model = a.default_model.as_ref().zip(quota).map(|(d, quota)| {
        crate::wire::assistant::DefaultModel {
            provider: d.provider,
            model: d.model.clone(),
            quota,
        }
    });
    Ok(AssistantOptions {
        default_model,
        context_cap: a.context_cap,
    })
}

/// Asks about `session`'s code, in `conversation` or a new one, with the chosen
/// context, on key `key` (or the caller's newest, or the server's model).
#[server(prefix = "/api", endpoint = "ai/chat", input = Json)]
pub async fn chat(
    session: Uuid,
    conversation: Option<Uuid>,
    message: String,
    context: Option<ChatContext>,
    key: Option<Uuid>,
) -> Result<ChatStarted, AppError> {
    let (state, g) = access::session(session, Capability::Write).await?;
    let conversation = match conversation {
        Some(c) => {
            let (_, in_conversation, id) = access::conversation(c, Capability::Write).await?;
            if in_conversation.session != g.session {
                return Err(AppError::not_found("no such conversation"));
            }
            Some(id)
        }
        None => None,
    };
    let context = context.unwrap_or_default();
    chat::ask(&state, &g, conversation, &message, &context, key).await
}

/// Stops an answer; what came until then is kept.
#[server(prefix = "/api", endpoint = "ai/stop", input = Json)]
pub async fn stop(id: Uuid) -> Result<(), AppError> {
    let (state, _) = access::answer(id, Capability::Read).await?;
    chat::stop(&state, id).await
}

/// The caller's conversations in `session`, newest first.
#[server(prefix = "/api", endpoint = "ai/conversations", input = Json)]
pub async fn conversations(session: Uuid) -> Result<Vec<ConversationInfo>, AppError> {
    let (state, g) = access::session(session, Capability::Read).await?;
    chat::conversations(&state.pool, g.session_id, g.login.id).await
}

/// A conversation's questions and answers, oldest first.
#[server(prefix = "/api", endpoint = "ai/messages", input = Json)]
pub async fn messages(conversation: Uuid) -> Result<Vec<ChatMessage>, AppError> {
    let (state, _, id) = access::conversation(conversation, Capability::Read).await?;
    chat::messages(&state.pool, id).await
}

/// The caller's requests, tokens and cost, today and in all, and their
/// allowance with the server's model.
#[server(prefix = "/api", endpoint = "ai/usage", input = Json)]
pub async fn get_usage() -> Result<Usage, AppError> {
    let (state, me) = access::caller().await?;
    let since = usage::next_reset(chrono::Utc::now()) - chrono::Duration::days(1);
    let quota = usage::default_quota(&state, me.id).await?;
    Ok(Usage {
        today: usage::totals(&state.pool, me.id, Some(since)).await?,
        all_time: usage::totals(&state.pool, me.id, None).await?,
        quota,
    })
}
