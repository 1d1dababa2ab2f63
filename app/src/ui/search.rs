//! The Search view (Ctrl+Shift+F): literal or regular expression (Rust's syntax),
//! match case, whole word, files to include and exclude; results grouped by file
//! with the match highlighted, a click opening the file at it. Replace all shows
//! every change first and applies it only to files unchanged since.

use super::workspace::use_ws;
use crate::api::search;
use crate::wire::access::Capability;
use crate::wire::search::{FileBase, Replaced, TextMatch, TextResults};
use crate::AppError;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::time::Duration;

/// Typing waits this long before searching.
const DEBOUNCE: Duration = Duration::from_millis(250);

#[derive(Clone, Default, PartialEq)]
struct Options {
    query: String,
    regex: bool,
    case_sensitive: bool,
    whole_word: bool,
    include: String,
    exclude: String,
}

fn globs(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_string)
        .collect()
}

/// A replace with the search's options: a preview without `files`, else applied
/// to those files as they were previewed.
async fn replace(
    session: uuid::Uuid,
    o: Options,
    with: String,
    files: Option<Vec<FileBase>>,
) -> Result<Replaced, AppError> {
    search::replace(
        session,
        o.query,
        Some(o.regex),
        Some(o.case_sensitive),
        Some(o.whole_word),
        Some(globs(&o.include)),
        Some(globs(&o.exclude)),
        with,
        files.is_none(),
        files,
    )
    .await
}

#[component]
pub fn SearchView() -> impl IntoView {
    let ws = use_ws();
    let opts = RwSignal::new(Options::default());
    let replacement = RwSignal::new(String::new());
    let results = RwSignal::new(None::<Result<TextResults, AppError>>);
    let preview = RwSignal::new(None::<Replaced>);
    let asked = StoredValue::new(0u32);
    let run = move || {
        let o = opts.get_untracked();
        asked.update_value(|n| *n += 1);
        let mine = asked.get_value();
        if o.query.is_empty() {
            return results.set(None);
        }
        spawn_local(async move {
            let got = search::text(
                ws.session,
                o.query,
                Some(o.regex),
                Some(o.case_sensitive),
                Some(o.whole_word),
                Some(globs(&o.include)),
                Some(globs(&o.exclude)),
                None,
            )
            .await;
            // An answer to an older question is dropped.
            if asked.get_value() == mine {
                results.set(Some(got));
            }
        });
    };
    // Every change of the question searches again, once typing pauses; so does
    // every change of the files.
    Effect::new(move |_| {
        opts.track();
        ws.tree.items.track();
        let mine = asked.get_value();
        set_timeout(
            move || {
                if asked.get_value() == mine {
                    run();
                }
            },
            DEBOUNCE,
        );
    });
    let toggle = move |label: &'static str,
                       id: &'static str,
                       title: &'static str,
                       get: fn(&Options) -> bool,
                       set: fn(&mut Options)| {
        view! {
            <button class="toggle" id=id title=title aria-label=title
                aria-pressed=move || opts.with(get).to_string()
                class:on=move || opts.with(get)
                on:click=move |_| opts.update(set)>
                {label}
            </button>
        }
    };
    let ask_replace = move |_| {
        if ws.lacks(Capability::Write) {
            return;
        }
        let o = opts.get_untracked();
        if o.query.is_empty() {
            return;
        }
        let with = replacement.get_untracked();
        spawn_local(async move {
            match replace(ws.session, o, with, None).await {
                Ok(p) if p.files.is_empty() => ws.tell("Nothing to replace"),
                Ok(p) => preview.set(Some(p)),
                Err(e) => ws.fail(e),
            }
        });
    };
    let apply = move |_| {
        let Some(p) = preview.get_untracked() else {
            return;
        };
        let o = opts.get_untracked();
        let with = replacement.get_untracked();
        let files: Vec<FileBase> = p
            .files
            .iter()
            .map(|f| FileBase {
                path: f.path.clone(),
                hash: f.hash.clone(),
            })
            .collect();
        preview.set(None);
        spawn_local(async move {
            let done = replace(ws.session, o, with, Some(files)).await;
            match done {
                Ok(r) => {
                    let mut told = format!("Replaced in {} file(s)", r.files.len());
                    if !r.conflicts.is_empty() {
                        let left: Vec<String> = r
                            .conflicts
                            .iter()
                            .map(|c| format!("{} ({})", c.path, c.reason))
                            .collect();
                        told.push_str(&format!("; left alone: {}", left.join(", ")));
                    }
                    ws.tell(told);
                    ws.reload_from_server();
                }
                Err(e) => ws.fail(e),
            }
        });
    };
    view! {
        <div class="search-view">
            <div class="view-head"><span>"Search"</span></div>
            <div class="search-form">
                <div class="search-row">
                    <input id="search-query" placeholder="Search" aria-label="Search" autocomplete="off"
                        prop:value=move || opts.with(|o| o.query.clone())
                        on:input=move |ev| opts.update(|o| o.query = event_target_value(&ev)) />
                    {toggle("Aa", "search-case", "Match case", |o| o.case_sensitive, |o| o.case_sensitive = !o.case_sensitive)}
                    {toggle("ab", "search-word", "Match whole word", |o| o.whole_word, |o| o.whole_word = !o.whole_word)}
                    {toggle(".*", "search-regex", "Use regular expression (Rust syntax)", |o| o.regex, |o| o.regex = !o.regex)}
                </div>
                <Show when=move || ws.can(Capability::Write)>
                    <div class="search-row">
                        <input id="search-replace" placeholder="Replace" aria-label="Replace" autocomplete="off"
                            bind:value=replacement />
                        <button class="toggle" id="replace-all" title="Replace all (shows every change first)"
                            on:click=ask_replace>"⇄"</button>
                    </div>
                </Show>
                <input id="search-include" placeholder="files to include (e.g. *.py, src)" aria-label="Files to include"
                    prop:value=move || opts.with(|o| o.include.clone())
                    on:input=move |ev| opts.update(|o| o.include = event_target_value(&ev)) />
                <input id="search-exclude" placeholder="files to exclude" aria-label="Files to exclude"
                    prop:value=move || opts.with(|o| o.exclude.clone())
                    on:input=move |ev| opts.update(|o| o.exclude = event_target_value(&ev)) />
            </div>
            <div class="search-results" id="search-results">
                {move || match results.get() {
                    None => ().into_any(),
                    Some(Err(e)) => view! { <p class="error" id="search-error">{e.message}</p> }.into_any(),
                    Some(Ok(r)) => view! { <Results results=r /> }.into_any(),
                }}
            </div>
            {move || preview.get().map(|p| view! {
                <div class="modal-backdrop">
                    <div class="modal wide" role="dialog" aria-modal="true" aria-label="Replace preview">
                        <h2>{format!("Replace in {} file(s)?", p.files.len())}</h2>
                        <p class="hint">"A checkpoint is made first. Files changed since this preview are left alone."</p>
                        <div class="replace-preview">
                            {p.files.iter().map(|f| view! {
                                <div class="replace-file" data-path=f.path.clone()>
                                    <div class="replace-path">{format!("{} ({})", f.path, f.replacements)}</div>
                                    {f.lines.iter().map(|l| view! {
                                        <div class="replace-line">
                                            <span class="line-no">{l.line}</span>
                                            <del>{l.before.clone()}</del>
                                            <ins>{l.after.clone()}</ins>
                                        </div>
                                    }).collect_view()}
                                </div>
                            }).collect_view()}
                        </div>
                        <div class="modal-actions">
                            <button class="button" on:click=move |_| preview.set(None)>"Cancel"</button>
                            <button class="button primary" id="apply-replace" on:click=apply>"Replace"</button>
                        </div>
                    </div>
                </div>
            }.into_any())}
        </div>
    }
    .into_any()
}

/// Matches grouped by file, in the order they came (by path).
#[component]
fn Results(results: TextResults) -> impl IntoView {
    let ws = use_ws();
    let mut groups: Vec<(String, Vec<TextMatch>)> = Vec::new();
    for m in results.matches {
        match groups.last_mut() {
            Some((path, list)) if *path == m.path => list.push(m),
            _ => groups.push((m.path.clone(), vec![m])),
        }
    }
    let total: usize = groups.iter().map(|(_, l)| l.len()).sum();
    let summary = match (total, groups.len()) {
        (0, _) => "No results".to_string(),
        (n, f) => format!("{n} result(s) in {f} file(s)"),
    };
    view! {
        <p class="search-summary" id="search-summary">{summary}</p>
        {results.truncated.then(|| view! {
            <p class="warn" id="search-truncated">"More matched than shown: narrow the search."</p>
        })}
        {groups.into_iter().map(|(path, list)| view! {
            <details class="search-file" open data-path=path.clone()>
                <summary>
                    <span class="search-file-name">{crate::paths::name(&path).to_string()}</span>
                    <span class="search-file-dir">{crate::paths::parent(&path).unwrap_or("").to_string()}</span>
                    <span class="search-count">{list.len()}</span>
                </summary>
                {list.into_iter().map(|m| {
                    let chars: Vec<char> = m.text.chars().collect();
                    let start = (m.column as usize).saturating_sub(1).min(chars.len());
                    let end = (m.end_column as usize).saturating_sub(1).clamp(start, chars.len());
                    let before: String = chars[..start].iter().collect();
                    let hit: String = chars[start..end].iter().collect();
                    let after: String = chars[end..].iter().collect();
                    let (p, line, col, end_col) = (m.path.clone(), m.line, m.column, m.end_column);
                    view! {
                        <button class="search-hit" data-line=m.line
                            on:click=move |_| ws.open_at(p.clone(), line, col, end_col)>
                            <span class="line-no">{m.line}</span>
                            <span class="hit-text">{before.trim_start().to_string()}<mark>{hit}</mark>{after}</span>
                        </button>
                    }
                }).collect_view()}
            </details>
        }).collect_view()}
    }
    .into_any()
}
