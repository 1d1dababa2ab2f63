//! The sidebar's Assistant: a chat about the open file. The user picks what goes
//! with a question (the selection, the file, other files, a failed command's or
//! run's output) and sees it listed, as sent, under the question; answers stream
//! in as they are written; a code block goes into the editor as a diff the user
//! accepts (into the buffer, saved as any edit) or rejects. Conversations are
//! kept per session and reopened from the list.

use super::bridge;
use super::workspace::{use_ws, Ws};
use crate::api::assistant as api;
use crate::wire::access::Capability;
use crate::wire::assistant::{
    AnswerStatus, ChatContext, ChatMessage, ErrorOutput, PartKind, SentPart,
};
use crate::wire::files::ItemKind;
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

/// One question or answer as shown.
#[derive(Clone)]
struct Msg {
    id: Uuid,
    question: bool,
    text: RwSignal<String>,
    sent: Vec<SentPart>,
    status: RwSignal<AnswerStatus>,
    error: RwSignal<Option<String>>,
}

impl Msg {
    fn of(m: ChatMessage) -> Self {
        Self {
            id: m.id,
            question: m.role == "user",
            text: RwSignal::new(m.content),
            sent: m.sent.unwrap_or_default(),
            status: RwSignal::new(m.status),
            error: RwSignal::new(m.error),
        }
    }
}

/// A code block going into a file: (path, its text now, the text proposed).
type Proposal = (String, String, String);

/// The chat's state: made once per session page, so it outlives the sidebar's
/// switching between views (an answer keeps streaming meanwhile).
#[derive(Clone, Copy)]
pub struct Chat {
    ws: Ws,
    conversation: RwSignal<Option<Uuid>>,
    messages: RwSignal<Vec<Msg>>,
    draft: RwSignal<String>,
    with_selection: RwSignal<bool>,
    with_file: RwSignal<bool>,
    /// Other files chosen to go along.
    files: RwSignal<Vec<String>>,
    /// A failure's output going with the next question.
    output: RwSignal<Option<ErrorOutput>>,
    error: RwSignal<Option<String>>,
    /// Bumped to reload the list of conversations.
    listed: RwSignal<u32>,
    proposal: RwSignal<Option<Proposal>>,
    #[cfg(feature = "hydrate")]
    source: StoredValue<Option<super::live::Source>, LocalStorage>,
}

impl Chat {
    pub fn provide(ws: Ws) {
        provide_context(Chat {
            ws,
            conversation: RwSignal::new(None),
            messages: RwSignal::new(Vec::new()),
            draft: RwSignal::new(String::new()),
            with_selection: RwSignal::new(true),
            with_file: RwSignal::new(true),
            files: RwSignal::new(Vec::new()),
            output: RwSignal::new(None),
            error: RwSignal::new(None),
            listed: RwSignal::new(0),
            proposal: RwSignal::new(None),
            #[cfg(feature = "hydrate")]
            source: StoredValue::new_local(None),
        });
    }

    fn streaming(&self) -> Option<Uuid> {
        self.messages.with(|m| {
            m.iter()
                .rev()
                .find(|m| !m.question && m.status.get() == AnswerStatus::Streaming)
                .map(|m| m.id)
        })
    }

    fn ask(&self, message: String) {
        let c = *self;
        if message.trim().is_empty() {
            return;
        }
        c.error.set(None);
        spawn_local(async move {
            let active = c.ws.tabs.active.get_untracked();
            let selection = c
                .with_selection
                .get_untracked()
                .then(bridge::selection)
                .flatten();
            let mut files = c.files.get_untracked();
            if let Some(path) = active.filter(|_| c.with_file.get_untracked()) {
                // The file goes as saved: save it first, as Run does.
                if !c.ws.save_active_now().await {
                    c.error
                        .set(Some("The file could not be saved: nothing was sent".into()));
                    return;
                }
                if !files.contains(&path) {
                    files.insert(0, path);
                }
            }
            let context = ChatContext {
                selection,
                files: (!files.is_empty()).then_some(files),
                output: c.output.get_untracked(),
            };
            let conversation = c.conversation.get_untracked();
            match api::chat(
                c.ws.session,
                conversation,
                message.clone(),
                Some(context),
                None,
            )
            .await
            {
                Ok(started) => {
                    c.conversation.set(Some(started.conversation));
                    c.draft.set(String::new());
                    c.output.set(None);
                    c.messages.update(|m| {
                        m.push(Msg {
                            id: Uuid::nil(),
                            question: true,
                            text: RwSignal::new(message),
                            sent: started.sent,
                            status: RwSignal::new(AnswerStatus::Done),
                            error: RwSignal::new(None),
                        });
                        m.push(Msg {
                            id: started.message,
                            question: false,
                            text: RwSignal::new(String::new()),
                            sent: Vec::new(),
                            status: RwSignal::new(AnswerStatus::Streaming),
                            error: RwSignal::new(None),
                        });
                    });
                    c.follow(started.message);
                    c.listed.update(|n| *n += 1);
                }
                Err(e) => c.error.set(Some(e.message)),
            }
        });
    }

    /// Streams answer `id` into its message.
    fn follow(&self, id: Uuid) {
        #[cfg(feature = "hydrate")]
        {
            use crate::wire::assistant::AnswerEvent;
            let c = *self;
            let Some(msg) = c
                .messages
                .with_untracked(|m| m.iter().find(|m| m.id == id).cloned())
            else {
                return;
            };
            let source = super::live::Source::open(
                &format!("/ai/stream/{id}"),
                move |e: AnswerEvent, src| match e {
                    AnswerEvent::Text { at, text } => msg.text.update(|t| {
                        // A reconnected stream starts again from the beginning.
                        t.truncate(at.min(t.len()));
                        t.push_str(&text);
                    }),
                    AnswerEvent::End { status, error } => {
                        src.close();
                        msg.status.set(status);
                        msg.error.set(error);
                    }
                    AnswerEvent::Revoked { message } => {
                        src.close();
                        msg.status.set(AnswerStatus::Failed);
                        c.error.set(Some(message));
                    }
                },
            );
            self.source.set_value(source);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = id;
    }

    fn open(&self, conversation: Option<Uuid>) {
        let c = *self;
        c.conversation.set(conversation);
        c.messages.set(Vec::new());
        c.error.set(None);
        let Some(id) = conversation else { return };
        spawn_local(async move {
            match api::messages(id).await {
                Ok(list) => {
                    c.messages.set(list.into_iter().map(Msg::of).collect());
                    if let Some(answer) = c.streaming() {
                        c.follow(answer);
                    }
                }
                Err(e) => c.error.set(Some(e.message)),
            }
        });
    }

    fn stop(&self) {
        let Some(id) = self.messages.with_untracked(|m| {
            m.iter()
                .rev()
                .find(|m| !m.question && m.status.get_untracked() == AnswerStatus::Streaming)
                .map(|m| m.id)
        }) else {
            return;
        };
        let c = *self;
        spawn_local(async move {
            if let Err(e) = api::stop(id).await {
                c.error.set(Some(e.message));
            }
        });
    }

    /// "Fix this error": the shown run's output (of the page's `output`) if it
    /// failed, else the last terminal command that failed.
    fn fix(&self, output: Option<super::output::Output>) {
        let c = *self;
        spawn_local(async move {
            let failure = match output.and_then(|o| o.failure()) {
                Some(f) => Some(f),
                None => crate::api::terminal::history(c.ws.session, Some(20))
                    .await
                    .ok()
                    .and_then(|list| {
                        list.into_iter()
                            .find(|r| r.exit_code.is_some_and(|code| code != 0))
                    })
                    .map(|r| ErrorOutput {
                        source: format!("$ {} (exit code {})", r.command, r.exit_code.unwrap_or(0)),
                        text: r.output,
                    }),
            };
            match failure {
                Some(f) => {
                    c.output.set(Some(f));
                    c.ask("Fix this error.".into());
                }
                None => c.error.set(Some(
                    "No failed run or terminal command to fix: run the file (F5) first".into(),
                )),
            }
        });
    }

    /// Shows `code` going into the open file: in place of the selection, or
    /// as the whole file.
    fn propose(&self, code: String, whole: bool) {
        let proposal = if whole {
            self.ws.tabs.active.get_untracked().map(|path| {
                let now = bridge::content(&path).unwrap_or_default();
                (path, now, code)
            })
        } else {
            bridge::propose(&code)
        };
        match proposal {
            Some(p) => self.proposal.set(Some(p)),
            None => self.error.set(Some(
                "Open a file in the editor to put the code into".into(),
            )),
        }
    }
}

/// A part of an answer: prose, or a fenced code block.
#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Prose(String),
    Code { lang: String, code: String },
}

/// An answer split at its fences; a block still being written shows as code.
fn segments(text: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut prose = String::new();
    let mut code: Option<(String, String)> = None;
    for line in text.split_inclusive('\n') {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut code, fence) {
            (None, Some(lang)) => {
                if !prose.trim().is_empty() {
                    out.push(Segment::Prose(std::mem::take(&mut prose)));
                }
                prose.clear();
                code = Some((lang.trim().to_string(), String::new()));
            }
            (Some(_), Some(_)) => {
                let (lang, code) = code.take().unwrap();
                out.push(Segment::Code { lang, code });
            }
            (Some((_, c)), None) => c.push_str(line),
            (None, None) => prose.push_str(line),
        }
    }
    if let Some((lang, code)) = code {
        out.push(Segment::Code { lang, code });
    }
    if !prose.trim().is_empty() {
        out.push(Segment::Prose(prose));
    }
    out
}

fn part_label(p: &SentPart) -> String {
    let kind = match p.kind {
        PartKind::Selection => "selection",
        PartKind::File => "file",
        PartKind::Output => "output of",
    };
    match &p.cut {
        Some(cut) => format!("{kind} {} ({} bytes; {cut})", p.name, p.bytes),
        None => format!("{kind} {} ({} bytes)", p.name, p.bytes),
    }
}

#[component]
pub fn AssistantView() -> impl IntoView {
    let c = expect_context::<Chat>();
    let ws = c.ws;
    let output = super::output::use_output();
    let session = ws.session;
    let conversations = Resource::new(move || c.listed.get(), move |_| api::conversations(session));
    let ready = Resource::new(
        || (),
        |_| async {
            let keys = api::list_keys().await?;
            let options = api::options().await?;
            Ok::<_, crate::AppError>(!keys.is_empty() || options.default_model.is_some())
        },
    );
    let adding = RwSignal::new(String::new());
    let send = move || c.ask(c.draft.get_untracked());
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() {
            ev.prevent_default();
            send();
        }
    };
    let add_file = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let path = adding.get_untracked().trim().to_string();
        if path.is_empty() {
            return;
        }
        if !ws
            .tree
            .items
            .with_untracked(|items| items.iter().any(|i| i.path == path))
        {
            c.error
                .set(Some(format!("No file {path} in this workspace")));
            return;
        }
        c.files.update(|f| {
            if !f.contains(&path) {
                f.push(path)
            }
        });
        adding.set(String::new());
    };

    let message = move |m: Msg| {
        let Msg {
            question,
            text,
            sent,
            status,
            error,
            ..
        } = m;
        if question {
            return view! {
                <li class="ai-question">
                    <p>{move || text.get()}</p>
                    {(!sent.is_empty()).then(|| view! {
                        <ul class="ai-sent" aria-label="Sent with it">
                            {sent.iter().map(|p| view! {
                                <li class:cut=p.cut.is_some()>{part_label(p)}</li>
                            }).collect_view()}
                        </ul>
                    })}
                </li>
            }
            .into_any();
        }
        view! {
            <li class="ai-answer" aria-live="polite">
                {move || segments(&text.get()).into_iter().map(|s| match s {
                    Segment::Prose(p) => view! { <p class="ai-prose">{p}</p> }.into_any(),
                    Segment::Code { lang, code } => {
                        let (a, b) = (code.clone(), code.clone());
                        view! {
                            <div class="ai-code">
                                <div class="ai-code-bar">
                                    <span>{lang}</span>
                                    <button class="button small" title="Put this in place of the selection, as a diff to accept"
                                        on:click=move |_| c.propose(a.clone(), false)>"Insert"</button>
                                    <button class="button small" title="Make this the whole file, as a diff to accept"
                                        on:click=move |_| c.propose(b.clone(), true)>"Replace file"</button>
                                </div>
                                <pre><code>{code}</code></pre>
                            </div>
                        }.into_any()
                    }
                }).collect_view()}
                {move || match status.get() {
                    AnswerStatus::Streaming => view! { <p class="hint">"Writing…"</p> }.into_any(),
                    AnswerStatus::Failed => view! {
                        <p class="error" role="alert">{error.get().unwrap_or_else(|| "The answer failed".into())}</p>
                    }.into_any(),
                    AnswerStatus::Stopped => view! { <p class="hint">"Stopped."</p> }.into_any(),
                    AnswerStatus::Done => ().into_any(),
                }}
            </li>
        }
        .into_any()
    };

    view! {
        <section class="assistant" aria-label="Assistant">
            <div class="view-head">
                <span>"Assistant"</span>
                <select id="ai-conversation" aria-label="Conversation"
                    on:change=move |ev| c.open(event_target_value(&ev).parse().ok())>
                    <option value="" selected=move || c.conversation.get().is_none()>"New conversation"</option>
                    <Transition fallback=|| ()>
                        {move || conversations.get().and_then(Result::ok).map(|list| list.into_iter().map(|v| {
                            let id = v.id;
                            view! {
                                <option value=id.to_string() selected=move || c.conversation.get() == Some(id)>
                                    {v.title}
                                </option>
                            }
                        }).collect_view())}
                    </Transition>
                </select>
            </div>
            <Show when=move || ws.lacks(Capability::Write)>
                <p class="hint">"Only editors can send this session's files to an assistant."</p>
            </Show>
            <Transition fallback=|| ()>
                {move || (ready.get() == Some(Ok(false))).then(|| view! {
                    <p class="hint" id="ai-no-key">
                        "Add an API key (OpenAI-compatible or Anthropic) in "
                        <a href="/settings#assistant">"Settings → Assistant"</a>" to ask."
                    </p>
                })}
            </Transition>
            <ol class="ai-messages" id="ai-messages">
                {move || c.messages.get().into_iter().map(message).collect_view()}
            </ol>
            <p class="error" role="alert" id="ai-error">{move || c.error.get()}</p>
            <div class="ai-actions">
                <button class="button small" id="ai-explain" on:click=move |_| c.ask("Explain this code.".into())>"Explain"</button>
                <button class="button small" id="ai-fix" on:click=move |_| c.fix(output)>"Fix this error"</button>
                <button class="button small" id="ai-tests" on:click=move |_| c.ask("Write tests for this code.".into())>"Write tests"</button>
            </div>
            <fieldset class="ai-context" aria-label="Send with the question">
                <label><input type="checkbox" bind:checked=c.with_selection />"The selection"</label>
                <label>
                    <input type="checkbox" bind:checked=c.with_file />
                    {move || ws.tabs.active.get().map_or("The open file".to_string(), |p| format!("The file {p}"))}
                </label>
                {move || c.files.get().into_iter().map(|f| {
                    let gone = f.clone();
                    view! {
                        <span class="chip">{f}
                            <button class="link" aria-label="Leave out" on:click=move |_| c.files.update(|l| l.retain(|x| *x != gone))>"×"</button>
                        </span>
                    }
                }).collect_view()}
                {move || c.output.get().map(|o| view! {
                    <span class="chip">{format!("output of {}", o.source)}
                        <button class="link" aria-label="Leave out" on:click=move |_| c.output.set(None)>"×"</button>
                    </span>
                })}
                <form class="ai-add-file" on:submit=add_file>
                    <input list="ai-paths" placeholder="Add a file…" aria-label="Add a file" bind:value=adding />
                    <datalist id="ai-paths">
                        {move || ws.tree.items.get().into_iter().filter(|i| i.kind == ItemKind::File).map(|i| view! {
                            <option value=i.path.clone() />
                        }).collect_view()}
                    </datalist>
                </form>
            </fieldset>
            <div class="ai-ask">
                <textarea id="ai-input" rows="3" placeholder="Ask about the code (Enter sends, Shift+Enter: new line)"
                    bind:value=c.draft on:keydown=on_key disabled=move || ws.lacks(Capability::Write)></textarea>
                {move || if c.streaming().is_some() {
                    view! { <button class="button" id="ai-stop" on:click=move |_| c.stop()>"Stop"</button> }.into_any()
                } else {
                    view! { <button class="button primary" id="ai-send" on:click=move |_| send()
                        disabled=move || ws.lacks(Capability::Write)>"Ask"</button> }.into_any()
                }}
            </div>
        </section>
        {move || c.proposal.get().map(|p| view! { <ProposalDialog proposal=p done=c.proposal /> })}
    }
}

/// The code going in, as a diff: Accept puts it into the editor (saved like any
/// edit, undone with Ctrl+Z), Reject leaves the file as it was.
#[component]
fn ProposalDialog(proposal: Proposal, done: RwSignal<Option<Proposal>>) -> impl IntoView {
    let ws = use_ws();
    let diff = NodeRef::<leptos::html::Div>::new();
    let (path, now, proposed) = proposal;
    #[cfg(feature = "hydrate")]
    {
        let (p, a, b) = (path.clone(), now.clone(), proposed.clone());
        let dispose = StoredValue::new_local(None::<js_sys::Function>);
        Effect::new(move |_| {
            if let Some(el) = diff.get() {
                dispose.set_value(Some(super::monaco::show_diff(&el.into(), &p, &a, &b)));
            }
        });
        on_cleanup(move || {
            if let Some(f) = dispose.try_get_value().flatten() {
                let _ = f.call0(&wasm_bindgen::JsValue::NULL);
            }
        });
    }
    let title = format!("Put the assistant's code into {path}?");
    let accept = move |_| {
        bridge::set_content(&path, &proposed);
        ws.tell(format!(
            "The code is in {path}: save it (Ctrl+S) to keep it"
        ));
        done.set(None);
    };
    #[cfg(not(feature = "hydrate"))]
    let _ = now;
    view! {
        <div class="modal-backdrop">
            <div class="modal wide" role="dialog" aria-modal="true" aria-label="Assistant's change">
                <h2>{title}</h2>
                <p>"Left: the file now. Right: with the assistant's code."</p>
                <div class="diff-host" node_ref=diff></div>
                <div class="modal-actions">
                    <button class="button" id="ai-reject" on:click=move |_| done.set(None)>"Reject"</button>
                    <button class="button primary" id="ai-accept" on:click=accept>"Accept"</button>
                </div>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_split_at_fences() {
        let s = segments("Try:\n```python\nprint(1)\n```\nDone.\n```js\nopen");
        assert_eq!(
            s,
            vec![
                Segment::Prose("Try:\n".into()),
                Segment::Code {
                    lang: "python".into(),
                    code: "print(1)\n".into()
                },
                Segment::Prose("Done.\n".into()),
                Segment::Code {
                    lang: "js".into(),
                    code: "open".into()
                },
            ]
        );
    }
}
