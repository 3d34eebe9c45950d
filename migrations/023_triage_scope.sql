-- 023_triage_scope: sizing by what an appeal says about its scope, and the
-- records the in-memory consolidation index needs (hl-triage; see
-- services/triage/README.md).
--
-- Rules gain a weight. A rule with a weight is a *scope cue*: instead of
-- deciding alone, every matching cue adds its weight to its size and the
-- size with the most votes wins (the cues stand together at the place of
-- the first of them in priority order). Cues read scope: who is named
-- (a department, a utility company, the property company, a neighbour, one
-- old person living alone), what is affected (a main road, many households,
-- the compound's corridor, one flat), and money or building works. The
-- rules 100 and 200 of 020, whose keywords were fitted to the 80-appeal
-- sample, are retired in favour of the cues.

ALTER TABLE triage.rule ADD COLUMN weight real NOT NULL DEFAULT 0;
ALTER TABLE triage.rule ADD CONSTRAINT rule_cue_check
    CHECK (weight = 0 OR (size IS NOT NULL AND set_category IS NULL));
COMMENT ON COLUMN triage.rule.weight IS '0: the rule decides the size alone when it matches (first match in priority order). Otherwise the rule is a scope cue: when it matches it adds this weight (negative: counter-evidence) to its size; all cues vote together at the place of the first of them, and the size with the highest positive total wins.';

-- scope cues begin
INSERT INTO triage.rule (id, priority, keywords, exclude_keywords, size, weight, note) VALUES
    (3001, 150, '{城管,交警,住建,环保局,生态环境,市场监管,职能部门,相关部门,有关部门,政府,街道办}', '{}', 'large', 2.0, 'a government department is named: beyond the compound'),
    (3002, 150, '{供电公司,供电局,电力公司,自来水公司,水务,燃气公司,公交公司,通信公司,移动公司,电信,联通}', '{}', 'large', 2.0, 'a utility or public company is needed'),
    (3003, 150, '{教育局,卫健,派出所,消防大队,人社,民政局,住房保障,不动产}', '{}', 'large', 1.5, 'an agency is named'),
    (3004, 150, '{12345,市长热线,热线,人大代表,政协委员,媒体,曝光}', '{}', 'large', 1.2, 'the resident goes to the city hotline, deputies or the press'),
    (3010, 150, '{主干道,大道,马路,公路,路口,十字路口,红绿灯,信号灯,斑马线,人行道,过街,天桥,高架,大桥,隧道,下穿,涵洞,环城}', '{}', 'large', 1.6, 'a public road or crossing outside the compound'),
    (3011, 150, '{公交,站台,班次,线路}', '{}', 'large', 1.6, 'public transport'),
    (3012, 150, '{河道,河水,河边,沟渠,排水沟,水渠,护城河,湖边,池塘}', '{}', 'large', 1.4, 'a river, ditch or lake'),
    (3013, 150, '{管网,雨污,市政管道,主管道,排水管网,污水管网,内涝,路面塌陷,塌陷}', '{}', 'large', 2.0, 'mains and drainage of the streets'),
    (3014, 150, '{一下雨就淹,淹了,积水严重,大片积水,水漫}', '{}', 'large', 1.0, 'flooding (often of the streets)'),
    (3020, 150, '{#多户,#多小区,几十户,上百户,几百户,十几户,好几十户,上千户,多户居民,整片,片区,周边小区,附近小区,几个小区,好几个小区,周边居民,附近居民,整条街,整条路,一条街,沿街,全市,全城,全镇,整个社区}', '{}', 'large', 2.0, 'many households or compounds are affected'),
    (3021, 150, '{#万元,资金,经费,补贴,补助资金,财政,专项}', '{}', 'large', 1.4, 'public money is needed'),
    (3022, 150, '{老旧小区改造,改造,加装电梯,危房,鉴定,年久失修,房屋安全,墙体开裂,楼体,承重,沉降,宿舍楼,筒子楼,老宿舍}', '{}', 'large', 1.6, 'major works on old buildings'),
    (3023, 150, '{占道经营,流动摊贩,摊贩,摆摊,地摊,菜市场,农贸市场,夜市,早市,集市,商贩}', '{}', 'large', 1.6, 'street trading and markets'),
    (3024, 150, '{工地,施工噪音,夜间施工,连夜施工,渣土车,搅拌站,打桩,工厂,排放,污染,偷排,烟囱,化工,粉尘}', '{}', 'large', 1.5, 'building sites, factories and pollution outside'),
    (3025, 150, '{违建,违章建筑,违法建设,私搭乱建,违规建设}', '{}', 'large', 1.6, 'illegal construction'),
    (3026, 150, '{学位,入学,划片,学区,学校,幼儿园名额,医院,卫生院,社区医院}', '{}', 'large', 1.5, 'schools and hospitals'),
    (3027, 150, '{大面积停电,经常停电,频繁停电,停电,停水,燃气管道,通燃气,天然气入户,信号塔,基站,变压器}', '{}', 'large', 1.0, 'supply of power, water or gas to an area'),
    (3028, 150, '{小区内,小区里,院子里,我们楼,这栋楼,单元里}', '{}', 'large', -0.8, 'counter-evidence: the matter is inside the compound'),
    (3029, 150, '{楼上住户,楼下住户,楼上邻居,楼下邻居,楼上那家,对门,隔壁,和邻居,跟邻居,邻居家,我家,家里}', '{}', 'large', -0.6, 'counter-evidence: between neighbours or at home'),
    (3040, 150, '{物业,物业公司,业委会,业主委员会,业主群,保安,门卫,保洁}', '{}', 'small', 1.0, 'the compound''s own parties can act'),
    (3041, 150, '{和邻居,跟邻居,与邻居,邻居家,邻居的,楼上住户,楼下住户,楼上邻居,楼下邻居,楼上人家,楼上那家,楼下那家,对门,隔壁,邻里,吵架,矛盾,纠纷,协商,评理,调解,三方,议事}', '{}', 'small', 1.4, 'between neighbours, for the council to hear'),
    (3042, 150, '{楼道,单元门,电梯,门禁,车库,地下室,楼顶,天台,绿化带,花坛,草坪,健身器材,垃圾桶,楼道灯,声控灯,感应灯,车位,地锁,消防通道,飞线,充电桩,堆放,杂物,宠物,狗,装修,晾晒,小区内,小区里,院子,路灯,监控,道闸,围墙,化粪池,下水道,水箱}', '{}', 'small', 1.0, 'a shared facility or order inside the compound'),
    (3060, 150, '{微心愿,心愿,想要,想请,想学,想找人,找人教,教一教,教教,希望能有人,希望有人,有没有人,能不能帮,帮忙,帮我,帮她,帮他,帮帮,志愿者,好心人,爱心人士}', '{}', 'wish', 1.5, 'asks for a hand for one person'),
    (3061, 150, '{陪同,陪伴,陪她,陪他,陪着,代买,代购,买菜,送药,取药,配药,送餐,理发,上门,跑腿,代缴,代办,读报,聊天}', '{}', 'wish', 1.5, 'a small service a volunteer can give'),
    (3062, 150, '{独居,孤寡,空巢,孤老,残疾,行动不便,腿脚不便,腿脚不好,卧床,瘫痪,低保,困难家庭,困难户,留守儿童,单亲,失独,高龄,老伴,子女不在身边,儿女在外地,一个人住,一个人生活,无人照顾,没人照顾}', '{}', 'wish', 1.4, 'one person or household in hardship'),
    (3063, 150, '{书包,书桌,台灯,学习用品,文具,辅导,功课,作业,轮椅,助听器,老花镜,棉被,被子,衣物,冬衣,智能手机,不会用手机,学用手机,视频通话,换灯泡,修水龙头,家里的,家中}', '{}', 'wish', 1.2, 'a thing or a help for one home'),
    (3064, 150, '{物业,业委会,业主,和邻居,跟邻居,路口,马路,部门}', '{}', 'wish', -1.2, 'counter-evidence: addressed to the compound, neighbours or the public')
;
-- scope cues end
SELECT setval(pg_get_serial_sequence('triage.rule', 'id'), (SELECT max(id) FROM triage.rule));

-- retired rules begin
UPDATE triage.rule SET active = false, note = note || ' (retired by 023: fitted to the 80-appeal sample; the scope cues decide instead)'
 WHERE id IN (SELECT id FROM (VALUES
    (100),
    (200)
 ) AS retired (id));
-- retired rules end

-- ---------------------------------------------------------------------------
-- What hl-triage's in-memory index of open items reads to follow changes
-- ---------------------------------------------------------------------------

CREATE SEQUENCE triage.item_change_seq;
COMMENT ON SEQUENCE triage.item_change_seq IS 'Numbers every change of an item (triage.item.change_seq).';
ALTER TABLE triage.item ADD COLUMN change_seq bigint NOT NULL DEFAULT nextval('triage.item_change_seq');
COMMENT ON COLUMN triage.item.change_seq IS 'Renumbered on every change of status, route, target, size, category or level (not on a join): hl-triage reads the items changed since the last number it saw to keep its index of open items up to date (other replicas, the commissioner, resolutions).';
CREATE INDEX item_change_idx ON triage.item (change_seq);

CREATE FUNCTION triage.item_renumber() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_seq := nextval('triage.item_change_seq');
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION triage.item_renumber() IS 'Trigger function: every update of an item gets a new change_seq.';
-- Only what the index cares about renumbers: a join (appeal_count, version)
-- does not, so it stays a HOT update that touches no index (the index learns
-- other replicas' joins from their cases).
CREATE TRIGGER item_renumber BEFORE UPDATE ON triage.item
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.route IS DISTINCT FROM NEW.route
                       OR OLD.target IS DISTINCT FROM NEW.target OR OLD.size IS DISTINCT FROM NEW.size
                       OR OLD.category IS DISTINCT FROM NEW.category OR OLD.level IS DISTINCT FROM NEW.level)
    EXECUTE FUNCTION triage.item_renumber();
ALTER TABLE triage.item SET (fillfactor = 80); -- room on the page for HOT updates

ALTER TABLE triage."case"
    ADD COLUMN seq          bigint GENERATED ALWAYS AS IDENTITY,
    ADD COLUMN decided_by   text,
    ADD COLUMN opened_item  boolean,
    ADD COLUMN join_score   real,
    ADD COLUMN similarity   real,
    ADD COLUMN compared     integer,
    ADD COLUMN size_votes   real[];
COMMENT ON COLUMN triage."case".seq IS 'Insertion number: hl-triage replicas read the cases decided elsewhere since the last number they saw.';
COMMENT ON COLUMN triage."case".decided_by IS 'The hl-triage process that decided (host:pid), so a replica skips its own decisions when it follows the others.';
COMMENT ON COLUMN triage."case".opened_item IS 'True when this appeal opened its item; false when it joined an open one.';
COMMENT ON COLUMN triage."case".join_score IS 'Consolidation: the best adjusted score among the open items compared (joined when at least HL_CONSOLIDATE_PERMILLE/1000); NULL when no item was compared.';
COMMENT ON COLUMN triage."case".similarity IS 'Consolidation: the raw text similarity to the closest appeal of that best item.';
COMMENT ON COLUMN triage."case".compared IS 'Consolidation: how many open items of the community were compared.';
COMMENT ON COLUMN triage."case".size_votes IS 'The scope cues'' votes {wish, small, large} (all 0 when a decisive rule sized the appeal before the cues ran).';
CREATE INDEX case_seq_idx ON triage."case" (seq);

-- Joining an item the index chose: one more appeal, provided the item is
-- still routed where the index believed it was. Otherwise 40001: hl-triage
-- forgets that item and decides the appeal again in the same delivery.
CREATE FUNCTION triage.item_join(p_item uuid, p_route text, p_target text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    UPDATE triage.item SET appeal_count = appeal_count + 1, version = version + 1
     WHERE id = p_item AND status = 'routed' AND route = p_route AND target IS NOT DISTINCT FROM p_target
    RETURNING appeal_count INTO n;
    IF n IS NULL THEN
        RAISE EXCEPTION 'item % is no longer routed to % %', p_item, p_route, p_target
            USING ERRCODE = '40001';
    END IF;
    RETURN n;
END
$$;
COMMENT ON FUNCTION triage.item_join(uuid, text, text) IS 'Consolidation: counts one more appeal on an item still routed by p_route to p_target; raises 40001 when it was resolved, merged, escalated or overridden since hl-triage''s index saw it, and hl-triage decides the appeal again.';

GRANT USAGE ON SEQUENCE triage.item_change_seq TO hl_triage;
GRANT EXECUTE ON FUNCTION triage.item_join(uuid, text, text) TO hl_triage;

-- Working days from a calendar table: every working day from 2020 to 2045
-- numbered in order, so "n working days after start" is two index lookups
-- instead of a loop that asked the holiday table once a day (that loop cost
-- ~0.7 ms on every new item). The calendar is rebuilt whenever
-- triage.holiday changes; outside its range the loop of 021 still answers.
CREATE TABLE triage.workday (
    day     date PRIMARY KEY,
    ordinal integer NOT NULL UNIQUE
);
COMMENT ON TABLE triage.workday IS 'Every working day (Asia/Shanghai) from 2020 to 2045, numbered in order; derived from triage.holiday and weekends, rebuilt by a trigger when triage.holiday changes. Used by triage.add_working_days.';
COMMENT ON COLUMN triage.workday.day IS 'A working day.';
COMMENT ON COLUMN triage.workday.ordinal IS 'Its number in order (1 = the first working day of 2020).';

CREATE FUNCTION triage.workday_rebuild() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM triage.workday;
    INSERT INTO triage.workday (day, ordinal)
    SELECT d, row_number() OVER (ORDER BY d)
      FROM (SELECT g::date AS d FROM generate_series(date '2020-01-01', date '2045-12-31', interval '1 day') g) days
      LEFT JOIN triage.holiday h ON h.day = days.d
     WHERE COALESCE(h.kind = 'workday', extract(isodow FROM days.d) < 6);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION triage.workday_rebuild() IS 'Trigger function: rebuilds triage.workday from the holiday calendar.';
CREATE TRIGGER workday_rebuild AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON triage.holiday
    FOR EACH STATEMENT EXECUTE FUNCTION triage.workday_rebuild();
UPDATE triage.holiday SET name = name WHERE false; -- fires the statement trigger: first build

-- 021's loop stays, renamed, for dates outside the calendar.
ALTER FUNCTION triage.add_working_days(timestamptz, integer) RENAME TO add_working_days_by_day;
COMMENT ON FUNCTION triage.add_working_days_by_day(timestamptz, integer) IS 'add_working_days counted day by day (021); used by add_working_days outside triage.workday''s range.';

CREATE FUNCTION triage.add_working_days(start timestamptz, n integer) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE
    local timestamp := start AT TIME ZONE 'Asia/Shanghai';
    d date;
BEGIN
    IF n <= 0 THEN
        RETURN start;
    END IF;
    SELECT w.day INTO d FROM triage.workday w
     WHERE w.ordinal = (SELECT ordinal FROM triage.workday WHERE day <= local::date
                         ORDER BY day DESC LIMIT 1) + n;
    IF d IS NULL THEN
        RETURN triage.add_working_days_by_day(start, n);
    END IF;
    RETURN (d + local::time) AT TIME ZONE 'Asia/Shanghai';
END
$$;
COMMENT ON FUNCTION triage.add_working_days(timestamptz, integer) IS 'The moment n working days after start (same local time of day, Asia/Shanghai): two probes of triage.workday; outside its range, add_working_days_by_day.';
GRANT SELECT ON triage.workday TO hl_triage;
