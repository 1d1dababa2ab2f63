//! Runs in the bottom panel: the Output view (stdout and stderr as they stream,
//! an input line while the program runs, Stop, the result line, the test cases
//! and their table) and the Runs view (the session's runs, opened again or run
//! again). Run (the editor's button) and F5 save the file and run it.

use super::terminal::{PanelView, Terms};
use super::workspace::{use_ws, Ws};
use crate::api::runs::{cancel, config, input, list, start};
use crate::wire::access::Capability;
use crate::wire::assistant::ErrorOutput;
use crate::wire::runs::{language_of, RunConfig, RunResult, Status, Stream, TestCase, TestResult};
use crate::AppError;
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

/// A test case being edited.
#[derive(Clone, Copy)]
struct Case {
    key: u32,
    stdin: RwSignal<String>,
    expected: RwSignal<String>,
}

/// The Output view's state, shared with the editor (Run) and F5.
#[derive(Clone, Copy)]
pub struct Output {
    ws: Ws,
    terms: Terms,
    /// The run shown: as it streams, then its result.
    run: RwSignal<Option<RunResult>>,
    /// Its output as it came, in order.
    chunks: RwSignal<Vec<(Stream, String)>>,
    results: RwSignal<Vec<TestResult>>,
    cases: RwSignal<Vec<Case>>,
    tests_open: RwSignal<bool>,
    config_open: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    /// Bumped when a run ends, so the Runs view reloads.
    ended: RwSignal<u32>,
    /// Takes input as it is typed (started without a given one).
    interactive: RwSignal<bool>,
    next_case: StoredValue<u32>,
    #[cfg(feature = "hydrate")]
    source: StoredValue<Option<super::live::Source>, LocalStorage>,
}

pub fn use_output() -> Option<Output> {
    use_context::<Output>()
}

impl Output {
    pub fn provide(ws: Ws, terms: Terms) -> Self {
        let o = Self {
            ws,
            terms,
            run: RwSignal::new(None),
            chunks: RwSignal::new(Vec::new()),
            results: RwSignal::new(Vec::new()),
            cases: RwSignal::new(Vec::new()),
            tests_open: RwSignal::new(false),
            config_open: RwSignal::new(false),
            error: RwSignal::new(None),
            ended: RwSignal::new(0),
            interactive: RwSignal::new(false),
            next_case: StoredValue::new(1),
            #[cfg(feature = "hydrate")]
            source: StoredValue::new_local(None),
        };
        provide_context(o);
        o
    }

    fn running(&self) -> bool {
        self.run
            .with(|r| r.as_ref().is_some_and(|r| r.status == Status::Running))
    }

    fn add_case(&self) {
        let key = self.next_case.get_value();
        self.next_case.set_value(key + 1);
        self.cases.update(|c| {
            c.push(Case {
                key,
                stdin: RwSignal::new(String::new()),
                expected: RwSignal::new(String::new()),
            })
        });
    }

    /// Saves the shown file and runs it (with the test cases, when `tests`).
    pub fn run_active(&self, tests: bool) {
        let ws = self.ws;
        let Some(path) = ws.tabs.active.get_untracked() else {
            self.error
                .set(Some("Open a file to run it (or give a command)".into()));
            return;
        };
        let o = *self;
        let cases: Option<Vec<TestCase>> = tests.then(|| {
            o.cases.with_untracked(|c| {
                c.iter()
                    .map(|c| TestCase {
                        stdin: c.stdin.get_untracked(),
                        expected_stdout: Some(c.expected.get_untracked()).filter(|e| !e.is_empty()),
                    })
                    .collect()
            })
        });
        spawn_local(async move {
            // What runs is what the editor shows.
            if !ws.save_active_now().await {
                o.error
                    .set(Some("The file could not be saved: nothing was run".into()));
                return;
            }
            o.begin(None, Some(path), None, cases).await;
        });
    }

    /// The shown run's output when it went wrong, for "Fix this error".
    pub fn failure(&self) -> Option<ErrorOutput> {
        let run = self.run.get_untracked()?;
        let failed = run.status != Status::Running
            && (run.status != Status::Finished || run.exit_code != Some(0));
        if !failed {
            return None;
        }
        let text: String = self
            .chunks
            .with_untracked(|c| c.iter().map(|(_, t)| t.as_str()).collect());
        Some(ErrorOutput {
            source: format!("the run of `{}` ({})", run.command, run.summary()),
            text,
        })
    }

    /// Runs `run`'s command again, with its input and cases.
    fn rerun(&self, run: RunResult) {
        let o = *self;
        let cases = run.tests.map(|t| {
            t.into_iter()
                .map(|c| TestCase {
                    stdin: c.stdin,
                    expected_stdout: c.expected_stdout,
                })
                .collect()
        });
        spawn_local(async move {
            o.begin(Some(run.command), run.path, run.stdin, cases).await;
        });
    }

    async fn begin(
        &self,
        command: Option<String>,
        path: Option<String>,
        stdin: Option<String>,
        tests: Option<Vec<TestCase>>,
    ) {
        self.terms.view.set(PanelView::Output);
        self.terms.open.set(true);
        self.error.set(None);
        self.interactive.set(stdin.is_none() && tests.is_none());
        match start(self.ws.session, command, path, stdin, tests, None).await {
            Ok(started) => self.follow(started.id),
            Err(e) => self.error.set(Some(e.message)),
        }
    }

    /// Shows a run's stream (or its result, once it has ended).
    fn follow(&self, id: Uuid) {
        self.chunks.set(Vec::new());
        self.results.set(Vec::new());
        #[cfg(feature = "hydrate")]
        {
            use crate::wire::runs::RunEvent;
            let o = *self;
            let source =
                super::live::Source::open(&format!("/events/run/{id}"), move |e: RunEvent, src| {
                    match e {
                        RunEvent::Snapshot { run } => {
                            // The configuration's default input makes it not interactive.
                            if run.stdin.is_some() {
                                o.interactive.set(false);
                            }
                            o.chunks.set(chunks_of(&run));
                            o.run.set(Some(*run));
                        }
                        RunEvent::Output {
                            stream,
                            text,
                            case: None,
                        } => o.chunks.update(|c| match c.last_mut() {
                            Some((s, t)) if *s == stream => t.push_str(&text),
                            _ => c.push((stream, text)),
                        }),
                        RunEvent::Output { .. } => {}
                        RunEvent::Case { result, .. } => o.results.update(|r| r.push(*result)),
                        RunEvent::Done { run } => {
                            // The stream ends here; the browser would reconnect.
                            src.close();
                            o.show(*run);
                            o.ended.update(|n| *n += 1);
                        }
                        RunEvent::Revoked { message } => {
                            src.close();
                            o.error.set(Some(message));
                        }
                    }
                });
            self.source.set_value(source);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = id;
    }

    /// Shows a run that has ended.
    fn show(&self, run: RunResult) {
        if self.chunks.with_untracked(Vec::is_empty) || run.tests.is_some() {
            self.chunks.set(chunks_of(&run));
        }
        self.results.set(run.tests.clone().unwrap_or_default());
        self.run.set(Some(run));
    }

    fn send(&self, text: String, eof: bool) {
        let Some(id) = self.run.with_untracked(|r| r.as_ref().map(|r| r.id)) else {
            return;
        };
        let o = *self;
        // Echoed as the program's input, the way a terminal shows it.
        if !text.is_empty() {
            self.chunks
                .update(|c| c.push((Stream::Compile, text.clone())));
        }
        spawn_local(async move {
            if let Err(e) = input(id, text, Some(eof)).await {
                o.error.set(Some(e.message));
            }
        });
    }

    fn stop(&self) {
        let Some(id) = self.run.with_untracked(|r| r.as_ref().map(|r| r.id)) else {
            return;
        };
        let o = *self;
        spawn_local(async move {
            if let Err(e) = cancel(id).await {
                o.error.set(Some(e.message));
            }
        });
    }
}

/// A run's output as stored: the compile step's, then stdout and stderr (a
/// batch: each case's, under a heading).
fn chunks_of(run: &RunResult) -> Vec<(Stream, String)> {
    let mut chunks = vec![(
        Stream::Compile,
        run.compile
            .as_ref()
            .map(|c| c.output.clone())
            .unwrap_or_default(),
    )];
    match &run.tests {
        None => chunks.extend([
            (Stream::Stdout, run.stdout.clone()),
            (Stream::Stderr, run.stderr.clone()),
        ]),
        Some(cases) => {
            for (i, c) in cases.iter().enumerate() {
                let verdict = if c.passed { "passed" } else { "failed" };
                let heading = format!("── case {} ({verdict}, {}) ──\n", i + 1, c.status.label());
                chunks.extend([
                    (Stream::Compile, heading),
                    (Stream::Stdout, c.stdout.clone()),
                    (Stream::Stderr, c.stderr.clone()),
                ]);
            }
        }
    }
    chunks.retain(|(_, t)| !t.is_empty());
    chunks
}

/// F5 saves and runs the shown file, as in VS Code.
pub fn bind_f5(output: Output) {
    #[cfg(feature = "hydrate")]
    {
        let ws = output.ws;
        let keys = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.key() == "F5" && !ev.ctrl_key() && ws.can(Capability::Run) {
                ev.prevent_default();
                output.run_active(false);
            }
        });
        on_cleanup(move || keys.remove());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = output;
}

/// Whether the shown file has a language to run it with.
pub fn runnable(path: &str) -> bool {
    language_of(path).is_some()
}

#[component]
pub fn OutputView() -> impl IntoView {
    let o = use_output().expect("inside the session page");
    let ws = use_ws();
    let can_run = move || ws.can(Capability::Run);
    let line = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = line.get_untracked();
        line.set(String::new());
        o.send(format!("{text}\n"), false);
    };
    let output = move || {
        o.chunks
            .get()
            .into_iter()
            .map(|(stream, text)| {
                let class = match stream {
                    Stream::Stdout => "out-stdout",
                    Stream::Stderr => "out-stderr",
                    Stream::Compile => "out-note",
                };
                view! { <span class=class>{text}</span> }
            })
            .collect_view()
    };
    let result = move || {
        o.run.get().map(|r| {
            let status = r.status;
            let compile = r
                .compile
                .as_ref()
                .filter(|c| c.status != Status::Finished)
                .map(|c| format!(" (compile: {})", c.status.label()));
            view! {
                <div class="run-result" id="run-result" data-status=status.id()
                    class:ok=status == Status::Finished class:running=status == Status::Running>
                    {r.summary()}{compile}
                    <span class="run-command" title=r.command.clone()>{format!(" — {}", r.command)}</span>
                </div>
            }
        })
    };
    view! {
        <div class="output-view" id="output-view">
            <div class="output-toolbar">
                <Show when=can_run>
                    <button class="button small" id="run-active" title="Save and run the shown file (F5)"
                        disabled=move || o.running() on:click=move |_| o.run_active(false)>"▶ Run"</button>
                    <button class="button small" id="run-tests" title="Run the shown file once per test case"
                        disabled=move || o.running() || o.cases.with(Vec::is_empty)
                        on:click=move |_| o.run_active(true)>"Run tests"</button>
                    <button class="button small danger" id="run-stop" title="Stop the program"
                        disabled=move || !o.running() on:click=move |_| o.stop()>"■ Stop"</button>
                </Show>
                <button class="button small" id="run-config-toggle" title="How files are run: commands per language, arguments, default input"
                    on:click=move |_| o.config_open.update(|v| *v = !*v)>"Configure"</button>
                <label class="toggle">
                    <input type="checkbox" id="tests-toggle" prop:checked=move || o.tests_open.get()
                        on:change=move |ev| o.tests_open.set(event_target_checked(&ev)) />
                    {move || format!("Test cases ({})", o.cases.with(Vec::len))}
                </label>
                {result}
            </div>
            {move || o.error.get().map(|e| view! { <div class="run-error" role="alert">{e}</div> })}
            <div class="output-body">
                <pre class="run-output" id="run-output" aria-live="polite">
                    {output}
                    {move || o.run.get().is_none().then(|| view! {
                        <span class="out-note">"Run a file (▶ Run or F5): its output shows here, and you can type its input below while it runs."</span>
                    })}
                </pre>
                <Show when=move || o.tests_open.get()>
                    <TestCases />
                </Show>
                <Show when=move || o.config_open.get()>
                    <ConfigForm />
                </Show>
            </div>
            <Show when=move || o.running() && o.interactive.get() && can_run()>
                <form class="run-input" id="run-input-form" on:submit=submit>
                    <input id="run-input" placeholder="Input for the program: Enter sends a line"
                        autocomplete="off" prop:value=move || line.get()
                        on:input=move |ev| line.set(event_target_value(&ev))
                        on:keydown=move |ev| if ev.ctrl_key() && ev.key() == "d" {
                            ev.prevent_default();
                            let text = line.get_untracked();
                            line.set(String::new());
                            o.send(text, true);
                        } />
                    <button class="button small" type="submit">"Send"</button>
                    <button class="button small" type="button" id="run-eof" title="End of input (Ctrl+D)"
                        on:click=move |_| {
                            let text = line.get_untracked();
                            line.set(String::new());
                            o.send(text, true);
                        }>"End input"</button>
                </form>
            </Show>
        </div>
    }
    .into_any()
}

/// The test cases: each an input and, optionally, the output it should give;
/// after a batch, a row per case with pass or fail and the difference.
#[component]
fn TestCases() -> impl IntoView {
    let o = use_output().expect("inside the session page");
    if o.cases.with_untracked(Vec::is_empty) {
        o.add_case();
    }
    let rows = move || {
        o.cases
            .get()
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let result = move || o.results.with(|r| r.get(i).cloned());
                view! {
                    <div class="case" data-case=i>
                        <div class="case-head">
                            <strong>{format!("Case {}", i + 1)}</strong>
                            {move || result().map(|r| {
                                let verdict = if r.passed { "passed" } else { "failed" };
                                view! {
                                    <span class=format!("case-verdict {verdict}") data-verdict=verdict>
                                        {format!("{} · {} · {} ms", if r.passed { "✓ passed" } else { "✗ failed" }, r.status.label(), r.wall_ms)}
                                    </span>
                                }
                            })}
                            <button class="icon-button" title="Remove this case"
                                on:click=move |_| o.cases.update(|cs| cs.retain(|x| x.key != c.key))>"×"</button>
                        </div>
                        <div class="case-fields">
                            <label>"Input"
                                <textarea class="case-stdin" rows="3" prop:value=move || c.stdin.get()
                                    on:input=move |ev| c.stdin.set(event_target_value(&ev))></textarea>
                            </label>
                            <label>"Expected output (optional)"
                                <textarea class="case-expected" rows="3" prop:value=move || c.expected.get()
                                    on:input=move |ev| c.expected.set(event_target_value(&ev))></textarea>
                            </label>
                        </div>
                        {move || result().filter(|r| !r.passed).map(|r| view! {
                            <pre class="case-diff">
                                {if r.diff.is_empty() {
                                    format!("{}{}", r.stdout, r.stderr)
                                } else {
                                    r.diff.clone()
                                }}
                            </pre>
                        })}
                    </div>
                }
            })
            .collect_view()
    };
    view! {
        <div class="cases" id="test-cases">
            {rows}
            <button class="button small" id="add-case" on:click=move |_| o.add_case()>"+ Add case"</button>
            {move || {
                let r = o.results.get();
                (!r.is_empty()).then(|| {
                    let passed = r.iter().filter(|c| c.passed).count();
                    view! {
                        <table class="case-table" id="case-table">
                            <thead><tr><th>"#"</th><th>"Result"</th><th>"Status"</th><th>"Time"</th><th>"Memory"</th></tr></thead>
                            <tbody>
                                {r.iter().enumerate().map(|(i, c)| view! {
                                    <tr class:passed=c.passed class:failed=!c.passed>
                                        <td>{i + 1}</td>
                                        <td>{if c.passed { "passed" } else { "failed" }}</td>
                                        <td>{c.status.label()}</td>
                                        <td>{format!("{} ms", c.wall_ms)}</td>
                                        <td>{c.memory_kb.map(|k| format!("{:.1} MiB", k as f64 / 1024.0)).unwrap_or_default()}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                            <tfoot><tr><td colspan="5">{format!("{passed} of {} passed", r.len())}</td></tr></tfoot>
                        </table>
                    }
                })
            }}
        </div>
    }
    .into_any()
}

/// The session's run configuration: the shown file's language's commands, the
/// arguments and the default input; an editor saves it for everyone.
#[component]
fn ConfigForm() -> impl IntoView {
    let o = use_output().expect("inside the session page");
    let current = RwSignal::new(None::<RunConfig>);
    let note = RwSignal::new(None::<String>);
    let session = o.ws.session;
    spawn_local(async move {
        match config(session, None, None).await {
            Ok(c) => current.set(Some(c)),
            Err(e) => note.set(Some(e.message)),
        }
    });
    let language = move || {
        o.ws.tabs
            .active
            .get()
            .and_then(|p| language_of(&p))
            .unwrap_or(o.ws.language)
    };
    let save = move |reset: bool| {
        let Some(c) = current.get_untracked() else {
            return;
        };
        spawn_local(async move {
            let (set, reset) = if reset {
                (None, Some(true))
            } else {
                (Some(c), None)
            };
            match config(session, set, reset).await {
                Ok(c) => {
                    current.set(Some(c));
                    note.set(Some("Saved".into()));
                }
                Err(e) => note.set(Some(e.message)),
            }
        });
    };
    let field =
        move |get: fn(&RunConfig, crate::wire::sessions::Language) -> String,
              set: fn(&mut RunConfig, crate::wire::sessions::Language, String)| {
            (
                move || {
                    current.with(|c| c.as_ref().map(|c| get(c, language())).unwrap_or_default())
                },
                move |ev| {
                    let v = event_target_value(&ev);
                    let l = language();
                    current.update(|c| {
                        if let Some(c) = c {
                            set(c, l, v)
                        }
                    })
                },
            )
        };
    let (compile, set_compile) = field(
        |c, l| {
            c.commands
                .iter()
                .find(|x| x.language == l)
                .and_then(|x| x.compile.clone())
                .unwrap_or_default()
        },
        |c, l, v| {
            if let Some(x) = c.commands.iter_mut().find(|x| x.language == l) {
                x.compile = Some(v).filter(|v| !v.trim().is_empty());
            }
        },
    );
    let (run, set_run) = field(
        |c, l| {
            c.commands
                .iter()
                .find(|x| x.language == l)
                .map(|x| x.run.clone())
                .unwrap_or_default()
        },
        |c, l, v| {
            if let Some(x) = c.commands.iter_mut().find(|x| x.language == l) {
                x.run = v;
            }
        },
    );
    let (args, set_args) = field(|c, _| c.args.clone(), |c, _, v| c.args = v);
    let (stdin, set_stdin) = field(|c, _| c.stdin.clone(), |c, _, v| c.stdin = v);
    let can = move || o.ws.can(Capability::Run);
    view! {
        <div class="cases run-config" id="run-config">
            <strong>{move || format!("Running {} files", language().label())}</strong>
            <label>"Compile step (empty: none)"<input class="config-compile" prop:value=compile on:input=set_compile prop:disabled=move || !can() /></label>
            <label>"Run command ({file}, {args}, {out})"<input class="config-run" prop:value=run on:input=set_run prop:disabled=move || !can() /></label>
            <label>"Arguments"<input class="config-args" prop:value=args on:input=set_args prop:disabled=move || !can() /></label>
            <label>"Default input (empty: typed while it runs)"<textarea class="config-stdin" rows="3" prop:value=stdin on:input=set_stdin prop:disabled=move || !can()></textarea></label>
            <Show when=can>
                <div class="config-actions">
                    <button class="button small" id="config-save" on:click=move |_| save(false)>"Save"</button>
                    <button class="button small" on:click=move |_| save(true)>"Reset to defaults"</button>
                    <span class="config-note" role="status">{move || note.get()}</span>
                </div>
            </Show>
        </div>
    }
    .into_any()
}

/// The session's runs, newest first: open one's result, or run it again.
#[component]
pub fn RunsView() -> impl IntoView {
    let o = use_output().expect("inside the session page");
    let ws = use_ws();
    let rows = RwSignal::new(None::<Result<Vec<RunResult>, AppError>>);
    Effect::new(move |_| {
        o.ended.track();
        spawn_local(async move { rows.set(Some(list(o.ws.session, Some(100)).await)) });
    });
    let open = move |run: RunResult| {
        o.chunks.set(Vec::new());
        o.show(run);
        o.terms.view.set(PanelView::Output);
    };
    view! {
        <div class="runs-view" id="runs-view">
            {move || match rows.get() {
                None => view! { <p class="empty">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="empty error">{e.message}</p> }.into_any(),
                Some(Ok(runs)) if runs.is_empty() => view! {
                    <p class="empty">"No runs yet: ▶ Run or F5 runs the shown file."</p>
                }.into_any(),
                Some(Ok(runs)) => view! {
                    <table class="runs-table">
                        <thead><tr><th>"When"</th><th>"Who"</th><th>"Command"</th><th>"Result"</th><th></th></tr></thead>
                        <tbody>
                            {runs.into_iter().map(|r| {
                                let (r1, r2) = (r.clone(), r.clone());
                                view! {
                                    <tr class="run-row" data-status=r.status.id()>
                                        <td>{r.created_at.format("%Y-%m-%d %H:%M:%S").to_string()}</td>
                                        <td>{r.user.clone()}</td>
                                        <td class="run-command"><button class="link-button" title="Show its output"
                                            on:click=move |_| open(r1.clone())>{r.command.clone()}</button></td>
                                        <td>{r.summary()}</td>
                                        <td>
                                            <Show when=move || ws.can(Capability::Run)>
                                                <button class="button small" title="Run it again"
                                                    on:click={let r = r2.clone(); move |_| o.rerun(r.clone())}>"Re-run"</button>
                                            </Show>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
        </div>
    }
    .into_any()
}
