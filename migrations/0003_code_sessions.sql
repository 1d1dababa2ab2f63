-- A coding session: one workspace, one sandbox, one URL (/s/{uuid}).
CREATE TABLE code_sessions (
    id               BIGSERIAL PRIMARY KEY,
    -- Public identifier: routes, sockets, pod and volume names. Never the serial id.
    uuid             UUID        NOT NULL UNIQUE,
    user_id          BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name             TEXT        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    language         TEXT        NOT NULL DEFAULT 'python' CHECK (language IN (
                         'python', 'javascript', 'typescript', 'c', 'cpp', 'rust',
                         'java', 'go', 'bash')),
    is_active        BOOLEAN     NOT NULL DEFAULT false,
    last_accessed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Target of workspace_items' composite key, which keeps its denormalised
    -- session_uuid honest.
    CONSTRAINT code_sessions_id_uuid_key UNIQUE (id, uuid)
);

-- The session list: a user's sessions, most recently used first.
CREATE INDEX code_sessions_user_recent_idx ON code_sessions (user_id, last_accessed_at DESC);
