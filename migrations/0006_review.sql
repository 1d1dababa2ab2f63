-- Code review: a workspace submitted for review, line comments, and an audit trail.
CREATE TABLE review_requests (
    id           BIGSERIAL PRIMARY KEY,
    session_id   BIGINT      NOT NULL REFERENCES code_sessions (id) ON DELETE CASCADE,
    title        TEXT        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description  TEXT        NOT NULL DEFAULT '',
    status       TEXT        NOT NULL DEFAULT 'pending'
                             CHECK (status IN ('pending', 'in_review', 'approved', 'rejected')),
    priority     TEXT        NOT NULL DEFAULT 'medium'
                             CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    submitted_by BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    assigned_to  BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    resolved_at  TIMESTAMPTZ
);

CREATE INDEX review_requests_status_idx ON review_requests (status, priority, created_at);
CREATE INDEX review_requests_assigned_idx ON review_requests (assigned_to);
CREATE INDEX review_requests_session_idx ON review_requests (session_id);

CREATE TABLE review_comments (
    id           BIGSERIAL PRIMARY KEY,
    review_id    BIGINT      NOT NULL REFERENCES review_requests (id) ON DELETE CASCADE,
    author_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- NULL file and line: a comment on the whole request.
    file_path    TEXT,
    line_number  INTEGER     CHECK (line_number IS NULL OR line_number > 0),
    comment_type TEXT        NOT NULL DEFAULT 'general'
                             CHECK (comment_type IN ('general', 'suggestion', 'issue',
                                                     'question', 'approval')),
    body         TEXT        NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    is_resolved  BOOLEAN     NOT NULL DEFAULT false,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT review_comments_line_needs_file CHECK (line_number IS NULL OR file_path IS NOT NULL)
);

CREATE INDEX review_comments_review_idx ON review_comments (review_id, file_path, line_number);

-- Every status change, who made it and when.
CREATE TABLE review_history (
    id          BIGSERIAL PRIMARY KEY,
    review_id   BIGINT      NOT NULL REFERENCES review_requests (id) ON DELETE CASCADE,
    changed_by  BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    from_status TEXT,
    to_status   TEXT        NOT NULL,
    note        TEXT        NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX review_history_review_idx ON review_history (review_id, created_at);
