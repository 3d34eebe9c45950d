-- The decision hl-triage reports for each appeal (services/intake/status.c)
-- rewrites size, item_id, status and updated_at of its intake.appeal row:
-- one UPDATE per appeal, the largest statement of the end-to-end path.
-- appeal_item_idx made every one of them a non-HOT update (a new row version
-- on another page and an entry in each of the table's five indexes), and a
-- freshly filled page had no room for a HOT version anyway. Nothing reads
-- intake.appeal by item_id: the appeals of an item are found through
-- triage."case" (case_item_idx), which analysts join on appeal_id. So the
-- index goes, and new pages keep a fifth free for the decision's version.
DROP INDEX intake.appeal_item_idx;
ALTER TABLE intake.appeal SET (fillfactor = 80);
