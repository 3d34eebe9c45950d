-- 059_alliance_reporting: analysts' views of the alliances (issue 13): joint meetings
-- with what they decided and carried, action items and their overruns, the five shared
-- mechanisms used, pairing, party members' registrations (counts only: names are
-- personal) and member units' contributions per quarter. Codes and counts only; minutes,
-- decisions' and reports' text stay in the alliance schema.

CREATE VIEW reporting.alliance_meeting AS
SELECT m.id, m.alliance, a.level, a.community, m.kind, m.scheduled_for, m.status, m.held_at,
       (SELECT count(*) FROM alliance.decision d WHERE d.meeting_id = m.id AND d.kind <> 'carried')
           AS decided,
       (SELECT count(*) FROM alliance.decision d WHERE d.meeting_id = m.id AND d.kind = 'carried')
           AS carried,
       (SELECT count(*) FROM alliance.decision d WHERE d.meeting_id = m.id AND d.kind = 'resolved')
           AS resolved,
       (SELECT count(*) FROM alliance.decision d WHERE d.meeting_id = m.id AND d.kind = 'board')
           AS sent_to_board,
       (SELECT count(*) FROM alliance.agenda_item i WHERE i.meeting_id = m.id AND i.status = 'pending')
           AS open_items,
       (SELECT count(*) FROM alliance.attendance t WHERE t.meeting_id = m.id) AS units_attended,
       (SELECT count(*) FROM alliance.action_item x WHERE x.meeting_id = m.id) AS action_items
  FROM alliance.meeting m JOIN alliance.alliance a ON a.code = m.alliance;
COMMENT ON VIEW reporting.alliance_meeting IS 'Joint meetings of every alliance (one per community, and the city''s): when, what kind, and what they decided, carried to the next meeting, resolved, sent to the quarterly board; attendance and action items as counts.';
COMMENT ON COLUMN reporting.alliance_meeting.id IS 'Meeting id.';
COMMENT ON COLUMN reporting.alliance_meeting.alliance IS 'Alliance code: the community''s code, or city.';
COMMENT ON COLUMN reporting.alliance_meeting.level IS 'community or city.';
COMMENT ON COLUMN reporting.alliance_meeting.community IS 'The community whose alliance it is; NULL for the city.';
COMMENT ON COLUMN reporting.alliance_meeting.kind IS 'scheduled (a sitting of the alliance''s schedule) or extra.';
COMMENT ON COLUMN reporting.alliance_meeting.scheduled_for IS 'Day it sits (sat).';
COMMENT ON COLUMN reporting.alliance_meeting.status IS 'planned or held.';
COMMENT ON COLUMN reporting.alliance_meeting.held_at IS 'When it was held; NULL while planned.';
COMMENT ON COLUMN reporting.alliance_meeting.decided IS 'Items it decided (resolved, assigned or sent to the board).';
COMMENT ON COLUMN reporting.alliance_meeting.carried IS 'Items left undecided and carried to the next meeting.';
COMMENT ON COLUMN reporting.alliance_meeting.resolved IS 'Items it resolved.';
COMMENT ON COLUMN reporting.alliance_meeting.sent_to_board IS 'Items it sent to the quarterly large-item board.';
COMMENT ON COLUMN reporting.alliance_meeting.open_items IS 'Items undecided on its agenda now (only a planned meeting has any).';
COMMENT ON COLUMN reporting.alliance_meeting.units_attended IS 'Member units that attended.';
COMMENT ON COLUMN reporting.alliance_meeting.action_items IS 'Action items it gave.';

CREATE VIEW reporting.alliance_action_item AS
SELECT x.id, x.meeting_id, x.item_id, i.alliance, x.unit, x.due_at, x.status, x.done_at,
       x.status = 'open' AND x.due_at < now() AS overdue,
       CASE WHEN x.status = 'open' AND x.due_at < now() THEN now() - x.due_at
            WHEN x.status = 'done' AND x.done_at > x.due_at THEN x.done_at - x.due_at END AS late_by,
       x.overdue_notified_at IS NOT NULL AS escalated, x.hours
  FROM alliance.action_item x JOIN alliance.agenda_item i ON i.item_id = x.item_id;
COMMENT ON VIEW reporting.alliance_action_item IS 'Action items joint meetings gave member units (unit, deadline), whether they are done, overdue, or were late, and whether their overrun was fed to hl-triage''s escalation.';
COMMENT ON COLUMN reporting.alliance_action_item.id IS 'Action item id.';
COMMENT ON COLUMN reporting.alliance_action_item.meeting_id IS 'Meeting that gave it (reporting.alliance_meeting.id).';
COMMENT ON COLUMN reporting.alliance_action_item.item_id IS 'The large item (reporting.large_item.item_id).';
COMMENT ON COLUMN reporting.alliance_action_item.alliance IS 'Alliance that has the item now.';
COMMENT ON COLUMN reporting.alliance_action_item.unit IS 'Member unit responsible (reporting.member_unit.code).';
COMMENT ON COLUMN reporting.alliance_action_item.due_at IS 'Deadline.';
COMMENT ON COLUMN reporting.alliance_action_item.status IS 'open or done.';
COMMENT ON COLUMN reporting.alliance_action_item.done_at IS 'When it was reported done.';
COMMENT ON COLUMN reporting.alliance_action_item.overdue IS 'Open and past its deadline now.';
COMMENT ON COLUMN reporting.alliance_action_item.late_by IS 'How far past its deadline it is (open) or was done (done late); NULL when in time.';
COMMENT ON COLUMN reporting.alliance_action_item.escalated IS 'Its overrun was reported to hl-triage, which escalated the item.';
COMMENT ON COLUMN reporting.alliance_action_item.hours IS 'Hours the unit reported.';

CREATE VIEW reporting.alliance_mechanism AS
SELECT d.meeting_id, m.alliance, d.item_id, d.kind, t.mechanism, mc.name AS mechanism_name
  FROM alliance.decision d
  JOIN alliance.meeting m ON m.id = d.meeting_id
  CROSS JOIN LATERAL unnest(d.tags) AS t (mechanism)
  JOIN alliance.mechanism mc ON mc.code = t.mechanism;
COMMENT ON VIEW reporting.alliance_mechanism IS 'The five shared mechanisms (五共) as the meetings'' decisions were tagged: one row per decision and mechanism.';
COMMENT ON COLUMN reporting.alliance_mechanism.meeting_id IS 'Meeting.';
COMMENT ON COLUMN reporting.alliance_mechanism.alliance IS 'Alliance whose meeting it was.';
COMMENT ON COLUMN reporting.alliance_mechanism.item_id IS 'The item decided.';
COMMENT ON COLUMN reporting.alliance_mechanism.kind IS 'The decision: resolved, assigned or board.';
COMMENT ON COLUMN reporting.alliance_mechanism.mechanism IS 'co_build, share_venues, share_resources, discuss_together or solve_together.';
COMMENT ON COLUMN reporting.alliance_mechanism.mechanism_name IS 'Chinese name (组织共建 ...).';

CREATE VIEW reporting.pairing AS
SELECT p.id, p.unit, u.kind AS unit_kind, p.community, p.starts_on, p.ends_on,
       p.starts_on <= current_date AND (p.ends_on IS NULL OR p.ends_on >= current_date) AS active
  FROM alliance.pairing p JOIN org.member_unit u ON u.code = p.unit;
COMMENT ON VIEW reporting.pairing IS 'Pairing (双联): member units paired with communities, with the period.';
COMMENT ON COLUMN reporting.pairing.id IS 'Pairing id.';
COMMENT ON COLUMN reporting.pairing.unit IS 'Member unit (reporting.member_unit.code).';
COMMENT ON COLUMN reporting.pairing.unit_kind IS 'agency, enterprise or social_org.';
COMMENT ON COLUMN reporting.pairing.community IS 'Community code.';
COMMENT ON COLUMN reporting.pairing.starts_on IS 'First day.';
COMMENT ON COLUMN reporting.pairing.ends_on IS 'Last day; NULL while it lasts.';
COMMENT ON COLUMN reporting.pairing.active IS 'In force today.';

CREATE VIEW reporting.party_member_registration AS
SELECT community, unit,
       count(*) FILTER (WHERE left_on IS NULL OR left_on >= current_date) AS active_members,
       count(*) AS registered, min(registered_on) AS first_registered_on
  FROM alliance.party_member GROUP BY community, unit;
COMMENT ON VIEW reporting.party_member_registration IS 'In-service party members registered with their residential community (在职党员到社区报到), counted per community and the member unit they work for; no names.';
COMMENT ON COLUMN reporting.party_member_registration.community IS 'Residential community.';
COMMENT ON COLUMN reporting.party_member_registration.unit IS 'Member unit they work for.';
COMMENT ON COLUMN reporting.party_member_registration.active_members IS 'Registrations in force today.';
COMMENT ON COLUMN reporting.party_member_registration.registered IS 'Registrations ever made.';
COMMENT ON COLUMN reporting.party_member_registration.first_registered_on IS 'Day of the first registration.';

CREATE VIEW reporting.unit_contribution AS
SELECT c.unit, u.kind AS unit_kind, c.quarter, c.items_taken, c.items_resolved, c.hours
  FROM alliance.unit_contribution c JOIN org.member_unit u ON u.code = c.unit;
COMMENT ON VIEW reporting.unit_contribution IS 'What each member unit contributed per quarter (Asia/Shanghai): large items taken (platform claims, action items), resolved, and hours reported.';
COMMENT ON COLUMN reporting.unit_contribution.unit IS 'Member unit (reporting.member_unit.code).';
COMMENT ON COLUMN reporting.unit_contribution.unit_kind IS 'agency, enterprise or social_org.';
COMMENT ON COLUMN reporting.unit_contribution.quarter IS 'First day of the quarter (Asia/Shanghai).';
COMMENT ON COLUMN reporting.unit_contribution.items_taken IS 'Distinct large items it claimed or was given action items on.';
COMMENT ON COLUMN reporting.unit_contribution.items_resolved IS 'Distinct large items it resolved.';
COMMENT ON COLUMN reporting.unit_contribution.hours IS 'Hours it reported (done action items, platform progress).';

-- The analyst role is hl_analyst from 060 on (which grants every reporting view to it);
-- in a database migrated past 060 already it exists now.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hl_analyst') THEN
        GRANT SELECT ON reporting.alliance_meeting, reporting.alliance_action_item,
                        reporting.alliance_mechanism, reporting.pairing,
                        reporting.party_member_registration, reporting.unit_contribution
           TO hl_analyst;
    ELSE
        GRANT SELECT ON reporting.alliance_meeting, reporting.alliance_action_item,
                        reporting.alliance_mechanism, reporting.pairing,
                        reporting.party_member_registration, reporting.unit_contribution
           TO analyst;
    END IF;
END
$$;
