-- Each user's preferences for the IDE (theme, editor and terminal), applied on
-- the first render of every page. Missing keys take their defaults.
CREATE TABLE user_settings (
    user_id    BIGINT      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    settings   JSONB       NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
