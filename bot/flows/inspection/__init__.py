"""The inspection walk: pick a site, answer clause by clause with evidence, review, submit."""
