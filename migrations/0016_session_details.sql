-- A session's description and tags: what the session list searches and filters by.
ALTER TABLE code_sessions
    ADD COLUMN description TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    ADD COLUMN tags TEXT[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 20);
CREATE INDEX code_sessions_tags_idx ON code_sessions USING gin (tags);
