-- The review workflow on the tables of 0006: unguessable ids, the statuses the
-- workflow adds, revisions that point at file versions, comments anchored to
-- those versions (and re-anchored on each new revision), threads, suggestions
-- and notes that only reviewers see.

ALTER TABLE review_requests
    ADD COLUMN uuid UUID NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    DROP CONSTRAINT review_requests_status_check,
    ADD CONSTRAINT review_requests_status_check CHECK (status IN
        ('pending', 'in_review', 'awaiting_confirmation', 'approved', 'rejected', 'withdrawn')),
    ADD CONSTRAINT review_requests_description_check CHECK (length(description) <= 20000);

-- At most one open request per session (approved and withdrawn are closed).
CREATE UNIQUE INDEX review_requests_one_open ON review_requests (session_id)
    WHERE status IN ('pending', 'in_review', 'awaiting_confirmation', 'rejected');
CREATE INDEX review_requests_submitter_idx ON review_requests (submitted_by);

-- What was submitted: the version of every file, each time.
CREATE TABLE review_revisions (
    id         BIGSERIAL   PRIMARY KEY,
    review_id  BIGINT      NOT NULL REFERENCES review_requests (id) ON DELETE CASCADE,
    number     INTEGER     NOT NULL CHECK (number > 0),
    created_by BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    note       TEXT        NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (review_id, number)
);

CREATE TABLE review_revision_files (
    revision_id BIGINT NOT NULL REFERENCES review_revisions (id) ON DELETE CASCADE,
    path        TEXT   NOT NULL,
    version_id  BIGINT NOT NULL REFERENCES file_versions (id) ON DELETE CASCADE,
    PRIMARY KEY (revision_id, path)
);
CREATE INDEX review_revision_files_version_idx ON review_revision_files (version_id);

-- The retention sweep keeps every version a revision points at.
CREATE OR REPLACE FUNCTION file_version_kept(version_id BIGINT) RETURNS boolean
    LANGUAGE sql STABLE AS $$
        SELECT EXISTS (SELECT 1 FROM review_revision_files f WHERE f.version_id = $1)
    $$;

ALTER TABLE review_comments
    ADD COLUMN uuid        UUID    NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    ADD COLUMN reply_to    BIGINT  REFERENCES review_comments (id) ON DELETE CASCADE,
    -- The revision it was written on; line_number .. end_line are on that revision.
    ADD COLUMN revision    INTEGER NOT NULL DEFAULT 1,
    ADD COLUMN end_line    INTEGER,
    ADD COLUMN suggestion  TEXT    CHECK (length(suggestion) <= 100000),
    -- 'reviewers': a senior's mentoring note, never shown to the submitting side.
    ADD COLUMN visibility  TEXT    NOT NULL DEFAULT 'all' CHECK (visibility IN ('all', 'reviewers')),
    -- Where its lines are in the newest revision it could follow them to.
    ADD COLUMN anchor_revision INTEGER,
    ADD COLUMN anchor_line     INTEGER,
    ADD COLUMN anchor_end_line INTEGER,
    -- Its lines changed in a later revision: shown against anchor_revision.
    ADD COLUMN outdated    BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN applied_at  TIMESTAMPTZ,
    ADD COLUMN resolved_by BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    ADD CONSTRAINT review_comments_range_check CHECK (end_line IS NULL OR end_line >= line_number),
    ADD CONSTRAINT review_comments_suggestion_line_check CHECK (suggestion IS NULL OR line_number IS NOT NULL);
CREATE INDEX review_comments_reply_idx ON review_comments (reply_to);

ALTER TABLE review_history
    -- What happened: submitted, claimed, assigned, approved, awaiting_confirmation,
    -- confirmed, rejected, resubmitted, withdrawn.
    ADD COLUMN event    TEXT    NOT NULL DEFAULT 'status',
    ADD COLUMN revision INTEGER,
    ADD COLUMN assignee BIGINT  REFERENCES users (id) ON DELETE SET NULL;
