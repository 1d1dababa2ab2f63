//! The assistant: users' model keys (shown by provider, label and last four
//! characters, never read back), questions about a session's code with the
//! context the user chose, answers streamed as server-sent events, the
//! conversations kept per session, and the usage figures.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

text_enum!(
    /// The API a key speaks.
    ModelProvider {
        /// Any OpenAI-compatible chat completions API (OpenAI, Ollama, llama.cpp, a gateway).
        Openai = "openai",
        /// Anthropic's Messages API.
        Anthropic = "anthropic",
    }
);

impl ModelProvider {
    pub fn label(self) -> &'static str {
        match self {
            Self::Openai => "OpenAI-compatible",
            Self::Anthropic => "Anthropic",
        }
    }

    /// The model used when a key names none.
    pub fn default_model(self) -> &'static str {
        match self {
            Self::Openai => "gpt-4o-mini",
            Self::Anthropic => "claude-3-5-haiku-latest",
        }
    }

    /// The API's address when a key names none.
    pub fn default_base_url(self) -> &'static str {
        match self {
            Self::Openai => "https://api.openai.com/v1",
            Self::Anthropic => "https://api.anthropic.com",
        }
    }
}

/// A stored key as it is shown: never the key itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct KeyInfo {
    pub id: Uuid,
    pub provider: ModelProvider,
    pub base_url: Option<String>,
    pub model: String,
    pub label: String,
    /// The key's last four characters.
    pub last4: String,
    pub created_at: DateTime<Utc>,
}

/// What the assistant offers this user: the server's default model (if the
/// operator set one) with its daily quota, and the cap on context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssistantOptions {
    pub default_model: Option<DefaultModel>,
    /// Most bytes of context (selection, files, output) one question sends.
    pub context_cap: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DefaultModel {
    pub provider: ModelProvider,
    pub model: String,
    pub quota: Quota,
}

/// A daily allowance of tokens with the server's default model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quota {
    pub daily_tokens: i64,
    pub used_today: i64,
    pub resets_at: DateTime<Utc>,
}

/// Lines of a file the user selected (their text as the editor has it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
    pub text: String,
}

/// The output of a command or a run that failed, for "Fix this error".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorOutput {
    /// What produced it: "$ make", "run of main.py".
    pub source: String,
    pub text: String,
}

/// What a question sends besides its words.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<Selection>,
    /// Workspace files, sent as saved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<ErrorOutput>,
}

text_enum!(
    /// A part of a question's context.
    PartKind {
        Selection = "selection",
        File = "file",
        Output = "output",
    }
);

/// One part of the context as it was sent: `bytes` of it, `cut` when the cap
/// (or a file's being binary or missing) left some or all of it out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentPart {
    pub kind: PartKind,
    pub name: String,
    pub bytes: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut: Option<String>,
}

/// A question asked: its conversation and the id of the answer, which streams
/// at `/ai/stream/{message}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatStarted {
    pub conversation: Uuid,
    pub message: Uuid,
    pub sent: Vec<SentPart>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ConversationInfo {
    pub id: Uuid,
    pub title: String,
    pub messages: i64,
    pub updated_at: DateTime<Utc>,
}

text_enum!(
    /// Where an answer is.
    AnswerStatus {
        Streaming = "streaming",
        Done = "done",
        Failed = "failed",
        Stopped = "stopped",
    }
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub id: Uuid,
    /// "user" or "assistant".
    pub role: String,
    pub content: String,
    /// A question's context as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<Vec<SentPart>>,
    pub status: AnswerStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The events of `/ai/stream/{message}`: the answer from its start, whoever
/// connects when, then its end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AnswerEvent {
    /// More of the answer's text, from byte `at` of it (a reader that
    /// reconnects gets the answer again from 0).
    Text { at: usize, text: String },
    /// The answer ended with its status (`done`, `failed`, `stopped`) and, when
    /// it failed, why.
    End {
        status: AnswerStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// The reader may no longer read it.
    Revoked { message: String },
}

/// Requests, tokens and cost of one provider and model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct UsageRow {
    pub provider: String,
    pub model: String,
    pub by_default: bool,
    pub requests: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub cost_usd: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub today: Vec<UsageRow>,
    pub all_time: Vec<UsageRow>,
    pub quota: Option<Quota>,
}
