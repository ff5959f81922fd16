-- The site's proof of a fix (整改后照片/材料, issue #15): photos, files and notes staff send for an
-- action, per round (a returned action starts a new round and needs new proof). File bytes live in
-- the content-addressed file store under ``sha256``; a note has ``text`` and no file.

CREATE TABLE action_evidence (
    id              INTEGER PRIMARY KEY,
    action_id       INTEGER NOT NULL REFERENCES actions(id),
    round           INTEGER NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('photo', 'document', 'note')),
    file_id         TEXT,
    file_unique_id  TEXT,
    sha256          TEXT,
    file_name       TEXT,
    mime_type       TEXT,
    size            INTEGER,
    text            TEXT,                       -- a note, or a file's caption
    sent_by         INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    CHECK ((kind = 'note') = (file_unique_id IS NULL))
);
-- The same file sent twice in a round is kept once (notes have no file_unique_id: NULLs never clash).
CREATE UNIQUE INDEX action_evidence_file ON action_evidence (action_id, round, file_unique_id);
CREATE INDEX action_evidence_action ON action_evidence (action_id, round);
