"""Samples of every screen of ``bot/templates/ops.j2`` (admins' notices about scheduled backups), as
bot/backups.py renders them. Plain data for the screen tests."""

SAMPLES: dict[str, list[dict]] = {
    "backup_failed": [
        {"reason": "[Errno 28] No space left on device", "folder": "/var/lib/dudao/backups"},
        {"reason": "backup folder /srv/<x> is not a folder", "folder": "/srv/<x>"},
    ],
    "backup_recovered": [{"path": "/var/lib/dudao/backups/bot-20270104-010000.sqlite3"}],
}
