-- Inspections: the draft row with its cursor and answers *is* the conversation state.

-- Every rubric version an inspection used, as the exact document it was scored against.
CREATE TABLE rubric_versions (
    content_hash  TEXT PRIMARY KEY,
    rubric_id     TEXT NOT NULL,
    edition       INTEGER NOT NULL,
    title         TEXT NOT NULL,
    snapshot      TEXT NOT NULL,                -- JSON of Rubric.to_dict()
    first_seen_at TEXT NOT NULL
);

CREATE TABLE inspections (
    id              INTEGER PRIMARY KEY,
    site_id         INTEGER NOT NULL REFERENCES sites(id),
    inspector_id    INTEGER NOT NULL REFERENCES users(id),
    rubric_hash     TEXT NOT NULL REFERENCES rubric_versions(content_hash),
    edition         INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('draft', 'submitted')),
    cursor          TEXT,                       -- clause id the walk shows now
    awaiting        TEXT,                       -- 'note' or 'photo' after the 📝/📷 buttons
    started_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    submitted_at    TEXT,
    -- Frozen at submit so summaries aggregate in SQL without re-scoring.
    earned          REAL,
    possible        REAL,
    percent         REAL,
    grade           TEXT,
    veto            INTEGER NOT NULL DEFAULT 0,
    reopened_count  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX inspections_inspector ON inspections (inspector_id, status);
CREATE INDEX inspections_site ON inspections (site_id, status, submitted_at);
CREATE INDEX inspections_submitted ON inspections (status, submitted_at);

CREATE TABLE answers (
    inspection_id INTEGER NOT NULL REFERENCES inspections(id),
    clause_id     TEXT NOT NULL,
    category_id   TEXT NOT NULL,
    answer        TEXT NOT NULL CHECK (answer IN ('ok', 'partial', 'fail', 'na')),
    earned        REAL,                         -- NULL for 不适用
    possible      REAL,                         -- NULL for 不适用
    answered_at   TEXT NOT NULL,
    PRIMARY KEY (inspection_id, clause_id)
) WITHOUT ROWID;

CREATE TABLE notes (
    id            INTEGER PRIMARY KEY,
    inspection_id INTEGER NOT NULL REFERENCES inspections(id),
    clause_id     TEXT NOT NULL,
    text          TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX notes_clause ON notes (inspection_id, clause_id);

-- Photos and image files. Bytes live in BOT_DATA_DIR/files/<sha256[:2]>/<sha256>.
CREATE TABLE photos (
    id             INTEGER PRIMARY KEY,
    inspection_id  INTEGER NOT NULL REFERENCES inspections(id),
    clause_id      TEXT NOT NULL,
    file_id        TEXT NOT NULL,
    file_unique_id TEXT NOT NULL,
    sha256         TEXT,
    size           INTEGER,
    mime_type      TEXT,
    reused_from    INTEGER,                     -- an earlier inspection that had the same picture
    created_at     TEXT NOT NULL,
    UNIQUE (inspection_id, clause_id, file_unique_id)
);
CREATE INDEX photos_unique_id ON photos (file_unique_id);

CREATE TABLE inspection_events (
    id            INTEGER PRIMARY KEY,
    inspection_id INTEGER NOT NULL REFERENCES inspections(id),
    at            TEXT NOT NULL,
    actor_id      INTEGER,
    event         TEXT NOT NULL,                -- started, submitted, reopened
    detail        TEXT
);

-- One draft per inspector and site: a double tap on "start" cannot open two.
CREATE UNIQUE INDEX inspections_one_draft ON inspections (inspector_id, site_id) WHERE status = 'draft';
