-- The walk's live card: the one message whose buttons act on the inspection. When the card moves to a
-- new message, the old one is turned into its one-line record (README: one live card per inspection).
ALTER TABLE inspections ADD COLUMN card_message_id INTEGER;
ALTER TABLE inspections ADD COLUMN card_clause TEXT;
-- After evidence moved the walk on, more photos and notes go to the clause that got the first one
-- (several photos of one defect), until the next tap on the card.
ALTER TABLE inspections ADD COLUMN evidence_clause TEXT;
-- Frozen at submit: how much of the rubric the score stands on (answered by hand, not applicable,
-- of how many clauses), and whether that is below the rubric's minimum coverage.
ALTER TABLE inspections ADD COLUMN answered_count INTEGER;
ALTER TABLE inspections ADD COLUMN na_count INTEGER;
ALTER TABLE inspections ADD COLUMN clause_count INTEGER;
ALTER TABLE inspections ADD COLUMN incomplete INTEGER NOT NULL DEFAULT 0;

-- Which inspection a person's free text or photo belongs to: the one whose card they saw or tapped
-- last (an explicit pointer; "touched last" by timestamp tied within a second).
CREATE TABLE inspection_focus (
    user_id       INTEGER PRIMARY KEY REFERENCES users(id),
    inspection_id INTEGER NOT NULL REFERENCES inspections(id)
);
