//! Runs as Postgres keeps them: created when they start (with the files they
//! run on), finished with their results; the cases of a batch; the session's
//! run configuration; how a case's output is judged. The server crate executes
//! them (`state::RunHooks`).

use crate::wire::runs::{
    CompileResult, FileHash, Limits, RunConfig, RunResult, Status, TestCase, TestResult,
};
use crate::AppError;
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::PgPool;
use uuid::Uuid;

/// Who starts a run, where: what the access decision granted.
#[derive(Debug, Clone)]
pub struct RunBy {
    pub session: Uuid,
    pub session_id: i64,
    /// The session's owner: the sandbox is theirs.
    pub owner_id: i64,
    pub language: crate::wire::sessions::Language,
    pub user_id: i64,
    pub username: String,
}

/// The session's run configuration, the defaults where none was saved.
pub async fn config(pool: &PgPool, sid: i64) -> Result<RunConfig, AppError> {
    let saved: Option<Json<RunConfig>> =
        sqlx::query_scalar("SELECT config FROM run_configs WHERE session_id = $1")
            .bind(sid)
            .fetch_optional(pool)
            .await?;
    Ok(saved.map(|j| j.0).unwrap_or_default())
}

pub async fn set_config(
    pool: &PgPool,
    sid: i64,
    user: i64,
    config: &RunConfig,
) -> Result<(), AppError> {
    config.check().map_err(AppError::invalid)?;
    sqlx::query(
        "INSERT INTO run_configs (session_id, config, updated_by) VALUES ($1, $2, $3)
         ON CONFLICT (session_id)
         DO UPDATE SET config = EXCLUDED.config, updated_by = $3, updated_at = now()",
    )
    .bind(sid)
    .bind(Json(config))
    .bind(user)
    .execute(pool)
    .await?;
    Ok(())
}

/// Every file of the session with its content hash, by path.
pub async fn file_hashes(pool: &PgPool, sid: i64) -> Result<Vec<FileHash>, AppError> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT full_path, content_hash FROM workspace_items
         WHERE session_id = $1 AND kind = 'file' ORDER BY full_path",
    )
    .bind(sid)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(path, hash)| FileHash { path, hash })
        .collect())
}

/// A run about to start.
pub struct NewRun<'a> {
    pub id: Uuid,
    pub session: Uuid,
    pub session_id: i64,
    pub user_id: i64,
    pub username: &'a str,
    pub command: &'a str,
    pub path: Option<&'a str>,
    pub stdin: Option<&'a str>,
    pub limits: Limits,
    pub files: &'a [FileHash],
    pub tests: &'a [TestCase],
}

/// A transaction for a run's record that does not wait for the disk: a run
/// starts and answers a flush sooner, and a crash in the next fraction of a
/// second loses at most the record (the run then reads `internal_error`), never
/// a file.
async fn record(pool: &PgPool) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, AppError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET LOCAL synchronous_commit = off")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// Records a run as it starts; the run as it is then (status `running`).
pub async fn create(pool: &PgPool, r: NewRun<'_>) -> Result<RunResult, AppError> {
    let mut tx = record(pool).await?;
    let (run_id, created_at): (i64, DateTime<Utc>) = sqlx::query_as(
        "INSERT INTO runs (uuid, session_id, user_id, command, path, stdin, limits, files)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, created_at",
    )
    .bind(r.id)
    .bind(r.session_id)
    .bind(r.user_id)
    .bind(r.command)
    .bind(r.path)
    .bind(r.stdin.map(no_nul))
    .bind(Json(r.limits))
    .bind(Json(r.files))
    .fetch_one(&mut *tx)
    .await?;
    if !r.tests.is_empty() {
        let stdins: Vec<String> = r.tests.iter().map(|t| no_nul(&t.stdin)).collect();
        let expected: Vec<Option<String>> = r
            .tests
            .iter()
            .map(|t| t.expected_stdout.as_deref().map(no_nul))
            .collect();
        sqlx::query(
            "INSERT INTO run_cases (run_id, position, stdin, expected_stdout)
             SELECT $1, n - 1, s, e
             FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS c(s, e, n)",
        )
        .bind(run_id)
        .bind(&stdins)
        .bind(&expected)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(RunResult {
        id: r.id,
        session: r.session,
        user: r.username.to_string(),
        created_at,
        command: r.command.to_string(),
        path: r.path.map(String::from),
        stdin: r.stdin.map(no_nul),
        limits: r.limits,
        files: r.files.to_vec(),
        status: Status::Running,
        exit_code: None,
        signal: None,
        stdout: String::new(),
        stderr: String::new(),
        stdout_truncated: false,
        stderr_truncated: false,
        cpu_ms: 0,
        wall_ms: 0,
        memory_kb: None,
        compile: None,
        tests: None,
    })
}

/// Stores a run's result (and its cases') once it has ended.
pub async fn finish(pool: &PgPool, r: &RunResult) -> Result<(), AppError> {
    let mut tx = record(pool).await?;
    let run_id: i64 = sqlx::query_scalar(
        "UPDATE runs SET finished_at = now(), status = $2, exit_code = $3, signal = $4,
                stdout = $5, stderr = $6, stdout_truncated = $7, stderr_truncated = $8,
                cpu_ms = $9, wall_ms = $10, memory_kb = $11, compile = $12
         WHERE uuid = $1 RETURNING id",
    )
    .bind(r.id)
    .bind(r.status)
    .bind(r.exit_code)
    .bind(r.signal)
    .bind(no_nul(&r.stdout))
    .bind(no_nul(&r.stderr))
    .bind(r.stdout_truncated)
    .bind(r.stderr_truncated)
    .bind(r.cpu_ms as i64)
    .bind(r.wall_ms as i64)
    .bind(r.memory_kb.map(|m| m as i64))
    .bind(r.compile.as_ref().map(|c| {
        let mut c = c.clone();
        c.output = no_nul(&c.output);
        Json(c)
    }))
    .fetch_one(&mut *tx)
    .await?;
    for (i, c) in r.tests.iter().flatten().enumerate() {
        sqlx::query(
            "UPDATE run_cases SET status = $3, exit_code = $4, signal = $5, stdout = $6,
                    stderr = $7, stdout_truncated = $8, stderr_truncated = $9, passed = $10,
                    diff = $11, cpu_ms = $12, wall_ms = $13, memory_kb = $14
             WHERE run_id = $1 AND position = $2",
        )
        .bind(run_id)
        .bind(i as i32)
        .bind(c.status)
        .bind(c.exit_code)
        .bind(c.signal)
        .bind(no_nul(&c.stdout))
        .bind(no_nul(&c.stderr))
        .bind(c.stdout_truncated)
        .bind(c.stderr_truncated)
        .bind(c.passed)
        .bind(no_nul(&c.diff))
        .bind(c.cpu_ms as i64)
        .bind(c.wall_ms as i64)
        .bind(c.memory_kb.map(|m| m as i64))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Runs a server left running when it stopped (crashed): they end as internal
/// errors once nothing can still be running them (`after` past their start).
pub async fn abandon(pool: &PgPool, after: std::time::Duration) -> Result<u64, AppError> {
    Ok(sqlx::query(
        "UPDATE runs SET status = 'internal_error', finished_at = now(),
                stderr = stderr || E'\\n[the server stopped during this run]'
         WHERE status = 'running' AND created_at < now() - make_interval(secs => $1)",
    )
    .bind(after.as_secs_f64())
    .execute(pool)
    .await?
    .rows_affected())
}

#[derive(sqlx::FromRow)]
struct RunRow {
    id: i64,
    uuid: Uuid,
    session: Uuid,
    username: String,
    created_at: DateTime<Utc>,
    command: String,
    path: Option<String>,
    stdin: Option<String>,
    limits: Json<Limits>,
    files: Json<Vec<FileHash>>,
    status: Status,
    exit_code: Option<i32>,
    signal: Option<i32>,
    stdout: String,
    stderr: String,
    stdout_truncated: bool,
    stderr_truncated: bool,
    cpu_ms: i64,
    wall_ms: i64,
    memory_kb: Option<i64>,
    compile: Option<Json<CompileResult>>,
}

#[derive(sqlx::FromRow)]
struct CaseRow {
    run_id: i64,
    stdin: String,
    expected_stdout: Option<String>,
    status: Status,
    exit_code: Option<i32>,
    signal: Option<i32>,
    stdout: String,
    stderr: String,
    stdout_truncated: bool,
    stderr_truncated: bool,
    passed: bool,
    diff: String,
    cpu_ms: i64,
    wall_ms: i64,
    memory_kb: Option<i64>,
}

const RUN_COLUMNS: &str = "r.id, r.uuid, s.uuid AS session, u.username, r.created_at, r.command,
    r.path, r.stdin, r.limits, r.files, r.status, r.exit_code, r.signal, r.stdout, r.stderr,
    r.stdout_truncated, r.stderr_truncated, r.cpu_ms, r.wall_ms, r.memory_kb, r.compile
    FROM runs r JOIN code_sessions s ON s.id = r.session_id JOIN users u ON u.id = r.user_id";

/// The runs of `rows`, each with its cases (one query for all of them).
async fn with_cases(pool: &PgPool, rows: Vec<RunRow>) -> Result<Vec<RunResult>, AppError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let cases: Vec<CaseRow> = sqlx::query_as(
        "SELECT run_id, stdin, expected_stdout, status, exit_code, signal, stdout, stderr,
                stdout_truncated, stderr_truncated, passed, diff, cpu_ms, wall_ms, memory_kb
         FROM run_cases WHERE run_id = ANY($1) ORDER BY run_id, position",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mine: Vec<TestResult> = cases
                .iter()
                .filter(|c| c.run_id == r.id)
                .map(|c| TestResult {
                    stdin: c.stdin.clone(),
                    expected_stdout: c.expected_stdout.clone(),
                    stdout: c.stdout.clone(),
                    stderr: c.stderr.clone(),
                    stdout_truncated: c.stdout_truncated,
                    stderr_truncated: c.stderr_truncated,
                    status: c.status,
                    exit_code: c.exit_code,
                    signal: c.signal,
                    passed: c.passed,
                    diff: c.diff.clone(),
                    cpu_ms: c.cpu_ms as u64,
                    wall_ms: c.wall_ms as u64,
                    memory_kb: c.memory_kb.map(|m| m as u64),
                })
                .collect();
            RunResult {
                id: r.uuid,
                session: r.session,
                user: r.username,
                created_at: r.created_at,
                command: r.command,
                path: r.path,
                stdin: r.stdin,
                limits: r.limits.0,
                files: r.files.0,
                status: r.status,
                exit_code: r.exit_code,
                signal: r.signal,
                stdout: r.stdout,
                stderr: r.stderr,
                stdout_truncated: r.stdout_truncated,
                stderr_truncated: r.stderr_truncated,
                cpu_ms: r.cpu_ms as u64,
                wall_ms: r.wall_ms as u64,
                memory_kb: r.memory_kb.map(|m| m as u64),
                compile: r.compile.map(|c| c.0),
                tests: (!mine.is_empty()).then_some(mine),
            }
        })
        .collect())
}

/// One run as stored (a running one: as it started).
pub async fn get(pool: &PgPool, id: Uuid) -> Result<RunResult, AppError> {
    let row: Option<RunRow> = sqlx::query_as(&format!("SELECT {RUN_COLUMNS} WHERE r.uuid = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    let row = row.ok_or_else(|| AppError::not_found("no such run"))?;
    Ok(with_cases(pool, vec![row]).await?.remove(0))
}

/// The session's runs, newest first.
pub async fn list(pool: &PgPool, sid: i64, limit: i64) -> Result<Vec<RunResult>, AppError> {
    let rows: Vec<RunRow> = sqlx::query_as(&format!(
        "SELECT {RUN_COLUMNS} WHERE r.session_id = $1 ORDER BY r.created_at DESC, r.id DESC
         LIMIT $2"
    ))
    .bind(sid)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    with_cases(pool, rows).await
}

/// Postgres text cannot hold NUL.
fn no_nul(s: &str) -> String {
    s.replace('\0', "")
}

/// Whether `actual` is the output `expected` asks for, and if not, how they
/// differ (a unified diff, expected first). Trailing spaces on lines and the
/// final newlines do not count, as most judges have it.
pub fn judge(expected: &str, actual: &str) -> (bool, String) {
    fn norm(s: &str) -> String {
        let lines: Vec<&str> = s.lines().map(str::trim_end).collect();
        let mut text = lines.join("\n");
        text.truncate(text.trim_end_matches('\n').len());
        text.push('\n');
        text
    }
    let (e, a) = (norm(expected), norm(actual));
    if e == a {
        return (true, String::new());
    }
    let diff = similar::TextDiff::from_lines(&e, &a)
        .unified_diff()
        .context_radius(3)
        .header("expected", "actual")
        .to_string();
    (false, diff)
}

#[cfg(test)]
mod tests {
    use super::judge;

    #[test]
    fn judging_ignores_trailing_space_and_final_newlines() {
        assert_eq!(judge("1\n2\n", "1  \n2"), (true, String::new()));
        let (passed, diff) = judge("hello\nworld\n", "hello\nthere\n");
        assert!(!passed);
        assert!(diff.contains("-world") && diff.contains("+there"), "{diff}");
    }
}
