//! What a question sends: the words, then the parts of context the user chose
//! (their selection, a command's or run's output, workspace files as saved), up
//! to the configured cap. Each part is named with its size; a part the cap cut
//! short or left out, a binary file, says so, and the user sees that list.

use crate::server::{files, state::AppState};
use crate::wire::assistant::{ChatContext, PartKind, SentPart};
use crate::AppError;

/// The files one question may name.
pub const MAX_FILES: usize = 20;

/// The text sent to the model for one question, and what it holds.
pub struct Built {
    pub prompt: String,
    pub sent: Vec<SentPart>,
}

pub async fn build(
    state: &AppState,
    session_id: i64,
    message: &str,
    context: &ChatContext,
    cap: usize,
) -> Result<Built, AppError> {
    let mut parts: Vec<(PartKind, String, String)> = Vec::new();
    if let Some(s) = &context.selection {
        let path = crate::paths::validate(&s.path)?;
        if s.start_line == 0 || s.end_line < s.start_line {
            return Err(AppError::invalid(
                "a selection's lines run from 1, start to end",
            ));
        }
        let name = format!("{path}, lines {}–{}", s.start_line, s.end_line);
        parts.push((PartKind::Selection, name, s.text.clone()));
    }
    if let Some(o) = &context.output {
        let source: String = o.source.chars().take(200).collect();
        parts.push((PartKind::Output, source, o.text.clone()));
    }
    let wanted = context.files.as_deref().unwrap_or_default();
    if wanted.len() > MAX_FILES {
        return Err(AppError::invalid(format!(
            "at most {MAX_FILES} files go with one question"
        )));
    }
    let mut binary = Vec::new();
    for path in wanted {
        let path = crate::paths::validate(path)?;
        let file = files::current(&state.pool, session_id, &path)
            .await?
            .ok_or_else(|| files::no_file(&path))?;
        if file.is_binary() {
            binary.push(path);
        } else {
            parts.push((PartKind::File, path, file.content));
        }
    }

    let mut room = cap;
    let mut prompt = String::from(message.trim());
    let mut sent = Vec::new();
    for (kind, name, text) in parts {
        let whole = text.len();
        let (kept, cut) = if whole <= room {
            (text.as_str(), None)
        } else if room == 0 {
            (
                "",
                Some(format!(
                    "left out: the context cap of {cap} bytes was reached"
                )),
            )
        } else {
            let end = floor_char_boundary(&text, room);
            (
                &text[..end],
                Some(format!(
                    "cut to {end} of {whole} bytes by the context cap of {cap} bytes"
                )),
            )
        };
        room -= kept.len();
        if !kept.is_empty() {
            let label = match kind {
                PartKind::Selection => "Selected code from",
                PartKind::File => "File",
                PartKind::Output => "Error output of",
            };
            let more = if cut.is_some() {
                "\n[… cut here]"
            } else {
                ""
            };
            prompt.push_str(&format!("\n\n{label} {name}:\n```\n{kept}{more}\n```"));
        }
        sent.push(SentPart {
            kind,
            name,
            bytes: kept.len(),
            cut,
        });
    }
    sent.extend(binary.into_iter().map(|name| SentPart {
        kind: PartKind::File,
        name,
        bytes: 0,
        cut: Some("left out: a binary file".into()),
    }));
    Ok(Built { prompt, sent })
}

fn floor_char_boundary(s: &str, at: usize) -> usize {
    (0..=at.min(s.len()))
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0)
}
