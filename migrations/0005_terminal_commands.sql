-- Terminal history: one row per command, delimited by OSC 133 marks in the PTY stream.
CREATE TABLE terminal_commands (
    id          BIGSERIAL PRIMARY KEY,
    session_id  BIGINT      NOT NULL REFERENCES code_sessions (id) ON DELETE CASCADE,
    command     TEXT        NOT NULL,
    -- Capped by the server; output_truncated says whether the cap was hit.
    output      TEXT        NOT NULL DEFAULT '',
    output_truncated BOOLEAN NOT NULL DEFAULT false,
    exit_code   INTEGER,
    success     BOOLEAN     GENERATED ALWAYS AS (exit_code = 0) STORED,
    started_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ
);

CREATE INDEX terminal_commands_session_idx ON terminal_commands (session_id, started_at DESC);
