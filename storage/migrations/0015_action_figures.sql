-- The managers' figures of corrective actions (issue #15; storage/action_figures.py). Measured by
-- `python -m bench actions` at 100,000 actions: counting a quarter's repeat findings scanned the
-- whole table (21 ms); with this index it reads only the repeats (under 1 ms).
CREATE INDEX actions_repeats ON actions (created_at) WHERE repeat_of IS NOT NULL OR found_again > 0;
-- The export's 整改 sheet: the actions created in a period, without a scan.
CREATE INDEX actions_created ON actions (created_at);
