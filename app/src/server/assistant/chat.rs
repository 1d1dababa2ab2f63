//! Conversations: a question is stored with what it sent, its answer is made at
//! once as `streaming` and filled by a task that streams the model's reply into
//! the live table (for readers here) and into the row (for readers on other
//! replicas, and for good), then logs the request. Stopping works from any
//! replica: the row says `stopped`, which the task sees at its next write.

use super::egress::Checked;
use super::live::Writer;
use super::models::{self, Failure, Used};
use super::{context, keys, usage, Assistant};
use crate::server::access::Grant;
use crate::server::state::AppState;
use crate::wire::assistant::{
    AnswerStatus, ChatContext, ChatMessage, ChatStarted, ConversationInfo, ModelProvider, SentPart,
};
use crate::AppError;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Longest question, in characters.
pub const MAX_MESSAGE_CHARS: usize = 20_000;
/// Earlier questions and answers sent again with a new question.
const HISTORY: i64 = 20;
/// How often a streaming answer is written to its row.
const FLUSH: Duration = Duration::from_millis(400);

/// The model a question goes to.
struct Model {
    provider: ModelProvider,
    base: Checked,
    model: String,
    key: String,
    by_default: bool,
}

/// Picks the caller's key (`key`, or their newest), else the server's model
/// within its allowance.
async fn pick(
    pool: &PgPool,
    assistant: &Assistant,
    user: i64,
    key: Option<Uuid>,
) -> Result<Model, AppError> {
    if let Some(k) = keys::usable(pool, &assistant.sealer, user, key).await? {
        return Ok(Model {
            provider: k.provider,
            base: assistant.egress.check(&k.base_url).await?,
            model: k.model,
            key: k.key,
            by_default: false,
        });
    }
    let Some(d) = &assistant.default_model else {
        return Err(AppError::invalid(
            "no model to ask: add an API key in Settings → Assistant",
        ));
    };
    usage::check(&usage::quota(pool, user, d.daily_tokens).await?)?;
    Ok(Model {
        provider: d.provider,
        base: assistant.egress.check(&d.base_url).await?,
        model: d.model.clone(),
        key: d.key.clone(),
        by_default: true,
    })
}

fn system_prompt(g: &Grant) -> String {
    format!(
        "You are the coding assistant of a browser IDE. The user's session is a {} project. \
         Answer briefly and precisely. Put code in fenced blocks marked with its language; \
         when you change code the user selected, give the whole replacement in one block.",
        g.language.label()
    )
}

/// Asks `message` with `context` in the conversation `conversation` (its id, or
/// a new one): stores the question and the answer to come, starts the answer.
pub async fn ask(
    state: &AppState,
    g: &Grant,
    conversation: Option<i64>,
    message: &str,
    ctx: &ChatContext,
    key: Option<Uuid>,
) -> Result<ChatStarted, AppError> {
    let message = message.trim();
    if message.is_empty() {
        return Err(AppError::invalid("ask something"));
    }
    if message.chars().count() > MAX_MESSAGE_CHARS {
        return Err(AppError::too_large(format!(
            "a question is at most {MAX_MESSAGE_CHARS} characters"
        )));
    }
    let assistant = state.settings.assistant.clone();
    let pool = &state.pool;
    let user = g.login.id;
    let streaming: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM ai_messages m JOIN ai_conversations c ON c.id = m.conversation_id
         WHERE c.user_id = $1 AND m.status = 'streaming' AND m.updated_at > now() - $2::interval",
    )
    .bind(user)
    .bind(format!("{} seconds", assistant.idle.as_secs() * 2))
    .fetch_one(pool)
    .await?;
    if streaming >= assistant.answers_per_user {
        return Err(AppError::too_many(format!(
            "{streaming} answers are still coming: wait for one, or stop it"
        )));
    }
    let model = pick(pool, &assistant, user, key).await?;
    let built = context::build(state, g.session_id, message, ctx, assistant.context_cap).await?;

    let mut tx = pool.begin().await?;
    let (conversation_id, conversation): (i64, Uuid) =
        match conversation {
            Some(id) => sqlx::query_as(
                "UPDATE ai_conversations SET updated_at = now() WHERE id = $1 RETURNING id, uuid",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?,
            None => {
                let title: String = message
                    .lines()
                    .next()
                    .unwrap_or("")
                    .chars()
                    .take(80)
                    .collect();
                sqlx::query_as(
                    "INSERT INTO ai_conversations (uuid, session_id, user_id, title)
                 VALUES ($1, $2, $3, $4) RETURNING id, uuid",
                )
                .bind(Uuid::new_v4())
                .bind(g.session_id)
                .bind(user)
                .bind(title)
                .fetch_one(&mut *tx)
                .await?
            }
        };
    let turns = earlier_turns(&mut tx, conversation_id).await?;
    sqlx::query(
        "INSERT INTO ai_messages (uuid, conversation_id, role, content, prompt, context)
         VALUES ($1, $2, 'user', $3, $4, $5)",
    )
    .bind(Uuid::new_v4())
    .bind(conversation_id)
    .bind(message)
    .bind(&built.prompt)
    .bind(sqlx::types::Json(&built.sent))
    .execute(&mut *tx)
    .await?;
    let answer = Uuid::new_v4();
    let answer_id: i64 = sqlx::query_scalar(
        "INSERT INTO ai_messages (uuid, conversation_id, role, status, model)
         VALUES ($1, $2, 'assistant', 'streaming', $3) RETURNING id",
    )
    .bind(answer)
    .bind(conversation_id)
    .bind(&model.model)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;

    let mut all_turns = turns;
    all_turns.push(("user".into(), built.prompt));
    let job = Job {
        pool: pool.clone(),
        assistant: assistant.clone(),
        answer_id,
        user,
        session_id: g.session_id,
        system: system_prompt(g),
        turns: all_turns,
        model,
    };
    let writer = assistant.live.begin(answer);
    let span = tracing::info_span!("answer", %answer, session = %g.session);
    tokio::spawn(tracing::Instrument::instrument(job.run(writer), span));
    Ok(ChatStarted {
        conversation,
        message: answer,
        sent: built.sent,
    })
}

/// The conversation's earlier questions and their answers, as the model gets
/// them: only pairs whose answer has text (the APIs want turns to alternate).
async fn earlier_turns(
    tx: &mut sqlx::PgConnection,
    conversation: i64,
) -> Result<Vec<(String, String)>, AppError> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT role, COALESCE(prompt, content) FROM (
             SELECT * FROM ai_messages WHERE conversation_id = $1 ORDER BY id DESC LIMIT $2
         ) m ORDER BY id",
    )
    .bind(conversation)
    .bind(HISTORY)
    .fetch_all(tx)
    .await?;
    let mut turns = Vec::new();
    let mut question: Option<String> = None;
    for (role, text) in rows {
        match role.as_str() {
            "user" => question = Some(text),
            _ => {
                if let Some(q) = question.take().filter(|_| !text.is_empty()) {
                    turns.push(("user".into(), q));
                    turns.push(("assistant".into(), text));
                }
            }
        }
    }
    Ok(turns)
}

struct Job {
    pool: PgPool,
    assistant: Arc<Assistant>,
    answer_id: i64,
    user: i64,
    session_id: i64,
    system: String,
    turns: Vec<(String, String)>,
    model: Model,
}

/// How an answer ended.
enum Ending {
    Done(Used),
    Failed(Failure),
    Stopped,
}

impl Job {
    async fn run(self, writer: Writer) {
        let started = Instant::now();
        let ask = models::Ask {
            provider: self.model.provider,
            base: &self.model.base,
            key: &self.model.key,
            model: &self.model.model,
            system: &self.system,
            turns: &self.turns,
            idle: self.assistant.idle,
        };
        let ending = {
            let stream = models::stream(&ask, |t| writer.push(t));
            tokio::pin!(stream);
            // Nothing to store before the first piece has had time to come.
            let mut flush = tokio::time::interval_at(tokio::time::Instant::now() + FLUSH, FLUSH);
            loop {
                tokio::select! {
                    r = &mut stream => break match r {
                        Ok(used) => Ending::Done(used),
                        Err(f) => Ending::Failed(f),
                    },
                    _ = writer.stop.notified() => break Ending::Stopped,
                    _ = flush.tick() => match self.write(&writer.text(), AnswerStatus::Streaming, None).await {
                        Ok(true) => {}
                        // Stopped from elsewhere (the row is no longer streaming).
                        Ok(false) => break Ending::Stopped,
                        Err(e) => tracing::warn!(error = %e.message, "an answer's progress was not stored"),
                    },
                }
            }
        };
        let (status, error, used, outcome) = match &ending {
            Ending::Done(used) => (AnswerStatus::Done, None, used.clone(), "ok"),
            Ending::Failed(f) => (
                AnswerStatus::Failed,
                Some(f.message()),
                Used::default(),
                f.outcome(),
            ),
            Ending::Stopped => (AnswerStatus::Stopped, None, Used::default(), "stopped"),
        };
        let text = writer.text();
        if let Err(e) = self.finish(&text, status, error.as_deref()).await {
            tracing::error!(error = %e.message, "an answer's end was not stored");
        }
        let used = Used {
            cost_usd: self.assistant.cost(&self.model.model, &used),
            ..used
        };
        let logged = usage::record(
            &self.pool,
            usage::Entry {
                user: self.user,
                session: self.session_id,
                message: self.answer_id,
                by_default: self.model.by_default,
                provider: self.model.provider.id(),
                model: &self.model.model,
                used: &used,
                latency_ms: started.elapsed().as_millis() as i64,
                outcome,
            },
        )
        .await;
        if let Err(e) = logged {
            tracing::error!(error = %e.message, "a request to a model was not logged");
        }
        tracing::info!(
            outcome,
            ms = started.elapsed().as_millis() as u64,
            "answer ended"
        );
        writer.end(status, error);
    }

    /// Stores the text so far; false when the answer no longer streams.
    async fn write(
        &self,
        text: &str,
        status: AnswerStatus,
        error: Option<&str>,
    ) -> Result<bool, AppError> {
        let done = sqlx::query(
            "UPDATE ai_messages SET content = $2, status = $3, error = $4, updated_at = now()
             WHERE id = $1 AND status = 'streaming'",
        )
        .bind(self.answer_id)
        .bind(text)
        .bind(status)
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn finish(
        &self,
        text: &str,
        status: AnswerStatus,
        error: Option<&str>,
    ) -> Result<(), AppError> {
        if !self.write(text, status, error).await? {
            // Stopped elsewhere: keep what came until then.
            sqlx::query("UPDATE ai_messages SET content = $2, updated_at = now() WHERE id = $1")
                .bind(self.answer_id)
                .bind(text)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }
}

/// Stops an answer: here at once, on another replica at its next write.
pub async fn stop(state: &AppState, answer: Uuid) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE ai_messages SET status = 'stopped', updated_at = now()
         WHERE uuid = $1 AND status = 'streaming'",
    )
    .bind(answer)
    .execute(&state.pool)
    .await?;
    state.settings.assistant.live.stop(answer);
    Ok(())
}

/// An answer as stored: its text, status and error.
pub async fn stored(
    pool: &PgPool,
    answer: Uuid,
) -> Result<(String, AnswerStatus, Option<String>, bool), AppError> {
    let row: Option<(String, AnswerStatus, Option<String>, bool)> = sqlx::query_as(
        "SELECT content, status, error, updated_at < now() - $2::interval AS stale
         FROM ai_messages WHERE uuid = $1 AND role = 'assistant'",
    )
    .bind(answer)
    .bind("5 minutes")
    .fetch_optional(pool)
    .await?;
    row.ok_or_else(|| AppError::not_found("no such answer"))
}

/// Answers left streaming by a server that stopped: failed, with what they had.
pub async fn sweep_interrupted(pool: &PgPool, idle: Duration) -> Result<u64, AppError> {
    Ok(sqlx::query(
        "UPDATE ai_messages SET status = 'failed', error = 'the server stopped while answering'
         WHERE status = 'streaming' AND updated_at < now() - $1::interval",
    )
    .bind(format!("{} seconds", idle.as_secs() * 2 + 10))
    .execute(pool)
    .await?
    .rows_affected())
}

pub async fn conversations(
    pool: &PgPool,
    session_id: i64,
    user: i64,
) -> Result<Vec<ConversationInfo>, AppError> {
    Ok(sqlx::query_as(
        "SELECT c.uuid AS id, c.title, c.updated_at,
                (SELECT count(*) FROM ai_messages m WHERE m.conversation_id = c.id) AS messages
         FROM ai_conversations c WHERE c.session_id = $1 AND c.user_id = $2
         ORDER BY c.updated_at DESC LIMIT 200",
    )
    .bind(session_id)
    .bind(user)
    .fetch_all(pool)
    .await?)
}

pub async fn messages(pool: &PgPool, conversation_id: i64) -> Result<Vec<ChatMessage>, AppError> {
    type Row = (
        Uuid,
        String,
        String,
        Option<sqlx::types::Json<Vec<SentPart>>>,
        AnswerStatus,
        Option<String>,
        Option<String>,
        chrono::DateTime<chrono::Utc>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT uuid, role, content, context, status, error, model, created_at
         FROM ai_messages WHERE conversation_id = $1 ORDER BY id",
    )
    .bind(conversation_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, role, content, sent, status, error, model, created_at)| ChatMessage {
                id,
                role,
                content,
                sent: sent.map(|s| s.0),
                status,
                error,
                model,
                created_at,
            },
        )
        .collect())
}
