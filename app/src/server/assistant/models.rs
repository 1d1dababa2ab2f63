//! Talking to a model: one streamed request to an OpenAI-compatible chat
//! completions API or to Anthropic's Messages API, its server-sent events read
//! as they come into text and usage, and every way it can fail turned into a
//! message a user can act on. Nothing waits without a limit: the answer must
//! begin, and keep coming, within the configured time.

use super::egress::Checked;
use crate::wire::assistant::ModelProvider;
use serde_json::{json, Value};
use std::time::Duration;

/// One request to a model.
pub struct Ask<'a> {
    pub provider: ModelProvider,
    pub base: &'a Checked,
    pub key: &'a str,
    pub model: &'a str,
    pub system: &'a str,
    /// (role, text), oldest first; roles are "user" and "assistant".
    pub turns: &'a [(String, String)],
    /// Longest wait for the answer to start, or for its next piece.
    pub idle: Duration,
}

/// What the provider reported it used.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Used {
    pub tokens_in: Option<i64>,
    pub tokens_out: Option<i64>,
    pub cost_usd: Option<f64>,
}

/// Why an answer did not come (the text is what the user reads).
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    BadKey(String),
    RateLimited { retry_after: Option<u64> },
    Timeout(Duration),
    Dropped,
    Provider(String),
    Unreachable(String),
}

impl Failure {
    pub fn message(&self) -> String {
        match self {
            Self::BadKey(detail) => format!("The provider refused the key: {detail}"),
            Self::RateLimited {
                retry_after: Some(s),
            } => {
                format!("The provider is rate-limiting this key; try again in {s} s")
            }
            Self::RateLimited { retry_after: None } => {
                "The provider is rate-limiting this key; try again shortly".into()
            }
            Self::Timeout(d) => format!(
                "The provider sent nothing for {} s; the answer was given up",
                d.as_secs()
            ),
            Self::Dropped => "The provider's stream ended before the answer did".into(),
            Self::Provider(detail) => format!("The provider answered with an error: {detail}"),
            Self::Unreachable(detail) => format!("The provider could not be reached: {detail}"),
        }
    }

    /// The request log's outcome.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::BadKey(_) => "bad_key",
            Self::RateLimited { .. } => "rate_limited",
            Self::Timeout(_) => "timeout",
            Self::Dropped => "dropped",
            Self::Provider(_) => "provider_error",
            Self::Unreachable(_) => "unreachable",
        }
    }
}

/// Sends `ask` and gives each piece of text to `text` as it comes.
pub async fn stream(ask: &Ask<'_>, mut text: impl FnMut(&str)) -> Result<Used, Failure> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .resolve_to_addrs(&ask.base.host, &ask.base.addrs)
        .connect_timeout(ask.idle)
        .build()
        .map_err(|e| Failure::Unreachable(e.to_string()))?;
    let base = ask.base.url.as_str().trim_end_matches('/');
    let request = match ask.provider {
        ModelProvider::Openai => {
            let mut messages = vec![json!({"role": "system", "content": ask.system})];
            messages.extend(
                ask.turns
                    .iter()
                    .map(|(role, content)| json!({"role": role, "content": content})),
            );
            client
                .post(format!("{base}/chat/completions"))
                .bearer_auth(ask.key)
                .body(
                    json!({
                        "model": ask.model,
                        "messages": messages,
                        "stream": true,
                        "stream_options": {"include_usage": true},
                    })
                    .to_string(),
                )
        }
        ModelProvider::Anthropic => {
            let messages: Vec<Value> = ask
                .turns
                .iter()
                .map(|(role, content)| json!({"role": role, "content": content}))
                .collect();
            client
                .post(format!("{base}/v1/messages"))
                .header("x-api-key", ask.key)
                .header("anthropic-version", "2023-06-01")
                .body(
                    json!({
                        "model": ask.model,
                        "max_tokens": 4096,
                        "system": ask.system,
                        "messages": messages,
                        "stream": true,
                    })
                    .to_string(),
                )
        }
    };
    let request = request.header(reqwest::header::CONTENT_TYPE, "application/json");
    let response = tokio::time::timeout(ask.idle, request.send())
        .await
        .map_err(|_| Failure::Timeout(ask.idle))?
        .map_err(|e| Failure::Unreachable(without_url(&e)))?;
    let status = response.status();
    if !status.is_success() {
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let body = tokio::time::timeout(ask.idle, response.text())
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let detail = error_detail(&body).unwrap_or_else(|| status.to_string());
        return Err(match status.as_u16() {
            401 | 403 => Failure::BadKey(detail),
            429 => Failure::RateLimited { retry_after },
            _ => Failure::Provider(detail),
        });
    }
    let mut reader = Events::default();
    let mut used = Used::default();
    let mut response = response;
    loop {
        let chunk = tokio::time::timeout(ask.idle, response.chunk())
            .await
            .map_err(|_| Failure::Timeout(ask.idle))?
            .map_err(|_| Failure::Dropped)?;
        let Some(chunk) = chunk else {
            return Err(Failure::Dropped);
        };
        for data in reader.push(&chunk) {
            match read_event(ask.provider, &data, &mut used)? {
                Step::Text(t) => text(&t),
                Step::Nothing => {}
                Step::End => return Ok(used),
            }
        }
    }
}

/// A reqwest error's words without the URL (which names the user's base URL).
fn without_url(e: &reqwest::Error) -> String {
    let mut detail = e.to_string();
    if let Some(url) = e.url() {
        detail = detail.replace(url.as_str(), "the base URL");
    }
    if e.is_connect() {
        detail = "the connection was refused or timed out".into();
    }
    detail
}

/// The message in a provider's error body, both APIs' shapes.
fn error_detail(body: &str) -> Option<String> {
    let v: Value = serde_json::from_str(body).ok()?;
    let e = v.get("error")?;
    let message = e
        .get("message")
        .and_then(Value::as_str)
        .or_else(|| e.as_str())?;
    Some(message.chars().take(300).collect())
}

enum Step {
    Text(String),
    Nothing,
    End,
}

fn read_event(provider: ModelProvider, data: &str, used: &mut Used) -> Result<Step, Failure> {
    if provider == ModelProvider::Openai && data.trim() == "[DONE]" {
        return Ok(Step::End);
    }
    let v: Value = serde_json::from_str(data)
        .map_err(|_| Failure::Provider("an event that is not JSON".into()))?;
    if let Some(detail) = error_detail(data) {
        return Err(Failure::Provider(detail));
    }
    let int = |v: &Value, key: &str| v.get(key).and_then(Value::as_i64);
    match provider {
        ModelProvider::Openai => {
            if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
                used.tokens_in = int(u, "prompt_tokens").or(used.tokens_in);
                used.tokens_out = int(u, "completion_tokens").or(used.tokens_out);
                used.cost_usd = u.get("cost").and_then(Value::as_f64).or(used.cost_usd);
            }
            let delta = v
                .pointer("/choices/0/delta/content")
                .and_then(Value::as_str)
                .unwrap_or_default();
            Ok(if delta.is_empty() {
                Step::Nothing
            } else {
                Step::Text(delta.to_string())
            })
        }
        ModelProvider::Anthropic => match v.get("type").and_then(Value::as_str) {
            Some("message_start") => {
                if let Some(u) = v.pointer("/message/usage") {
                    used.tokens_in = int(u, "input_tokens");
                    used.tokens_out = int(u, "output_tokens");
                }
                Ok(Step::Nothing)
            }
            Some("content_block_delta") => Ok(v
                .pointer("/delta/text")
                .and_then(Value::as_str)
                .map_or(Step::Nothing, |t| Step::Text(t.to_string()))),
            Some("message_delta") => {
                if let Some(out) = v.pointer("/usage/output_tokens").and_then(Value::as_i64) {
                    used.tokens_out = Some(out);
                }
                Ok(Step::Nothing)
            }
            Some("message_stop") => Ok(Step::End),
            _ => Ok(Step::Nothing),
        },
    }
}

/// Server-sent events split out of a byte stream: the data of each event.
#[derive(Default)]
struct Events {
    buf: Vec<u8>,
}

impl Events {
    fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(end) = find_blank_line(&self.buf) {
            let event: Vec<u8> = self.buf.drain(..end.1).collect();
            let event = String::from_utf8_lossy(&event[..end.0]);
            let data: Vec<&str> = event
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect();
            if !data.is_empty() {
                out.push(data.join("\n"));
            }
        }
        out
    }
}

/// Where the first event ends: (its length, the length with the blank line).
fn find_blank_line(buf: &[u8]) -> Option<(usize, usize)> {
    (0..buf.len()).find_map(|i| {
        if buf[i..].starts_with(b"\n\n") {
            Some((i, i + 2))
        } else if buf[i..].starts_with(b"\r\n\r\n") {
            Some((i, i + 4))
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks() {
        let mut e = Events::default();
        assert!(e.push(b"data: {\"a\"").is_empty());
        assert_eq!(
            e.push(b":1}\n\nevent: x\r\ndata: 2\r\n\r\n: ping\n\n"),
            ["{\"a\":1}", "2"]
        );
    }

    #[test]
    fn both_apis_read() {
        let mut used = Used::default();
        let chunk = r#"{"choices":[{"delta":{"content":"Hi"}}]}"#;
        assert!(
            matches!(read_event(ModelProvider::Openai, chunk, &mut used), Ok(Step::Text(t)) if t == "Hi")
        );
        let usage = r#"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3}}"#;
        read_event(ModelProvider::Openai, usage, &mut used).unwrap();
        assert_eq!((used.tokens_in, used.tokens_out), (Some(12), Some(3)));
        let mut used = Used::default();
        let start =
            r#"{"type":"message_start","message":{"usage":{"input_tokens":9,"output_tokens":1}}}"#;
        read_event(ModelProvider::Anthropic, start, &mut used).unwrap();
        let delta = r#"{"type":"message_delta","usage":{"output_tokens":7}}"#;
        read_event(ModelProvider::Anthropic, delta, &mut used).unwrap();
        assert_eq!((used.tokens_in, used.tokens_out), (Some(9), Some(7)));
        let err = r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert_eq!(
            read_event(ModelProvider::Anthropic, err, &mut used).err(),
            Some(Failure::Provider("Overloaded".into()))
        );
    }
}
