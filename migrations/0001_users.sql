-- Accounts. A guest is a real user row (one per visitor, never shared) so that a
-- guest's sessions belong to them alone and survive when they register later.
CREATE TABLE users (
    id             BIGSERIAL PRIMARY KEY,
    username       TEXT        NOT NULL CHECK (length(username) BETWEEN 1 AND 64),
    -- NULL only for guests, who have no way to log in again until they register.
    email          TEXT        CHECK (email IS NULL OR length(email) BETWEEN 3 AND 254),
    -- argon2id PHC string; NULL for guests.
    password_hash  TEXT,
    is_guest       BOOLEAN     NOT NULL DEFAULT false,
    is_reviewer    BOOLEAN     NOT NULL DEFAULT false,
    reviewer_level SMALLINT    NOT NULL DEFAULT 0 CHECK (reviewer_level BETWEEN 0 AND 2),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- A reviewer has a level of 1 or 2; everyone else has 0.
    CONSTRAINT users_reviewer_flag_check CHECK (is_reviewer = (reviewer_level > 0)),
    CONSTRAINT users_credentials_check CHECK (
        is_guest OR (email IS NOT NULL AND password_hash IS NOT NULL))
);

-- Case-insensitive uniqueness: "Alice" and "alice" are the same person to a human.
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
