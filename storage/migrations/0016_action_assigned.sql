-- Reassigning an action (issue #15 §1): a manager names the person responsible (actions.assignee_id,
-- NULL = the site's staff). A new alert kind 'assigned' (``round`` = the id of its 'assigned' event,
-- whose detail names the person, NULL: back to the site's staff) tells the new assignee. SQLite cannot
-- widen a CHECK in place: the rows are set aside and put back with their ids, as in 0014.
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE action_alerts_copy AS SELECT * FROM action_alerts;
DROP TABLE action_alerts;
CREATE TABLE action_alerts (
    id          INTEGER PRIMARY KEY,
    action_id   INTEGER NOT NULL REFERENCES actions(id),
    kind        TEXT NOT NULL
                CHECK (kind IN ('notice', 'review', 'returned', 'closed', 'overdue', 'escalation',
                                'extension', 'extension_decided', 'assigned')),
    round       INTEGER NOT NULL,               -- the action's round; overdue: the follow-up's number;
                                                -- escalation: its number; extension*: the request's id;
                                                -- assigned: its event's id
    actor_id    INTEGER,                        -- who caused it: never told of their own act
    planned_at  TEXT,                           -- its recipients were chosen (NULL: at the next tick)
    created_at  TEXT NOT NULL,
    UNIQUE (action_id, kind, round)
);
INSERT INTO action_alerts (id, action_id, kind, round, actor_id, planned_at, created_at)
    SELECT id, action_id, kind, round, actor_id, planned_at, created_at FROM action_alerts_copy;
DROP TABLE action_alerts_copy;
CREATE INDEX action_alerts_waiting ON action_alerts (id) WHERE planned_at IS NULL;
