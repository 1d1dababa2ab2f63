-- File history. Every content a file has had is a version; contents are stored
-- once per session and hash (blobs), and the server packs consecutive versions
-- as zstd deltas of their predecessor. A file keeps its history across renames
-- (versions follow its file_key, not its path) and deletion (deleted_items).

CREATE SEQUENCE file_keys;

ALTER TABLE workspace_items
    -- A file's identity for its whole life: moves keep it, an undelete restores it.
    ADD COLUMN file_key      BIGINT NOT NULL DEFAULT nextval('file_keys'),
    -- Who made the current content, and how: every write sets both, and the
    -- trigger below copies them into the version it keeps.
    ADD COLUMN changed_by    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN change_source TEXT NOT NULL DEFAULT 'api'
        CHECK (change_source IN ('existing', 'template', 'editor', 'api', 'terminal', 'restore',
                                 'replace', 'suggestion', 'upload', 'collab'));
CREATE INDEX workspace_items_file_key_idx ON workspace_items (session_id, file_key);

-- Contents. raw: `data` is the content (the trigger's fast copy, packed soon after);
-- zstd: a zstd frame of it; delta: a zstd frame made with the content of `base`
-- as its dictionary, `depth` deltas from a self-contained one.
CREATE TABLE blobs (
    session_id BIGINT      NOT NULL REFERENCES code_sessions (id) ON DELETE CASCADE,
    hash       TEXT        NOT NULL CHECK (length(hash) = 64),
    size       BIGINT      NOT NULL CHECK (size >= 0),
    encoding   TEXT        NOT NULL DEFAULT 'raw' CHECK (encoding IN ('raw', 'zstd', 'delta')),
    base       TEXT,
    depth      INTEGER     NOT NULL DEFAULT 0,
    data       BYTEA       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, hash),
    -- A base outlives its deltas: the sweep re-encodes them before dropping it.
    CONSTRAINT blobs_base_fkey FOREIGN KEY (session_id, base) REFERENCES blobs (session_id, hash),
    CONSTRAINT blobs_delta_check CHECK ((encoding = 'delta') = (base IS NOT NULL))
);
CREATE INDEX blobs_unpacked_idx ON blobs (created_at) WHERE encoding = 'raw';
CREATE INDEX blobs_base_idx ON blobs (session_id, base) WHERE base IS NOT NULL;

CREATE TABLE file_versions (
    id         BIGSERIAL   PRIMARY KEY,
    session_id BIGINT      NOT NULL REFERENCES code_sessions (id) ON DELETE CASCADE,
    file_key   BIGINT      NOT NULL,
    -- workspace_items.version when this content was made.
    version    INTEGER     NOT NULL,
    -- Where the file was then.
    path       TEXT        NOT NULL,
    hash       TEXT        NOT NULL,
    size       BIGINT      NOT NULL,
    source     TEXT        NOT NULL,
    author_id  BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (session_id, hash) REFERENCES blobs (session_id, hash)
);
CREATE INDEX file_versions_file_idx ON file_versions (session_id, file_key, id DESC);
CREATE INDEX file_versions_hash_idx ON file_versions (session_id, hash);

-- Every content change keeps a version, whatever made it (the API, the terminal's
-- sync, a restore, …): one place, so no write path can forget.
CREATE FUNCTION workspace_items_keep_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind <> 'file'
       OR (TG_OP = 'UPDATE' AND NEW.content_hash IS NOT DISTINCT FROM OLD.content_hash) THEN
        RETURN NULL;
    END IF;
    INSERT INTO blobs (session_id, hash, size, data)
    VALUES (NEW.session_id, NEW.content_hash, NEW.size_bytes, convert_to(NEW.content, 'UTF8'))
    ON CONFLICT (session_id, hash) DO NOTHING;
    INSERT INTO file_versions (session_id, file_key, version, path, hash, size, source, author_id)
    VALUES (NEW.session_id, NEW.file_key, NEW.version, NEW.full_path, NEW.content_hash,
            NEW.size_bytes, NEW.change_source, NEW.changed_by);
    RETURN NULL;
END
$$;

CREATE TRIGGER workspace_items_versions
    AFTER INSERT OR UPDATE OF content_hash ON workspace_items
    FOR EACH ROW EXECUTE FUNCTION workspace_items_keep_version();

-- History starts with what the files hold now.
INSERT INTO blobs (session_id, hash, size, data)
SELECT DISTINCT ON (session_id, content_hash) session_id, content_hash, size_bytes,
       convert_to(content, 'UTF8')
FROM workspace_items WHERE kind = 'file';
INSERT INTO file_versions (session_id, file_key, version, path, hash, size, source, created_at)
SELECT session_id, file_key, version, full_path, content_hash, size_bytes, 'existing', updated_at
FROM workspace_items WHERE kind = 'file';
UPDATE workspace_items SET change_source = 'existing' WHERE kind = 'file';

-- What was deleted, file by file (a folder's contents too), recoverable with its
-- history until the retention sweep removes it. `root` is the path the user deleted.
CREATE TABLE deleted_items (
    id         BIGSERIAL   PRIMARY KEY,
    session_id BIGINT      NOT NULL REFERENCES code_sessions (id) ON DELETE CASCADE,
    batch      UUID        NOT NULL,
    root       TEXT        NOT NULL,
    path       TEXT        NOT NULL,
    kind       TEXT        NOT NULL CHECK (kind IN ('file', 'folder')),
    file_key   BIGINT      NOT NULL,
    -- Files: their content when deleted.
    hash       TEXT,
    size       BIGINT      NOT NULL DEFAULT 0,
    source     TEXT        NOT NULL,
    deleted_by BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    deleted_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (session_id, hash) REFERENCES blobs (session_id, hash),
    CHECK ((kind = 'file') = (hash IS NOT NULL))
);
CREATE INDEX deleted_items_session_idx ON deleted_items (session_id, deleted_at DESC);
CREATE INDEX deleted_items_path_idx ON deleted_items (session_id, path);
CREATE INDEX deleted_items_blob_idx ON deleted_items (session_id, hash);

-- Named snapshots of a whole workspace. The API knows them by uuid.
CREATE TABLE checkpoints (
    id         BIGSERIAL   PRIMARY KEY,
    uuid       UUID        NOT NULL UNIQUE,
    session_id BIGINT      NOT NULL REFERENCES code_sessions (id) ON DELETE CASCADE,
    label      TEXT        NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
    -- Made by the server before a restore of a checkpoint or a bulk replace.
    auto       BOOLEAN     NOT NULL DEFAULT false,
    created_by BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX checkpoints_session_idx ON checkpoints (session_id, created_at DESC);

CREATE TABLE checkpoint_items (
    checkpoint_id BIGINT NOT NULL REFERENCES checkpoints (id) ON DELETE CASCADE,
    session_id    BIGINT NOT NULL,
    path          TEXT   NOT NULL,
    kind          TEXT   NOT NULL CHECK (kind IN ('file', 'folder')),
    file_key      BIGINT NOT NULL,
    hash          TEXT,
    PRIMARY KEY (checkpoint_id, path),
    -- A checkpoint's contents are never dropped while it exists.
    FOREIGN KEY (session_id, hash) REFERENCES blobs (session_id, hash)
);
CREATE INDEX checkpoint_items_blob_idx ON checkpoint_items (session_id, hash);

-- What the retention sweep dropped, so the user can see it.
CREATE TABLE history_pruned (
    id         BIGSERIAL   PRIMARY KEY,
    session_id BIGINT      NOT NULL REFERENCES code_sessions (id) ON DELETE CASCADE,
    file_key   BIGINT      NOT NULL,
    path       TEXT        NOT NULL,
    versions   INTEGER     NOT NULL,
    oldest     TIMESTAMPTZ NOT NULL,
    newest     TIMESTAMPTZ NOT NULL,
    -- thinned: past the full-retention days, one version a day is kept;
    -- quota: the session's history was over its size limit.
    reason     TEXT        NOT NULL CHECK (reason IN ('thinned', 'quota', 'deleted')),
    pruned_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX history_pruned_file_idx ON history_pruned (session_id, file_key);

-- Versions the retention sweep keeps whatever their age: the review tables
-- redefine this to keep the versions their revisions point at.
CREATE FUNCTION file_version_kept(version_id BIGINT) RETURNS boolean
    LANGUAGE sql STABLE AS $$ SELECT false $$;
