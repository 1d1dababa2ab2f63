-- Collaborators: other registered users given a role on a session by its owner
-- or an admin. The owner is not a collaborator: their role comes from
-- code_sessions.user_id.
CREATE TABLE session_collaborators (
    session_id BIGINT      NOT NULL REFERENCES code_sessions (id) ON DELETE CASCADE,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT        NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    invited_by BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, user_id)
);

-- "Shared with me": a user's collaborations.
CREATE INDEX session_collaborators_user_idx ON session_collaborators (user_id);

-- Everyone's role on every session, in one place: the access module reads a
-- login's role here, and lists of sessions join it, so no query writes its own
-- ownership predicate.
CREATE VIEW session_roles AS
    SELECT id AS session_id, user_id, 'owner'::text AS role FROM code_sessions
    UNION ALL
    SELECT session_id, user_id, role FROM session_collaborators;
