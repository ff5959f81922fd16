-- Extensions (申请延期, issue #15): the site's staff ask for a later due date with a reason; a
-- manager (or admin) approves it (the action's due date and overdue dates move) or refuses it with
-- a reason. One request at a time per action.
CREATE TABLE action_extensions (
    id              INTEGER PRIMARY KEY,
    action_id       INTEGER NOT NULL REFERENCES actions(id),
    requested_by    INTEGER NOT NULL,
    requested_at    TEXT NOT NULL,
    reason          TEXT NOT NULL,
    old_due_date    TEXT NOT NULL,                 -- the due date when it was asked
    new_due_date    TEXT NOT NULL,                 -- local date asked for
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'refused')),
    decided_by      INTEGER,
    decided_at      TEXT,
    refusal_reason  TEXT
);
CREATE UNIQUE INDEX action_extensions_one_pending ON action_extensions (action_id) WHERE status = 'pending';
CREATE INDEX action_extensions_action ON action_extensions (action_id, id);

-- The history line of a request or a decision names its request.
ALTER TABLE action_events ADD COLUMN extension_id INTEGER REFERENCES action_extensions(id);

-- New alert kinds: 'extension' (a request, to the site's managers; ``round`` = the request's id) and
-- 'extension_decided' (approved or refused, to whoever asked; ``round`` = the request's id). SQLite
-- cannot widen a CHECK in place: the rows are set aside, the table made again and the rows put back
-- with their ids. action_recipients refers to them: its check waits for the commit, by when every
-- alert it names is back.
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE action_alerts_copy AS SELECT * FROM action_alerts;
DROP TABLE action_alerts;
CREATE TABLE action_alerts (
    id          INTEGER PRIMARY KEY,
    action_id   INTEGER NOT NULL REFERENCES actions(id),
    kind        TEXT NOT NULL
                CHECK (kind IN ('notice', 'review', 'returned', 'closed', 'overdue', 'escalation',
                                'extension', 'extension_decided')),
    round       INTEGER NOT NULL,               -- the action's round; overdue: the follow-up's number;
                                                -- escalation: its number; extension*: the request's id
    actor_id    INTEGER,                        -- who caused it: never told of their own act
    planned_at  TEXT,                           -- its recipients were chosen (NULL: at the next tick)
    created_at  TEXT NOT NULL,
    UNIQUE (action_id, kind, round)
);
INSERT INTO action_alerts (id, action_id, kind, round, actor_id, planned_at, created_at)
    SELECT id, action_id, kind, round, actor_id, planned_at, created_at FROM action_alerts_copy;
DROP TABLE action_alerts_copy;
CREATE INDEX action_alerts_waiting ON action_alerts (id) WHERE planned_at IS NULL;
