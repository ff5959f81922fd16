"""Periodic duties: the schedule engine and outbox, what staff answer, what managers and inspectors see."""
