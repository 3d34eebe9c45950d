-- 066: the learned size model (services/triage/sizemodel.h) as a rule row.
-- A multinomial logistic regression over the rules' verdict and the appeal's
-- character n-grams, fitted by scripts/fit-size.py on the tuning sets
-- (tests/data/triage-tune*.jsonl; the held-out sets played no part), runs
-- after the rules while this row is active; where it picks another size,
-- the case records this row as the rule that sized it (rule_id 9990), so
-- reporting.rule_usage counts the model's decisions like any rule's, and
-- deactivating the row turns the model off within a minute.
ALTER TABLE triage.rule ADD COLUMN model text CHECK (model IN ('size'));
COMMENT ON COLUMN triage.rule.model IS 'NULL for a keyword rule or scope cue; ''size'': the row stands for the learned size model (hl-triage''s size_model.h), which re-sizes, after the rules, the appeals where it disagrees with them; such cases record this row.';
ALTER TABLE triage.rule DROP CONSTRAINT rule_decides_something;
ALTER TABLE triage.rule ADD CONSTRAINT rule_decides_something
    CHECK (size IS NOT NULL OR set_category IS NOT NULL OR model IS NOT NULL);
ALTER TABLE triage.rule ADD CONSTRAINT rule_model_bare
    CHECK (model IS NULL OR (size IS NULL AND set_category IS NULL AND weight = 0
                             AND category IS NULL AND channel IS NULL
                             AND keywords = '{}' AND exclude_keywords = '{}'));

-- size model begins
INSERT INTO triage.rule (id, priority, model, note) VALUES
    (9990, 9990, 'size', 'learned size model: where it disagrees with the rules, the size it finds most probable (logistic regression over the rules'' verdict and the text''s character 1-3-grams; scripts/fit-size.py)');
-- size model ends
