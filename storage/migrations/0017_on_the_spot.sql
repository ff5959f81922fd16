-- 当场整改 (issue #15 §1): in review the inspector may mark a finding fixed on the spot, with a reason
-- and optionally an "after" photo. The mark is kept from the moment it is given (a restart loses
-- nothing); at submit the finding's action is created already closed, with the photo as its proof.
CREATE TABLE on_the_spot (
    inspection_id   INTEGER NOT NULL REFERENCES inspections(id),
    clause_id       TEXT NOT NULL,
    reason          TEXT NOT NULL,
    file_id         TEXT,                       -- the "after" photo, when one was sent
    file_unique_id  TEXT,
    sha256          TEXT,                       -- in the content-addressed file store
    mime_type       TEXT,
    size            INTEGER,
    marked_by       INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (inspection_id, clause_id)
);

-- Repeat-finding deduction (issue #15 §8): points taken off at submit for findings already found at
-- the site's previous inspection. earned/percent/grade are stored net of it; these keep the line
-- shown beside the score (how many repeats, at how many points each, and the amount after the cap).
ALTER TABLE inspections ADD COLUMN repeat_deduction REAL NOT NULL DEFAULT 0;
ALTER TABLE inspections ADD COLUMN repeat_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE inspections ADD COLUMN repeat_points REAL NOT NULL DEFAULT 0;
