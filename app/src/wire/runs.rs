//! Runs: a program executed in the session's sandbox apart from its terminals,
//! with its own input, limits and measured result; one run or a batch of test
//! cases. What the API takes and returns, the run's stream, and the session's
//! run configuration (commands per language, with their placeholders).

use super::sessions::Language;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

text_enum!(
    /// How a run (or one of its steps or cases) ended; `running` until it has.
    Status {
        Running = "running",
        Finished = "finished",
        RuntimeError = "runtime_error",
        TimeLimit = "time_limit",
        WallTimeLimit = "wall_time_limit",
        MemoryLimit = "memory_limit",
        OutputLimit = "output_limit",
        CompileError = "compile_error",
        Cancelled = "cancelled",
        InternalError = "internal_error",
    }
);

impl Status {
    /// What the result line says.
    pub fn label(self) -> &'static str {
        match self {
            Self::Running => "Running",
            Self::Finished => "Finished",
            Self::RuntimeError => "Runtime error",
            Self::TimeLimit => "CPU time limit exceeded",
            Self::WallTimeLimit => "Wall time limit exceeded",
            Self::MemoryLimit => "Memory limit exceeded",
            Self::OutputLimit => "Output limit exceeded",
            Self::CompileError => "Compile error",
            Self::Cancelled => "Stopped",
            Self::InternalError => "Internal error",
        }
    }
}

/// Limits asked for by a run; each left out takes the server's default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_kb: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_bytes: Option<u64>,
}

/// The limits a run had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub cpu_ms: u64,
    pub wall_ms: u64,
    pub memory_kb: u64,
    pub processes: u64,
    pub output_bytes: u64,
}

impl Limits {
    /// Each asked-for limit in place of the default; the first one above its
    /// maximum is refused, by name.
    pub fn resolve(asked: &LimitRequest, default: Limits, max: Limits) -> Result<Limits, String> {
        let pick = |name: &str, v: Option<u64>, d: u64, m: u64| match v {
            None => Ok(d.min(m)),
            Some(0) => Err(format!("{name} must be at least 1")),
            Some(v) if v > m => Err(format!("{name} {v} is above the server's maximum of {m}")),
            Some(v) => Ok(v),
        };
        Ok(Limits {
            cpu_ms: pick("cpu_ms", asked.cpu_ms, default.cpu_ms, max.cpu_ms)?,
            wall_ms: pick("wall_ms", asked.wall_ms, default.wall_ms, max.wall_ms)?,
            memory_kb: pick(
                "memory_kb",
                asked.memory_kb,
                default.memory_kb,
                max.memory_kb,
            )?,
            processes: pick(
                "processes",
                asked.processes,
                default.processes,
                max.processes,
            )?,
            output_bytes: pick(
                "output_bytes",
                asked.output_bytes,
                default.output_bytes,
                max.output_bytes,
            )?,
        })
    }
}

/// One case of a batch: its input, and the output it should give.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestCase {
    #[serde(default)]
    pub stdin: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_stdout: Option<String>,
}

/// What `/api/runs/start` and `/api/runs/execute` take.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRequest {
    pub session: Uuid,
    /// A shell command run as it is; without it, the configured command for `path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Given, it is the whole input (end of input follows); left out, a started
    /// run takes input as it comes (`/api/runs/input`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<Vec<TestCase>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<LimitRequest>,
}

/// The compile step of a compiled language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompileResult {
    pub command: String,
    pub status: Status,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    /// Its stdout and stderr together, as they came.
    pub output: String,
    pub output_truncated: bool,
    pub cpu_ms: u64,
    pub wall_ms: u64,
    pub memory_kb: Option<u64>,
}

/// One case of a batch, as it ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestResult {
    pub stdin: String,
    pub expected_stdout: Option<String>,
    pub stdout: String,
    pub stderr: String,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    pub status: Status,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    /// Finished with the expected output (line ends' trailing spaces and the
    /// final newlines aside); without an expected output, finished at all.
    pub passed: bool,
    /// Expected against actual, as a unified diff; empty when they agree.
    pub diff: String,
    pub cpu_ms: u64,
    pub wall_ms: u64,
    pub memory_kb: Option<u64>,
}

/// A file as the run found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileHash {
    pub path: String,
    pub hash: String,
}

/// A run, finished or not: what it ran, on what, and how it went. A batch's
/// top-level streams are empty; its cases have theirs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunResult {
    pub id: Uuid,
    pub session: Uuid,
    /// Who ran it.
    pub user: String,
    pub created_at: DateTime<Utc>,
    pub command: String,
    pub path: Option<String>,
    pub stdin: Option<String>,
    pub limits: Limits,
    pub files: Vec<FileHash>,
    pub status: Status,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    pub cpu_ms: u64,
    pub wall_ms: u64,
    pub memory_kb: Option<u64>,
    pub compile: Option<CompileResult>,
    pub tests: Option<Vec<TestResult>>,
}

impl RunResult {
    /// "Finished · exit 0 · 12 ms · 8.1 MiB": the result line.
    pub fn summary(&self) -> String {
        let mut parts = vec![self.status.label().to_string()];
        if let Some(s) = self.signal {
            parts.push(format!("signal {s}"));
        } else if let (Some(c), None) = (self.exit_code, &self.tests) {
            parts.push(format!("exit {c}"));
        }
        if let Some(t) = &self.tests {
            let passed = t.iter().filter(|c| c.passed).count();
            parts.push(format!("{passed}/{} passed", t.len()));
        }
        if self.status != Status::Running {
            parts.push(format!("{} ms CPU", self.cpu_ms));
            parts.push(format!("{} ms", self.wall_ms));
            if let Some(kb) = self.memory_kb {
                parts.push(format!("{:.1} MiB", kb as f64 / 1024.0));
            }
        }
        parts.join(" · ")
    }
}

/// Which output a chunk is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
    /// The compile step's output (both of its streams).
    Compile,
}

/// The messages of a run's stream (`GET /events/run/{id}`, server-sent events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RunEvent {
    /// First: the run as it is so far (its output until now included).
    Snapshot { run: Box<RunResult> },
    /// Output as it comes; `case` is the batch case it belongs to.
    Output {
        stream: Stream,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        case: Option<usize>,
    },
    /// A batch case has ended.
    Case {
        case: usize,
        result: Box<TestResult>,
    },
    /// Last: the result; the stream ends.
    Done { run: Box<RunResult> },
    /// The reader lost access to the session; the stream ends.
    Revoked { message: String },
}

/// How one language is run: an optional compile step, then the program.
/// Placeholders: `{file}` (the path, quoted), `{args}`, `{out}` (a scratch file
/// for the compiled program).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanguageCommand {
    pub language: Language,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compile: Option<String>,
    pub run: String,
}

/// A session's run configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunConfig {
    pub commands: Vec<LanguageCommand>,
    /// Put where `{args}` is.
    #[serde(default)]
    pub args: String,
    /// The input of a run started without one (empty: typed as it runs).
    #[serde(default)]
    pub stdin: String,
}

impl Default for RunConfig {
    fn default() -> Self {
        let c = |language, compile: Option<&str>, run: &str| LanguageCommand {
            language,
            compile: compile.map(String::from),
            run: run.into(),
        };
        use Language as L;
        Self {
            commands: vec![
                c(L::Python, None, "python3 -u {file} {args}"),
                c(L::Javascript, None, "node {file} {args}"),
                c(L::Typescript, None, "npx --no-install tsx {file} {args}"),
                c(
                    L::C,
                    Some("gcc -O2 -Wall -o {out} {file} -lm"),
                    "{out} {args}",
                ),
                c(
                    L::Cpp,
                    Some("g++ -O2 -Wall -o {out} {file}"),
                    "{out} {args}",
                ),
                c(L::Rust, Some("rustc -O -o {out} {file}"), "{out} {args}"),
                c(L::Java, None, "java {file} {args}"),
                c(L::Go, None, "go run {file} {args}"),
                c(L::Bash, None, "bash {file} {args}"),
            ],
            args: String::new(),
            stdin: String::new(),
        }
    }
}

/// The language of a file, by its extension.
pub fn language_of(path: &str) -> Option<Language> {
    let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "py" => Language::Python,
        "js" | "mjs" | "cjs" => Language::Javascript,
        "ts" => Language::Typescript,
        "c" => Language::C,
        "cc" | "cpp" | "cxx" => Language::Cpp,
        "rs" => Language::Rust,
        "java" => Language::Java,
        "go" => Language::Go,
        "sh" | "bash" => Language::Bash,
        _ => return None,
    })
}

/// A word quoted for the shell.
pub fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// The shell commands of one run: the compile step (if any) and the program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub compile: Option<String>,
    pub run: String,
}

impl RunConfig {
    /// How `path` runs, with the placeholders filled in; `out` is the compiled
    /// program's scratch path. `None` when no language is configured for it.
    pub fn plan(&self, path: &str, out: &str) -> Option<Plan> {
        let language = language_of(path)?;
        let c = self.commands.iter().find(|c| c.language == language)?;
        let fill = |t: &str| {
            t.replace("{file}", &quote(path))
                .replace("{out}", &quote(out))
                .replace("{args}", &self.args)
                .trim()
                .to_string()
        };
        Some(Plan {
            compile: c.compile.as_deref().map(fill).filter(|s| !s.is_empty()),
            run: fill(&c.run),
        })
    }

    /// Errors a user can fix before saving it.
    pub fn check(&self) -> Result<(), String> {
        for c in &self.commands {
            if c.run.trim().is_empty() {
                return Err(format!(
                    "the run command for {} is empty",
                    c.language.label()
                ));
            }
        }
        let mut seen: Vec<Language> = self.commands.iter().map(|c| c.language).collect();
        seen.sort_by_key(|l| l.id());
        if seen.windows(2).any(|w| w[0] == w[1]) {
            return Err("a language is configured twice".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(n: u64) -> Limits {
        Limits {
            cpu_ms: n,
            wall_ms: n,
            memory_kb: n,
            processes: n,
            output_bytes: n,
        }
    }

    #[test]
    fn limits_take_defaults_and_refuse_above_maxima() {
        let asked = LimitRequest {
            wall_ms: Some(50),
            ..Default::default()
        };
        let got = Limits::resolve(&asked, limits(10), limits(100)).unwrap();
        assert_eq!((got.cpu_ms, got.wall_ms), (10, 50));
        let over = LimitRequest {
            memory_kb: Some(101),
            ..Default::default()
        };
        let err = Limits::resolve(&over, limits(10), limits(100)).unwrap_err();
        assert!(err.contains("memory_kb 101"), "{err}");
    }

    #[test]
    fn plans_fill_placeholders_quoted() {
        let mut config = RunConfig {
            args: "--fast 3".into(),
            ..Default::default()
        };
        let p = config.plan("src/it's.c", "/tmp/out").unwrap();
        assert_eq!(
            p.compile.as_deref(),
            Some(r"gcc -O2 -Wall -o '/tmp/out' 'src/it'\''s.c' -lm")
        );
        assert_eq!(p.run, "'/tmp/out' --fast 3");
        config.args.clear();
        assert_eq!(
            config.plan("main.py", "x").unwrap().run,
            "python3 -u 'main.py'"
        );
        assert!(config.plan("README.md", "x").is_none());
    }
}
