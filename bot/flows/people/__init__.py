"""People: who is behind an update, invitations and roles, sites and scopes, bulk import, the audit log."""
