-- 063: more scope cues, read on tests/data/triage-tune*.jsonl (the held-out sets played
-- no part). What residents say of a matter just outside the compound (the big road,
-- that river, water standing at the gate), of a supply the whole compound shares (no
-- signal, power never handed over to the grid, every home alike), of night trade on the
-- street, and of a compound nobody manages any more: all beyond the three-party council.
-- And the other way: a grid worker's steps in a dispute (已上门, 劝说) are no wish, a
-- facility or a noise of the compound (a slide, the gate, square dancing) is the
-- council's, and a home asking for a hand or a gift (帮看看, 没人陪, 爱心人士) is a wish.
INSERT INTO triage.rule (id, priority, keywords, exclude_keywords, size, weight, note) VALUES
-- scope cues begin
    (3018, 150, '{大路,那条路,那段路,那条河,条河,门口积水,积水到,门口就淹,就淹}', '{}', 'large', 1.2, 'the road or river just outside, water standing at the gate'),
    (3019, 150, '{信号差,没信号,信号太差,信号弱,一格信号,临时用电,一户一表,供电移交,抄表到户,家家户户,邻居家都}', '{}', 'large', 1.4, 'a supply the whole compound shares'),
    (3030, 150, '{ktv,歌厅,网吧,烧烤店,洗浴}', '{}', 'large', 1.2, 'night trade on the street'),
    (3031, 150, '{弃管,三无小区,无物业,没有物业,没人管理}', '{}', 'large', 1.4, 'a compound nobody manages: the government must bring someone in'),
    (3032, 150, '{已上门,上门了解,上门与,上门劝,上门核实,已劝说,劝说,调解}', '{}', 'wish', -1.0, 'counter-evidence: the grid worker''s own steps in a dispute, not a hand wanted'),
    (3033, 150, '{滑梯,秋千,游乐,毛毛虫,大铁门,铁门,广场舞,音响,音箱,吠叫}', '{}', 'small', 1.0, 'a facility or a noise of the compound: for its council'),
    (3068, 150, '{找个人,帮看看,帮忙看看,没人陪,求助,搬不动,爱心单位,爱心人士,送点,弄不了,不会弄}', '{}', 'wish', 1.2, 'one home asks for a hand or a gift')
-- scope cues end
;
SELECT setval(pg_get_serial_sequence('triage.rule', 'id'), (SELECT max(id) FROM triage.rule));
