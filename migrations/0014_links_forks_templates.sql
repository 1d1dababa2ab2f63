-- Public read-only links, forks and templates.

-- A link reads a session's current files without an account. Only the token's
-- SHA-256 is kept; the token itself is shown once, when the link is made.
CREATE TABLE public_links (
    id             BIGSERIAL   PRIMARY KEY,
    -- What the owner names the link by (revoking it); never the token.
    uuid           UUID        NOT NULL UNIQUE,
    session_id     BIGINT      NOT NULL REFERENCES code_sessions (id) ON DELETE CASCADE,
    token_hash     BYTEA       NOT NULL UNIQUE,
    created_by     BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at     TIMESTAMPTZ,
    views          BIGINT      NOT NULL DEFAULT 0,
    last_viewed_at TIMESTAMPTZ,
    revoked_at     TIMESTAMPTZ
);
CREATE INDEX public_links_session_idx ON public_links (session_id);

-- A fork remembers its original (the original's fork count counts these); a
-- session marked as a template is offered when its owner creates a session.
ALTER TABLE code_sessions
    ADD COLUMN forked_from BIGINT REFERENCES code_sessions (id) ON DELETE SET NULL,
    ADD COLUMN is_template BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX code_sessions_forked_from_idx ON code_sessions (forked_from)
    WHERE forked_from IS NOT NULL;

-- A fork's files start their history as copies.
ALTER TABLE workspace_items DROP CONSTRAINT workspace_items_change_source_check;
ALTER TABLE workspace_items ADD CONSTRAINT workspace_items_change_source_check
    CHECK (change_source IN ('existing', 'template', 'editor', 'api', 'terminal', 'restore',
                             'replace', 'suggestion', 'upload', 'collab', 'fork'));

-- Starter projects, one per language at least: seeded by the server at start
-- from the files in the repository's `templates/` folder.
CREATE TABLE templates (
    id          BIGSERIAL   PRIMARY KEY,
    slug        TEXT        NOT NULL UNIQUE,
    name        TEXT        NOT NULL,
    language    TEXT        NOT NULL,
    description TEXT        NOT NULL DEFAULT '',
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE template_files (
    template_id BIGINT NOT NULL REFERENCES templates (id) ON DELETE CASCADE,
    path        TEXT   NOT NULL,
    content     TEXT   NOT NULL,
    PRIMARY KEY (template_id, path)
);
