-- The assistant: users' own model keys (sealed), conversations per session and
-- author, their messages, and a log of every request made to a model.

-- A key is stored sealed with the server's key (AES-256-GCM): `sealed` is the
-- nonce followed by the ciphertext, bound to the row's uuid and user; `key_id`
-- names the server key that sealed it, so keys can be rotated.
CREATE TABLE ai_keys (
    id         BIGSERIAL   PRIMARY KEY,
    uuid       UUID        NOT NULL UNIQUE,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider   TEXT        NOT NULL CHECK (provider IN ('openai', 'anthropic')),
    base_url   TEXT        CHECK (base_url IS NULL OR length(base_url) <= 2000),
    model      TEXT        NOT NULL CHECK (length(model) BETWEEN 1 AND 200),
    label      TEXT        NOT NULL CHECK (length(label) BETWEEN 1 AND 100),
    last4      TEXT        NOT NULL,
    key_id     TEXT        NOT NULL,
    sealed     BYTEA       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX ai_keys_user_idx ON ai_keys (user_id);

-- Conversations are their author's: the access module lets no one else reach them.
CREATE TABLE ai_conversations (
    id         BIGSERIAL   PRIMARY KEY,
    uuid       UUID        NOT NULL UNIQUE,
    session_id BIGINT      NOT NULL REFERENCES code_sessions (id) ON DELETE CASCADE,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title      TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX ai_conversations_idx ON ai_conversations (session_id, user_id, updated_at DESC);

CREATE TABLE ai_messages (
    id              BIGSERIAL   PRIMARY KEY,
    uuid            UUID        NOT NULL UNIQUE,
    conversation_id BIGINT      NOT NULL REFERENCES ai_conversations (id) ON DELETE CASCADE,
    role            TEXT        NOT NULL CHECK (role IN ('user', 'assistant')),
    content         TEXT        NOT NULL DEFAULT '',
    -- A question as the model got it: the words and the context's text.
    prompt          TEXT,
    -- A question's context as sent (what, how many bytes) and what was cut.
    context         JSONB,
    -- An answer's state: streaming until it ends as done, failed or stopped.
    status          TEXT        NOT NULL DEFAULT 'done'
                    CHECK (status IN ('streaming', 'done', 'failed', 'stopped')),
    error           TEXT,
    model           TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX ai_messages_conversation_idx ON ai_messages (conversation_id, id);

-- Every request made to a model, as the provider reported it.
CREATE TABLE ai_requests (
    id          BIGSERIAL   PRIMARY KEY,
    user_id     BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id  BIGINT      REFERENCES code_sessions (id) ON DELETE SET NULL,
    message_id  BIGINT      REFERENCES ai_messages (id) ON DELETE SET NULL,
    -- Made with the server's default provider (counted against the daily quota).
    by_default  BOOLEAN     NOT NULL,
    provider    TEXT        NOT NULL,
    model       TEXT        NOT NULL,
    tokens_in   BIGINT,
    tokens_out  BIGINT,
    cost_usd    DOUBLE PRECISION,
    latency_ms  BIGINT      NOT NULL,
    outcome     TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX ai_requests_user_idx ON ai_requests (user_id, created_at);
