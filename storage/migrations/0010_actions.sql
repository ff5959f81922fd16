-- Corrective actions (整改, issue #15): every finding of a submitted inspection (an answer below
-- 符合) becomes an action the site must fix by a due date, with its history.

CREATE TABLE actions (
    id               INTEGER PRIMARY KEY,
    inspection_id    INTEGER NOT NULL REFERENCES inspections(id),
    site_id          INTEGER NOT NULL REFERENCES sites(id),
    clause_id        TEXT NOT NULL,
    answer           TEXT NOT NULL CHECK (answer IN ('partial', 'fail')),
    severity         TEXT NOT NULL CHECK (severity IN ('serious', 'general')),
    -- open (待整改) -> submitted (已提交) -> closed (已关闭); returned proof goes back to open with
    -- round + 1; cancelled (已取消) when the finding no longer stands.
    status           TEXT NOT NULL DEFAULT 'open'
                     CHECK (status IN ('open', 'submitted', 'closed', 'cancelled')),
    round            INTEGER NOT NULL DEFAULT 1,
    due_date         TEXT NOT NULL,              -- local date: the last day to fix it
    assignee_id      INTEGER REFERENCES users(id),  -- NULL: the site's staff
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    closed_at        TEXT,
    UNIQUE (inspection_id, clause_id)
);
CREATE INDEX actions_site ON actions (site_id, status, due_date);
CREATE INDEX actions_status_due ON actions (status, due_date);

-- Every change of an action, with who, when and why: created, submitted, returned, closed,
-- cancelled, extended, reassigned. ``due_date`` is the due date after the event.
CREATE TABLE action_events (
    id         INTEGER PRIMARY KEY,
    action_id  INTEGER NOT NULL REFERENCES actions(id),
    at         TEXT NOT NULL,
    actor_id   INTEGER,
    event      TEXT NOT NULL,
    round      INTEGER NOT NULL,
    due_date   TEXT,
    detail     TEXT
);
CREATE INDEX action_events_action ON action_events (action_id, id);
