"""Corrective actions (整改): a finding becomes an action the site fixes, a verifier closes, and the
next visit re-checks."""
