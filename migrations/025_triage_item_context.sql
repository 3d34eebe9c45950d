-- triage.item_context: one item with what a decision about it needs beyond
-- its own row — the parent of its target (where an escalation climbs to),
-- the level of its org unit, its first appeal's text, its appeal ids and
-- its escalation history. hl-triage's commissioner commands (commission.c),
-- the deadline scanner (escalate.c) and the reopening of an item
-- (feedback.c) read items through this one view and one C struct
-- (services/triage/item.c), instead of three copies of the query.
CREATE VIEW triage.item_context AS
SELECT i.id, i.version, i.status, i.route, i.reopen_count, i.size, i.category, i.level,
       i.target, p.code AS parent, p.level AS parent_level, i.org_unit, o.level AS org_level,
       i.compound, i.community, i.title, i.appeal_count, i.due_at,
       (SELECT c.body FROM triage."case" c WHERE c.item_id = i.id
         ORDER BY c.received_at, c.appeal_id LIMIT 1) AS first_body,
       (SELECT string_agg(c.appeal_id::text, ',' ORDER BY c.received_at, c.appeal_id)
          FROM triage."case" c WHERE c.item_id = i.id) AS appeals,
       (SELECT string_agg(format('%s %s: %s -> %s',
                                 to_char(e.at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI'),
                                 e.reason, e.from_level, e.to_level), '; ' ORDER BY e.at)
          FROM triage.escalation e WHERE e.item_id = i.id) AS history
  FROM triage.item i
  JOIN org.org_unit o ON o.code = i.org_unit
  JOIN org.org_unit t ON t.code = i.target
  LEFT JOIN org.org_unit p ON p.code = t.parent;

COMMENT ON VIEW triage.item_context IS 'One item with its decision context: target''s parent, org unit level, first appeal text, appeal ids, escalation history (hl-triage reads items through it).';
COMMENT ON COLUMN triage.item_context.id IS 'The item.';
COMMENT ON COLUMN triage.item_context.version IS 'triage.item.version: commands name the version they acted on.';
COMMENT ON COLUMN triage.item_context.status IS 'open, routed or resolved.';
COMMENT ON COLUMN triage.item_context.route IS 'council, alliance or board.';
COMMENT ON COLUMN triage.item_context.reopen_count IS 'Times residents reopened it.';
COMMENT ON COLUMN triage.item_context.size IS 'wish, small or large.';
COMMENT ON COLUMN triage.item_context.category IS 'Category code, or NULL.';
COMMENT ON COLUMN triage.item_context.level IS 'Level it is routed at: compound, community, town or city.';
COMMENT ON COLUMN triage.item_context.target IS 'Org unit it is routed to.';
COMMENT ON COLUMN triage.item_context.parent IS 'Parent of the target (where an escalation climbs), NULL at the top.';
COMMENT ON COLUMN triage.item_context.parent_level IS 'Level of that parent.';
COMMENT ON COLUMN triage.item_context.org_unit IS 'Where the matter is.';
COMMENT ON COLUMN triage.item_context.org_level IS 'Level of that org unit.';
COMMENT ON COLUMN triage.item_context.compound IS 'Compound it lies in, or NULL.';
COMMENT ON COLUMN triage.item_context.community IS 'Community it lies in, or NULL.';
COMMENT ON COLUMN triage.item_context.title IS 'Short title.';
COMMENT ON COLUMN triage.item_context.appeal_count IS 'Appeals in the item.';
COMMENT ON COLUMN triage.item_context.due_at IS 'Deadline of its current stage, or NULL.';
COMMENT ON COLUMN triage.item_context.first_body IS 'Text of its first appeal.';
COMMENT ON COLUMN triage.item_context.appeals IS 'Its appeal ids, oldest first, comma-separated.';
COMMENT ON COLUMN triage.item_context.history IS 'Its escalations, one line ("2024-05-01 09:00 overdue: compound -> community; ..."), or NULL.';

GRANT SELECT ON triage.item_context TO hl_triage;
