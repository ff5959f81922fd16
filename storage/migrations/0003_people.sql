-- People, sites and access: invitations, access requests, site group chats.

-- One-time invitation links. Only a hash of the code is kept: a copy of the database does not
-- hand out working links.
CREATE TABLE invitations (
    id          INTEGER PRIMARY KEY,
    code_hash   TEXT NOT NULL UNIQUE,           -- sha256 hex of the code in the link
    role        TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'inspector', 'staff')),
    site_id     INTEGER REFERENCES sites(id),
    region      TEXT,
    created_by  INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    origin      TEXT,                           -- "<chat>:<message>" of the picker: a double tap makes one link
    used_by     INTEGER,
    used_at     TEXT,
    revoked_at  TEXT
);
CREATE UNIQUE INDEX invitations_origin ON invitations (created_by, origin) WHERE origin IS NOT NULL;

-- Unregistered people who wrote to the bot, when admins asked to hear of them.
CREATE TABLE access_requests (
    user_id      INTEGER PRIMARY KEY REFERENCES users(id),
    requested_at TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'dismissed')),
    decided_by   INTEGER,
    decided_at   TEXT
);

-- The title of a site's linked group, to show which group it is.
ALTER TABLE sites ADD COLUMN group_title TEXT;

CREATE INDEX audit_log_actor ON audit_log (actor_id, at);
