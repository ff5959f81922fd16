"""The managers' view: summary, ranking, weak clauses, a site, the digest, full reports, charts, export."""
