"""Inspection plans (督导计划): periods, outcomes, reminders and the /plan screens."""
