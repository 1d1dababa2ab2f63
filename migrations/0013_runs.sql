-- Runs: programs executed in a session's sandbox apart from its terminals, with
-- their limits, the files they ran on and their measured results.
CREATE TABLE runs (
    id          BIGSERIAL PRIMARY KEY,
    uuid        UUID        NOT NULL UNIQUE,
    session_id  BIGINT      NOT NULL REFERENCES code_sessions (id) ON DELETE CASCADE,
    user_id     BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ,
    command     TEXT        NOT NULL,
    path        TEXT,
    stdin       TEXT,
    -- {cpu_ms, wall_ms, memory_kb, processes, output_bytes}
    limits      JSONB       NOT NULL,
    -- [{path, hash}] of the workspace when it started.
    files       JSONB       NOT NULL DEFAULT '[]',
    status      TEXT        NOT NULL DEFAULT 'running' CHECK (status IN (
        'running', 'finished', 'runtime_error', 'time_limit', 'wall_time_limit',
        'memory_limit', 'output_limit', 'compile_error', 'cancelled', 'internal_error')),
    exit_code   INTEGER,
    signal      INTEGER,
    -- Each kept up to a cap; *_truncated says the cap was hit.
    stdout      TEXT        NOT NULL DEFAULT '',
    stderr      TEXT        NOT NULL DEFAULT '',
    stdout_truncated BOOLEAN NOT NULL DEFAULT false,
    stderr_truncated BOOLEAN NOT NULL DEFAULT false,
    cpu_ms      BIGINT      NOT NULL DEFAULT 0,
    wall_ms     BIGINT      NOT NULL DEFAULT 0,
    memory_kb   BIGINT,
    -- The compile step: {command, status, exit_code, signal, output, ...}.
    compile     JSONB
);

CREATE INDEX runs_session_idx ON runs (session_id, created_at DESC);

-- The cases of a batch run, in order, with their results once run.
CREATE TABLE run_cases (
    run_id          BIGINT  NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    stdin           TEXT    NOT NULL,
    expected_stdout TEXT,
    status          TEXT    NOT NULL DEFAULT 'running',
    exit_code       INTEGER,
    signal          INTEGER,
    stdout          TEXT    NOT NULL DEFAULT '',
    stderr          TEXT    NOT NULL DEFAULT '',
    stdout_truncated BOOLEAN NOT NULL DEFAULT false,
    stderr_truncated BOOLEAN NOT NULL DEFAULT false,
    passed          BOOLEAN NOT NULL DEFAULT false,
    diff            TEXT    NOT NULL DEFAULT '',
    cpu_ms          BIGINT  NOT NULL DEFAULT 0,
    wall_ms         BIGINT  NOT NULL DEFAULT 0,
    memory_kb       BIGINT,
    PRIMARY KEY (run_id, position)
);

-- A session's run configuration (wire::runs::RunConfig); absent: the defaults.
CREATE TABLE run_configs (
    session_id BIGINT      PRIMARY KEY REFERENCES code_sessions (id) ON DELETE CASCADE,
    config     JSONB       NOT NULL,
    updated_by BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
