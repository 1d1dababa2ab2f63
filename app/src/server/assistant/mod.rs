//! The assistant: questions about a session's code, sent with the context the
//! user chose to a model on the user's own key (or the server's default model,
//! within a daily allowance), the answers streamed to whoever follows them and
//! kept in conversations.
//!
//! - keys.rs: users' keys, sealed at rest (sealing.rs)
//! - egress.rs: which base URLs the server may reach
//! - context.rs: what a question sends, within the cap
//! - chat.rs: conversations, asking, the answer's task, stopping
//! - models.rs: the two model APIs, streamed
//! - live.rs: the answers streaming on this replica, for their readers
//! - usage.rs: the request log, totals and the daily allowance

pub mod chat;
pub mod context;
pub mod egress;
pub mod keys;
pub mod live;
pub mod models;
pub mod sealing;
pub mod usage;

use crate::wire::assistant::ModelProvider;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// The assistant's configuration and its answers in flight.
pub struct Assistant {
    pub sealer: sealing::Sealer,
    pub egress: egress::Egress,
    /// The server's own model, for users without a key.
    pub default_model: Option<DefaultModel>,
    /// Most bytes of context one question sends.
    pub context_cap: usize,
    /// Longest wait for an answer to begin, or for its next piece.
    pub idle: Duration,
    /// Answers one user may have streaming at once.
    pub answers_per_user: i64,
    /// Prices of models whose provider reports no cost.
    pub prices: Vec<Price>,
    pub live: Arc<live::Live>,
}

impl std::fmt::Debug for Assistant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assistant")
            .field("default_model", &self.default_model)
            .field("context_cap", &self.context_cap)
            .finish_non_exhaustive()
    }
}

impl Default for Assistant {
    fn default() -> Self {
        Self {
            sealer: sealing::Sealer::random(),
            egress: egress::Egress::default(),
            default_model: None,
            context_cap: 64 * 1024,
            idle: Duration::from_secs(60),
            answers_per_user: 3,
            prices: Vec::new(),
            live: Default::default(),
        }
    }
}

impl Assistant {
    /// What a request with `model` costs, from the configured prices.
    pub fn cost(&self, model: &str, used: &models::Used) -> Option<f64> {
        if used.cost_usd.is_some() {
            return used.cost_usd;
        }
        let p = self.prices.iter().find(|p| p.model == model)?;
        let per = |tokens: Option<i64>, usd: f64| tokens.unwrap_or(0) as f64 * usd / 1e6;
        Some(per(used.tokens_in, p.input_per_mtok) + per(used.tokens_out, p.output_per_mtok))
    }
}

/// The operator's model for everyone, with a daily allowance of tokens each.
#[derive(Clone)]
pub struct DefaultModel {
    pub provider: ModelProvider,
    pub base_url: String,
    pub model: String,
    pub key: String,
    pub daily_tokens: i64,
}

impl std::fmt::Debug for DefaultModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DefaultModel")
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("daily_tokens", &self.daily_tokens)
            .finish_non_exhaustive()
    }
}

/// A model's price in US dollars per million tokens: `MODEL=IN/OUT`.
#[derive(Debug, Clone, PartialEq)]
pub struct Price {
    pub model: String,
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
}

impl FromStr for Price {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s}: a price is MODEL=IN/OUT (dollars per million tokens)");
        let (model, prices) = s.trim().rsplit_once('=').ok_or_else(bad)?;
        let (i, o) = prices.split_once('/').ok_or_else(bad)?;
        Ok(Self {
            model: model.trim().into(),
            input_per_mtok: i.trim().parse().map_err(|_| bad())?,
            output_per_mtok: o.trim().parse().map_err(|_| bad())?,
        })
    }
}
