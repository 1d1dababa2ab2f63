-- Login cookies. Only a SHA-256 of the random token is stored, so a leaked
-- database does not leak usable cookies.
CREATE TABLE auth_sessions (
    id           BIGSERIAL PRIMARY KEY,
    token_hash   BYTEA       NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    user_id      BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX auth_sessions_user_idx ON auth_sessions (user_id);
-- Expired rows are swept in bulk by expiry.
CREATE INDEX auth_sessions_expires_idx ON auth_sessions (expires_at);

-- Failed logins, kept briefly for rate limiting per account and per address.
CREATE TABLE login_failures (
    id         BIGSERIAL PRIMARY KEY,
    login      TEXT        NOT NULL,
    address    TEXT        NOT NULL,
    failed_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX login_failures_login_idx ON login_failures (lower(login), failed_at);
CREATE INDEX login_failures_address_idx ON login_failures (address, failed_at);
