-- The managers' view (storage/reports.py).

-- Per-site sums of a period (summary, ranking, trends) read only this index, never the table.
CREATE INDEX inspections_submitted_scores ON inspections (status, submitted_at, site_id, earned, possible, grade);

-- One weekly digest per manager and ISO week, recorded before it is sent: a restart never repeats one.
CREATE TABLE report_digests (
    manager_id INTEGER NOT NULL REFERENCES users(id),
    week       TEXT NOT NULL,                 -- e.g. 2026-W19, the week of the scheduled moment
    sent_at    TEXT NOT NULL,
    PRIMARY KEY (manager_id, week)
) WITHOUT ROWID;
