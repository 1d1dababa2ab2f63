//! Runs: a program executed in the session's sandbox apart from its terminals.
//! A run syncs the sandbox back first (what the terminal changed counts), records
//! the files' hashes, compiles if the language needs it, then runs the program
//! once (input typed as it goes, or given) or once per test case; each
//! execution is its own process tree with its own limits. Output streams to the
//! run's stream (`stream.rs`) as it comes; the result is stored when it ends.

pub mod execution;
pub mod stream;

use crate::runner::{ExecSpec, SessionRef};
use crate::sandboxes::Sandboxes;
use app::server::runs::{self as data, NewRun, RunBy};
use app::server::state::RunHooks;
use app::wire::runs::{
    CompileResult, Limits, RunEvent, RunRequest, RunResult, Status, Stream, TestCase, TestResult,
};
use app::AppError;
use execution::{Feed, Input, Outcome, Utf8Chunks};
use sqlx::PgPool;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};
use tracing::Instrument;
use uuid::Uuid;

/// The limits and caps of runs (flags and env: `Config::run_settings`).
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub default: Limits,
    pub max: Limits,
    /// Runs one user may have going at once.
    pub per_user: usize,
    /// Bytes of each stream kept (and streamed).
    pub keep_bytes: usize,
    /// Cases in one batch.
    pub max_cases: usize,
}

impl Default for RunSettings {
    fn default() -> Self {
        Self {
            default: Limits {
                cpu_ms: 10_000,
                wall_ms: 20_000,
                memory_kb: 256 * 1024,
                processes: 64,
                output_bytes: 16 << 20,
            },
            max: Limits {
                cpu_ms: 60_000,
                wall_ms: 300_000,
                memory_kb: 2 * 1024 * 1024,
                processes: 256,
                output_bytes: 256 << 20,
            },
            per_user: 4,
            keep_bytes: 1 << 20,
            max_cases: 100,
        }
    }
}

/// A run going on: how to reach it while it runs.
struct Active {
    input: Option<mpsc::UnboundedSender<Input>>,
    cancel: watch::Sender<bool>,
    /// The run as it is so far (its kept output included): a stream's first message.
    snapshot: Mutex<RunResult>,
    events: broadcast::Sender<RunEvent>,
    /// The result, once it has ended.
    done: watch::Sender<Option<Arc<RunResult>>>,
}

pub struct Runs {
    sandboxes: Arc<Sandboxes>,
    pool: PgPool,
    settings: RunSettings,
    active: Mutex<HashMap<Uuid, Arc<Active>>>,
    /// Runs going on per user (taken before a run starts, so no two requests
    /// slip past the cap together).
    slots: Arc<Mutex<HashMap<i64, usize>>>,
}

/// One of a user's run slots, given back when dropped.
struct Slot {
    slots: Arc<Mutex<HashMap<i64, usize>>>,
    user: i64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut slots = self.slots.lock().expect("lock");
        if let Some(n) = slots.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                slots.remove(&self.user);
            }
        }
    }
}

/// A plan of the program to run: the compile step and the program, as shell
/// commands, with the scratch file of a compiled program.
struct Plan {
    command: String,
    compile: Option<String>,
    out: String,
    /// The configuration's default input, for a file run without one.
    stdin: Option<String>,
}

impl Runs {
    pub fn new(sandboxes: Arc<Sandboxes>, pool: PgPool, settings: RunSettings) -> Arc<Self> {
        Arc::new(Self {
            sandboxes,
            pool,
            settings,
            active: Default::default(),
            slots: Default::default(),
        })
    }

    /// Marks runs an earlier server left running as internal errors.
    pub async fn recover(&self) -> Result<(), AppError> {
        let after = Duration::from_millis(self.settings.max.wall_ms) * 2 + Duration::from_secs(60);
        let n = data::abandon(&self.pool, after).await?;
        if n > 0 {
            tracing::info!(
                runs = n,
                "runs left by an earlier server ended as internal errors"
            );
        }
        Ok(())
    }

    /// The stream of a run going on: its snapshot and what follows; `None` when
    /// it has ended (its stored result is all there is).
    pub fn follow(&self, run: Uuid) -> Option<(RunResult, broadcast::Receiver<RunEvent>)> {
        let active = self.active.lock().expect("lock").get(&run).cloned()?;
        // Subscribed under the snapshot's lock: nothing is missed or told twice.
        let snapshot = active.snapshot.lock().expect("lock");
        Some((snapshot.clone(), active.events.subscribe()))
    }

    fn validate(&self, req: &RunRequest) -> Result<(Limits, Vec<TestCase>), AppError> {
        let asked = req.limits.clone().unwrap_or_default();
        let limits = Limits::resolve(&asked, self.settings.default, self.settings.max)
            .map_err(AppError::invalid)?;
        let tests = req.tests.clone().unwrap_or_default();
        if req.tests.is_some() && tests.is_empty() {
            return Err(AppError::invalid("tests is empty: give at least one case"));
        }
        if tests.len() > self.settings.max_cases {
            return Err(AppError::invalid(format!(
                "{} test cases; at most {} in one run",
                tests.len(),
                self.settings.max_cases
            )));
        }
        if req.command.is_none() && req.path.is_none() {
            return Err(AppError::invalid("give a command or a path to run"));
        }
        if let Some(c) = &req.command {
            if c.trim().is_empty() {
                return Err(AppError::invalid("the command is empty"));
            }
        }
        Ok((limits, tests))
    }

    async fn plan(&self, sid: i64, id: Uuid, req: &RunRequest) -> Result<Plan, AppError> {
        let out = format!("/tmp/webide-runs/{}", id.simple());
        if let Some(c) = &req.command {
            return Ok(Plan {
                command: c.clone(),
                compile: None,
                out,
                stdin: None,
            });
        }
        let path = req.path.as_deref().unwrap_or_default();
        let path = app::paths::validate(path)?;
        let config = data::config(&self.pool, sid).await?;
        let plan = config.plan(&path, &out).ok_or_else(|| {
            AppError::invalid(format!(
                "no run command is configured for {path}; give a command, or set one for its \
                 language in the run configuration"
            ))
        })?;
        Ok(Plan {
            command: plan.run,
            compile: plan.compile,
            out,
            stdin: Some(config.stdin).filter(|s| !s.is_empty()),
        })
    }

    /// Takes one of the user's run slots, or 429; the slot is given back when
    /// the guard drops (the run ended, or never started).
    fn admit(&self, user: i64) -> Result<Slot, AppError> {
        let mut slots = self.slots.lock().expect("lock");
        let running = slots.entry(user).or_default();
        if *running >= self.settings.per_user {
            let mut e = AppError::rate_limited(1);
            e.message = format!(
                "you have {running} runs going on, the most at once; wait for one to end or stop it"
            );
            return Err(e);
        }
        *running += 1;
        Ok(Slot {
            slots: self.slots.clone(),
            user,
        })
    }

    async fn begin(
        self: &Arc<Self>,
        grant: RunBy,
        req: RunRequest,
        interactive: bool,
    ) -> Result<Uuid, AppError> {
        let (limits, tests) = self.validate(&req)?;
        let id = Uuid::new_v4();
        // Where a run's time before its program goes, for the log.
        let t0 = std::time::Instant::now();
        let plan = self.plan(grant.session_id, id, &req).await?;
        let slot = self.admit(grant.user_id)?;
        let s = SessionRef {
            uuid: grant.session,
            id: grant.session_id,
            user: grant.owner_id,
            language: grant.language,
        };
        let live = self.sandboxes.open(s, &|_| {}).await.map_err(|e| match e {
            crate::sandboxes::WorkspaceError::Full(m) => AppError::too_many(m),
            e => AppError::new(
                app::error::ErrorCode::Unavailable,
                format!("the sandbox could not start: {e}"),
            ),
        })?;
        let in_use = live.in_use();
        let opened = t0.elapsed();
        // What the terminal changed and was not synced yet is part of what runs.
        if let Err(e) = self.sandboxes.sync_now(&live, None).await {
            tracing::warn!(session = %s.uuid, "syncing before a run: {e}");
        }
        let synced = t0.elapsed();
        let files = data::file_hashes(&self.pool, grant.session_id).await?;
        let stdin = req.stdin.clone().or(plan.stdin.clone());
        let snapshot = data::create(
            &self.pool,
            NewRun {
                id,
                session: grant.session,
                session_id: grant.session_id,
                user_id: grant.user_id,
                username: &grant.username,
                command: &plan.command,
                path: req.path.as_deref(),
                stdin: stdin.as_deref(),
                limits,
                files: &files,
                tests: &tests,
            },
        )
        .await?;
        let (input_tx, input_rx) = mpsc::unbounded_channel();
        let live_input = interactive && stdin.is_none() && tests.is_empty();
        let active = Arc::new(Active {
            input: live_input.then_some(input_tx),
            cancel: watch::channel(false).0,
            snapshot: Mutex::new(snapshot),
            events: broadcast::channel(1024).0,
            done: watch::channel(None).0,
        });
        self.active.lock().expect("lock").insert(id, active.clone());
        let feed = if live_input {
            Feed::Live(input_rx)
        } else {
            Feed::Fixed(stdin.unwrap_or_default().into_bytes())
        };
        let me = self.clone();
        let span = tracing::info_span!("run", %id, session = %s.uuid);
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        tracing::debug!(
            open_ms = ms(opened),
            sync_ms = ms(synced - opened),
            store_ms = ms(t0.elapsed() - synced),
            "run prepared"
        );
        tokio::spawn(
            async move {
                let started = std::time::Instant::now();
                let result = me.execute(s, &active, plan, limits, tests, feed).await;
                let executed = started.elapsed();
                if let Err(e) = data::finish(&me.pool, &result).await {
                    tracing::error!("storing a run's result: {e}");
                }
                tracing::info!(
                    status = result.status.id(),
                    ms = result.wall_ms,
                    exec_ms = ms(executed),
                    finish_ms = ms(started.elapsed() - executed),
                    "run ended"
                );
                me.active.lock().expect("lock").remove(&id);
                let _ = active.events.send(RunEvent::Done {
                    run: Box::new(result.clone()),
                });
                let _ = active.done.send(Some(Arc::new(result)));
                drop((in_use, slot));
            }
            .instrument(span),
        );
        Ok(id)
    }

    /// Compiles if needed, then runs once or once per case; the result.
    async fn execute(
        &self,
        s: SessionRef,
        active: &Active,
        plan: Plan,
        limits: Limits,
        tests: Vec<TestCase>,
        feed: Feed,
    ) -> RunResult {
        let mut result = active.snapshot.lock().expect("lock").clone();
        if let Some(compile) = &plan.compile {
            let script = format!("mkdir -p /tmp/webide-runs && {compile}");
            let o = self
                .once(
                    s,
                    active,
                    &script,
                    &limits,
                    Feed::Fixed(Vec::new()),
                    None,
                    true,
                )
                .await;
            let mut output = o.stdout.bytes;
            output.extend_from_slice(&o.stderr.bytes);
            let ok = o.status == Status::Finished;
            result.compile = Some(CompileResult {
                command: compile.clone(),
                status: if ok {
                    o.status
                } else {
                    compile_status(o.status)
                },
                exit_code: o.ended.exit_code,
                signal: o.ended.signal,
                output: String::from_utf8_lossy(&output).into_owned(),
                output_truncated: o.stdout.truncated || o.stderr.truncated,
                cpu_ms: o.ended.cpu_ms,
                wall_ms: o.wall_ms,
                memory_kb: o.ended.memory_kb,
            });
            if !ok {
                result.status = compile_status(o.status);
                result.cpu_ms = o.ended.cpu_ms;
                result.wall_ms = o.wall_ms;
                result.memory_kb = o.ended.memory_kb;
                return result;
            }
        }
        if tests.is_empty() {
            let o = self
                .once(s, active, &plan.command, &limits, feed, None, false)
                .await;
            let compile_ms = result.compile.as_ref().map_or(0, |c| c.wall_ms);
            result.status = o.status;
            result.exit_code = o.ended.exit_code;
            result.signal = o.ended.signal;
            result.stdout = o.stdout.text();
            result.stderr = o.stderr.text();
            result.stdout_truncated = o.stdout.truncated;
            result.stderr_truncated = o.stderr.truncated;
            result.cpu_ms = o.ended.cpu_ms;
            result.wall_ms = o.wall_ms + compile_ms;
            result.memory_kb = o.ended.memory_kb;
        } else {
            let mut cases = Vec::new();
            for (i, case) in tests.into_iter().enumerate() {
                if *active.cancel.borrow() {
                    break;
                }
                let input = Feed::Fixed(case.stdin.clone().into_bytes());
                let o = self
                    .once(s, active, &plan.command, &limits, input, Some(i), false)
                    .await;
                let r = case_result(case, o);
                let _ = active.events.send(RunEvent::Case {
                    case: i,
                    result: Box::new(r.clone()),
                });
                cases.push(r);
            }
            let first_bad = cases.iter().find(|c| c.status != Status::Finished);
            result.status = if *active.cancel.borrow() {
                Status::Cancelled
            } else {
                first_bad.map_or(Status::Finished, |c| c.status)
            };
            result.exit_code = cases.last().and_then(|c| c.exit_code);
            result.signal = first_bad.and_then(|c| c.signal);
            result.cpu_ms = cases.iter().map(|c| c.cpu_ms).sum();
            result.wall_ms = cases.iter().map(|c| c.wall_ms).sum();
            result.memory_kb = cases.iter().filter_map(|c| c.memory_kb).max();
            result.tests = Some(cases);
        }
        if plan.compile.is_some() {
            let script = format!("rm -f {}", app::wire::runs::quote(&plan.out));
            let quick = Limits {
                wall_ms: 5_000,
                ..limits
            };
            let _ = self
                .once(
                    s,
                    active,
                    &script,
                    &quick,
                    Feed::Fixed(Vec::new()),
                    None,
                    true,
                )
                .await;
        }
        result
    }

    /// One execution in the sandbox; `quiet` ones (compiling, cleaning up) stream
    /// as the compile output, or not at all.
    #[allow(clippy::too_many_arguments)]
    async fn once(
        &self,
        s: SessionRef,
        active: &Active,
        script: &str,
        limits: &Limits,
        feed: Feed,
        case: Option<usize>,
        compile: bool,
    ) -> Outcome {
        let spec = ExecSpec {
            id: Uuid::new_v4(),
            script: script.to_string(),
            cpu_ms: limits.cpu_ms,
            memory_bytes: limits.memory_kb * 1024,
            processes: limits.processes,
        };
        let process = match self.sandboxes.runner().exec(s, spec).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("starting a run: {e}");
                return Outcome {
                    status: Status::InternalError,
                    ended: Default::default(),
                    stdout: Default::default(),
                    stderr: execution::Kept {
                        bytes: e.to_string().into_bytes(),
                        truncated: false,
                    },
                    wall_ms: 0,
                };
            }
        };
        let (mut out_text, mut err_text) = (Utf8Chunks::default(), Utf8Chunks::default());
        let emit = |stream: Stream, bytes: &[u8]| {
            let text = match stream {
                Stream::Stdout => out_text.push(bytes),
                _ => err_text.push(bytes),
            };
            if text.is_empty() {
                return;
            }
            let stream = if compile { Stream::Compile } else { stream };
            let mut snap = active.snapshot.lock().expect("lock");
            if case.is_none() {
                match stream {
                    Stream::Stdout => snap.stdout.push_str(&text),
                    Stream::Stderr => snap.stderr.push_str(&text),
                    Stream::Compile => {}
                }
            }
            let _ = active.events.send(RunEvent::Output { stream, text, case });
        };
        execution::run(
            process,
            feed,
            limits,
            self.settings.keep_bytes,
            emit,
            active.cancel.subscribe(),
        )
        .await
    }
}

/// A compile step that did not finish: a compile error, unless stopped.
fn compile_status(s: Status) -> Status {
    match s {
        Status::Cancelled | Status::InternalError => s,
        _ => Status::CompileError,
    }
}

fn case_result(case: TestCase, o: Outcome) -> TestResult {
    let stdout = o.stdout.text();
    let (passed, diff) = match &case.expected_stdout {
        Some(expected) if o.status == Status::Finished => data::judge(expected, &stdout),
        Some(_) => (false, String::new()),
        None => (o.status == Status::Finished, String::new()),
    };
    TestResult {
        stdin: case.stdin,
        expected_stdout: case.expected_stdout,
        stdout,
        stderr: o.stderr.text(),
        stdout_truncated: o.stdout.truncated,
        stderr_truncated: o.stderr.truncated,
        status: o.status,
        exit_code: o.ended.exit_code,
        signal: o.ended.signal,
        passed,
        diff,
        cpu_ms: o.ended.cpu_ms,
        wall_ms: o.wall_ms,
        memory_kb: o.ended.memory_kb,
    }
}

type Boxed<'a, T> = Pin<Box<dyn Future<Output = Result<T, AppError>> + Send + 'a>>;

/// The runs of the API, served by the `Runs` of this server.
pub struct Hooks(pub Arc<Runs>);

impl Hooks {
    fn active(&self, run: Uuid) -> Result<Arc<Active>, AppError> {
        self.0
            .active
            .lock()
            .expect("lock")
            .get(&run)
            .cloned()
            .ok_or_else(|| AppError::conflict("the run has ended"))
    }
}

impl RunHooks for Hooks {
    fn start(&self, grant: RunBy, request: RunRequest, interactive: bool) -> Boxed<'_, Uuid> {
        Box::pin(self.0.begin(grant, request, interactive))
    }

    fn input(&self, run: Uuid, data: String, eof: bool) -> Boxed<'_, ()> {
        Box::pin(async move {
            let active = self.active(run)?;
            let tx = active
                .input
                .as_ref()
                .ok_or_else(|| AppError::conflict("this run's input was given when it started"))?;
            let closed = || AppError::conflict("the program's input is closed");
            if !data.is_empty() {
                tx.send(Input::Data(data.into_bytes()))
                    .map_err(|_| closed())?;
            }
            if eof {
                tx.send(Input::Eof).map_err(|_| closed())?;
            }
            Ok(())
        })
    }

    fn cancel(&self, run: Uuid) -> Boxed<'_, ()> {
        Box::pin(async move {
            let active = self.active(run)?;
            let _ = active.cancel.send(true);
            Ok(())
        })
    }

    fn wait(&self, run: Uuid, within: Duration) -> Boxed<'_, Option<RunResult>> {
        Box::pin(async move {
            let Ok(active) = self.active(run) else {
                return Ok(None);
            };
            let mut done = active.done.subscribe();
            drop(active);
            let ended = tokio::time::timeout(within, done.wait_for(Option::is_some)).await;
            Ok(ended
                .ok()
                .and_then(|r| r.ok().and_then(|r| r.as_deref().cloned())))
        })
    }
}
