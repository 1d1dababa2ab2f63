-- The server replicas using each session's sandbox, renewed while they do: a
-- replica stops a sandbox (deletes its pod, ends its control group) only when no
-- other live replica holds it. Rows go with their session.
CREATE TABLE sandbox_holders (
    session_id BIGINT      NOT NULL REFERENCES code_sessions (id) ON DELETE CASCADE,
    replica    UUID        NOT NULL,
    seen_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, replica)
);

CREATE INDEX sandbox_holders_seen_idx ON sandbox_holders (seen_at);
