-- 002_org.sql: the organisation tree and its reference data (schema org).
--
-- Everything else in hongling is anchored here: an appeal names a compound, a case
-- escalates up org_unit.parent, a wish board is published per grid, a large item is
-- claimed by a member unit whose function domains fit, and reports group by category,
-- community and chain. The tables are small, read by every daemon and written only by
-- migrations and by org.seed_demo(), which builds a demo city shaped like the report
-- (see DOMAIN.md): 14 communities, 94 compounds, 251 micro-grids, 1,433 households,
-- 260 member units, 3 chains, 122 red mailboxes.
--
-- Categories, category items, function domains and chains are fixed reference data and
-- are inserted here, so they exist without the demo. The tree itself is local data: a
-- real deployment loads its own, a demo calls org.seed_demo().
--
-- Runs inside one transaction, after 001_base.sql (schemas and roles).

-- ---------------------------------------------------------------------------
-- Chains
-- ---------------------------------------------------------------------------

CREATE TABLE org.chain (
    code text PRIMARY KEY CHECK (code IN ('improve', 'consolidate', 'innovate')),
    name text NOT NULL
);

COMMENT ON TABLE org.chain IS
    'Party-building chains (党建链) that string 3-4 compounds together across compound boundaries; compounds on a chain compete in the chain contest (三链比武).';
COMMENT ON COLUMN org.chain.code IS
    'Chain code: improve (提升链, compounds that need lifting), consolidate (巩固链, compounds that hold their level), innovate (创新链, compounds that try new ways).';
COMMENT ON COLUMN org.chain.name IS 'Chinese name of the chain as used in the programme.';

INSERT INTO org.chain (code, name) VALUES
    ('improve', '提升链'),
    ('consolidate', '巩固链'),
    ('innovate', '创新链');

-- ---------------------------------------------------------------------------
-- The six-level organisation tree
-- ---------------------------------------------------------------------------

CREATE TABLE org.org_unit (
    code text PRIMARY KEY,
    name text NOT NULL,
    level text NOT NULL CHECK (level IN ('city', 'town', 'community', 'compound', 'micro_grid', 'household')),
    parent text REFERENCES org.org_unit (code),
    chain text NULL REFERENCES org.chain (code),
    grade text NULL CHECK (grade IN ('A', 'B', 'C')),
    shopping_area text NULL,
    -- Only the city is a root; everything else hangs somewhere, so escalation always
    -- has a next level until it reaches the city.
    CONSTRAINT org_unit_root_check CHECK ((level = 'city') = (parent IS NULL)),
    -- Chains, grades and shopping areas are properties of compounds (grids) only.
    CONSTRAINT org_unit_compound_attributes_check
        CHECK (level = 'compound' OR (chain IS NULL AND grade IS NULL AND shopping_area IS NULL))
);

CREATE INDEX org_unit_parent_idx ON org.org_unit (parent);
CREATE INDEX org_unit_level_idx ON org.org_unit (level);

COMMENT ON TABLE org.org_unit IS
    'The six-level organisation tree (市委—镇党委—社区大党委—小区(网格)党支部—楼栋(微网格)党小组—党员中心户). Every appeal, case and task is anchored to one node; a node''s parent is always exactly one level up, so escalation climbs one level at a time.';
COMMENT ON COLUMN org.org_unit.code IS
    'Stable short code of the node (demo: wuwei, t1.., cm01.., cp001.., mg001.., hh0001..); referenced by every other schema.';
COMMENT ON COLUMN org.org_unit.name IS
    'Chinese display name: 无为市, 无城镇, …社区, the compound''s own name (e.g. 春江花城), …号楼微网格党小组, 党员中心户-张某.';
COMMENT ON COLUMN org.org_unit.level IS
    'Level in the tree, top down: city (市), town (镇), community (社区), compound (小区 = one grid, 网格), micro_grid (楼栋 = 微网格), household (党员中心户, party-member central household).';
COMMENT ON COLUMN org.org_unit.parent IS
    'Code of the node one level up; NULL only for the city. Checked by trigger org_unit_check_parent.';
COMMENT ON COLUMN org.org_unit.chain IS
    'Chain the compound belongs to (compounds only); NULL when the compound is on no chain.';
COMMENT ON COLUMN org.org_unit.grade IS
    'Party-building grade of a compound (住宅小区ABC分级): A best, C needs most help; NULL for other levels or an ungraded compound. Recomputed from contest scores by hl-points.';
COMMENT ON COLUMN org.org_unit.shopping_area IS
    'Shopping area (商圈) a compound lies in, as a short code (demo: anderli 安德利商圈, xinhua_street 新华街商圈, gaoxin_avenue 高新大道商圈); NULL for most compounds and all other levels.';

-- A parent exactly one level up keeps "escalate one level" a single step and keeps
-- roll-ups by level honest. The foreign key already proves the parent exists.
CREATE FUNCTION org.org_unit_check_parent() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    levels constant text[] := ARRAY['city', 'town', 'community', 'compound', 'micro_grid', 'household'];
    parent_level text;
BEGIN
    IF NEW.parent IS NOT NULL THEN
        SELECT u.level INTO parent_level FROM org.org_unit u WHERE u.code = NEW.parent;
        IF FOUND AND array_position(levels, parent_level) <> array_position(levels, NEW.level) - 1 THEN
            RAISE EXCEPTION 'org unit "%" (%) cannot hang under "%" (%)',
                NEW.code, NEW.level, NEW.parent, parent_level
                USING ERRCODE = 'check_violation',
                      HINT = 'A parent must be exactly one level up: city, town, community, compound, micro_grid, household.';
        END IF;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.level IS DISTINCT FROM OLD.level
       AND EXISTS (SELECT 1 FROM org.org_unit c WHERE c.parent = OLD.code) THEN
        RAISE EXCEPTION 'cannot change the level of org unit "%": it has children', OLD.code
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION org.org_unit_check_parent() IS
    'Trigger function: refuses an org_unit whose parent is not exactly one level up, and a level change on a node that has children.';

CREATE TRIGGER org_unit_check_parent
    BEFORE INSERT OR UPDATE OF parent, level ON org.org_unit
    FOR EACH ROW EXECUTE FUNCTION org.org_unit_check_parent();

-- ---------------------------------------------------------------------------
-- Categories of residents' appeals (12 major categories, 12大类)
-- ---------------------------------------------------------------------------

CREATE TABLE org.category (
    code text PRIMARY KEY,
    name text NOT NULL,
    sort int NOT NULL
);

COMMENT ON TABLE org.category IS
    'The 12 major categories (12大类) into which residents'' appeals are sorted; an appeal may carry one if the resident chose it, triage sets it otherwise.';
COMMENT ON COLUMN org.category.code IS 'Short ASCII code of the category, used by intake, triage rules and reports.';
COMMENT ON COLUMN org.category.name IS 'Chinese name shown to residents and staff.';
COMMENT ON COLUMN org.category.sort IS 'Display order, 1 first.';

INSERT INTO org.category (code, name, sort) VALUES
    ('environment', '环境卫生', 1),
    ('property',    '物业服务', 2),
    ('parking',     '停车管理', 3),
    ('roads',       '道路交通', 4),
    ('safety',      '公共安全', 5),
    ('neighbour',   '邻里纠纷', 6),
    ('elderly',     '一老一小', 7),
    ('utilities',   '水电气讯', 8),
    ('greening',    '绿化设施', 9),
    ('market',      '市场经营', 10),
    ('housing',     '房屋安全', 11),
    ('other',       '其他',     12);

CREATE TABLE org.category_item (
    code text PRIMARY KEY,
    category text NOT NULL REFERENCES org.category (code),
    name text NOT NULL
);

CREATE INDEX category_item_category_idx ON org.category_item (category);

COMMENT ON TABLE org.category_item IS
    'Sub-items of each major category, a finer label for triage rules and reports (not to be confused with triage''s consolidated items, 366小件).';
COMMENT ON COLUMN org.category_item.code IS 'Code of the sub-item, "<category>.<item>" in ASCII, e.g. parking.ground_lock.';
COMMENT ON COLUMN org.category_item.category IS 'Major category the sub-item belongs to.';
COMMENT ON COLUMN org.category_item.name IS 'Chinese name of the sub-item.';

INSERT INTO org.category_item (code, category, name) VALUES
    ('environment.garbage',      'environment', '垃圾清运'),
    ('environment.clutter',      'environment', '楼道及公共区域堆物'),
    ('environment.pests',        'environment', '有害生物防治'),
    ('environment.sanitation',   'environment', '卫生死角清理'),
    ('environment.odour',        'environment', '污水异味'),

    ('property.service',         'property', '物业服务质量'),
    ('property.fees',            'property', '物业收费与公示'),
    ('property.contract',        'property', '物业选聘与合同'),
    ('property.repair',          'property', '公共设施维修'),
    ('property.gate',            'property', '门岗与快递管理'),

    ('parking.ground_lock',      'parking', '车位占用与地锁'),
    ('parking.on_green',         'parking', '占绿停车'),
    ('parking.fees',             'parking', '停车收费'),
    ('parking.bicycles',         'parking', '非机动车与共享单车停放'),
    ('parking.charging',         'parking', '充电设施'),

    ('roads.damage',             'roads', '道路破损'),
    ('roads.flooding',           'roads', '道路积水'),
    ('roads.bus_stop',           'roads', '公交站点设施'),
    ('roads.speeding',           'roads', '车辆通行安全'),
    ('roads.muck_truck',         'roads', '渣土车抛洒'),

    ('safety.falling_objects',   'safety', '高空坠物'),
    ('safety.fire',              'safety', '消防安全'),
    ('safety.gas',               'safety', '燃气安全'),
    ('safety.security',          'safety', '围墙门禁与治安'),
    ('safety.dangerous_animals', 'safety', '蜂窝及危险动物'),

    ('neighbour.noise',          'neighbour', '噪音扰民'),
    ('neighbour.leak',           'neighbour', '渗漏水纠纷'),
    ('neighbour.pets',           'neighbour', '宠物饲养'),
    ('neighbour.encroachment',   'neighbour', '侵占公共空间'),
    ('neighbour.privacy',        'neighbour', '隐私与监控'),

    ('elderly.living_alone',     'elderly', '独居老人关爱'),
    ('elderly.errands',          'elderly', '代缴代办'),
    ('elderly.meals_medical',    'elderly', '助餐助医'),
    ('elderly.children',         'elderly', '儿童关爱'),
    ('elderly.hardship',         'elderly', '困难家庭帮扶'),
    ('elderly.disability',       'elderly', '助残服务'),

    ('utilities.water',          'utilities', '供水'),
    ('utilities.power',          'utilities', '供电'),
    ('utilities.gas',            'utilities', '燃气供应'),
    ('utilities.lighting',       'utilities', '楼道照明'),
    ('utilities.telecom',        'utilities', '通信网络'),

    ('greening.maintenance',     'greening', '绿化养护'),
    ('greening.fitness',         'greening', '健身与游乐设施'),
    ('greening.notice_board',    'greening', '宣传栏与标识'),
    ('greening.water_feature',   'greening', '景观水体'),
    ('greening.drying_rack',     'greening', '晾晒设施'),

    ('market.street_stall',      'market', '占道经营'),
    ('market.farmers_market',    'market', '农贸市场秩序'),
    ('market.business_noise',    'market', '经营场所噪音'),
    ('market.loading',           'market', '装卸货占道'),
    ('market.food',              'market', '食品安全'),

    ('housing.renovation',       'housing', '老旧小区改造'),
    ('housing.dangerous',        'housing', '危房鉴定与修缮'),
    ('housing.facade',           'housing', '外墙及阳台脱落'),
    ('housing.roof',             'housing', '屋面防水'),
    ('housing.elevator',         'housing', '加装电梯'),
    ('housing.illegal_building', 'housing', '违法建设'),

    ('other.education',          'other', '教育学位'),
    ('other.medical',            'other', '医疗卫生'),
    ('other.culture',            'other', '文体活动'),
    ('other.policy',             'other', '政策咨询'),
    ('other.suggestion',         'other', '意见建议');

-- ---------------------------------------------------------------------------
-- Function domains and member units of the regional alliance
-- ---------------------------------------------------------------------------

CREATE TABLE org.function_domain (
    code text PRIMARY KEY,
    name text NOT NULL
);

COMMENT ON TABLE org.function_domain IS
    'Function domains (职能分工) of alliance member units; a large item is offered to the member units whose domains fit it.';
COMMENT ON COLUMN org.function_domain.code IS 'Short ASCII code of the domain, stored in org.member_unit.domains.';
COMMENT ON COLUMN org.function_domain.name IS 'Chinese name of the domain.';

INSERT INTO org.function_domain (code, name) VALUES
    ('city_management',    '城市管理'),
    ('housing',            '住房建设'),
    ('audit',              '审计'),
    ('transport',          '交通运输'),
    ('water',              '水务'),
    ('health',             '卫生健康'),
    ('education',          '教育'),
    ('market_supervision', '市场监管'),
    ('public_security',    '公安'),
    ('civil_affairs',      '民政'),
    ('culture',            '文化旅游'),
    ('power',              '供电'),
    ('telecom',            '通信'),
    ('ecology',            '生态环境');

CREATE TABLE org.member_unit (
    code text PRIMARY KEY,
    name text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('agency', 'enterprise', 'social_org')),
    domains text[] NOT NULL CHECK (cardinality(domains) >= 1),
    community text REFERENCES org.org_unit (code)
);

CREATE INDEX member_unit_community_idx ON org.member_unit (community);

COMMENT ON TABLE org.member_unit IS
    'Members of the regional party-building alliance (区域化党建联盟): co-building agencies (共建单位), enterprises in the area (驻区企业) and social organisations (社会组织). They claim large items by function domain and meet in joint sessions.';
COMMENT ON COLUMN org.member_unit.code IS 'Stable short code of the member unit (demo: mu001..mu260).';
COMMENT ON COLUMN org.member_unit.name IS 'Chinese name of the unit, e.g. 市城管局, 国网无为市供电公司.';
COMMENT ON COLUMN org.member_unit.kind IS
    'agency (共建单位, a government body or public institution), enterprise (驻区企业), social_org (社会组织).';
COMMENT ON COLUMN org.member_unit.domains IS
    'Function domain codes (org.function_domain.code) the unit can act in; at least one. Checked by trigger member_unit_check_domains.';
COMMENT ON COLUMN org.member_unit.community IS
    'Community the unit is paired with (双联双应 pairing); NULL while unpaired.';

-- An array cannot carry a foreign key, so the domains are checked here instead.
CREATE FUNCTION org.member_unit_check_domains() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    unknown text;
BEGIN
    SELECT d INTO unknown
    FROM unnest(NEW.domains) AS d
    WHERE d IS NULL OR NOT EXISTS (SELECT 1 FROM org.function_domain f WHERE f.code = d)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'member unit "%" names unknown function domain "%"', NEW.code, unknown
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION org.member_unit_check_domains() IS
    'Trigger function: refuses a member unit whose domains include a code missing from org.function_domain.';

CREATE TRIGGER member_unit_check_domains
    BEFORE INSERT OR UPDATE OF domains ON org.member_unit
    FOR EACH ROW EXECUTE FUNCTION org.member_unit_check_domains();

-- ---------------------------------------------------------------------------
-- Intake points: red mailboxes and QR codes
-- ---------------------------------------------------------------------------

CREATE TABLE org.mailbox (
    number int PRIMARY KEY CHECK (number BETWEEN 1 AND 999),
    compound text NOT NULL REFERENCES org.org_unit (code),
    location text NOT NULL,
    qr_token text NOT NULL UNIQUE
);

CREATE INDEX mailbox_compound_idx ON org.mailbox (compound);

COMMENT ON TABLE org.mailbox IS
    'Red mailboxes ("有话对党说", "''箱''您所想") in the shopping areas and large compounds; letters are typed in by staff, and each box also carries a QR code of its own.';
COMMENT ON COLUMN org.mailbox.number IS 'Number painted on the box, 1..999; letters are filed under it.';
COMMENT ON COLUMN org.mailbox.compound IS 'Compound (grid) the box belongs to; appeals posted in it are anchored there.';
COMMENT ON COLUMN org.mailbox.location IS 'Where the box hangs, in Chinese, e.g. 安德利商圈·正门广场.';
COMMENT ON COLUMN org.mailbox.qr_token IS 'Token of the QR code on the box; the same token is a row of org.qr_code with kind mailbox.';

CREATE TABLE org.qr_code (
    token text PRIMARY KEY,
    compound text NOT NULL REFERENCES org.org_unit (code),
    kind text NOT NULL CHECK (kind IN ('compound', 'mailbox'))
);

CREATE INDEX qr_code_compound_idx ON org.qr_code (compound);

COMMENT ON TABLE org.qr_code IS
    'QR codes of the intake platform (问题帮办、"码"上就办): every compound has one, every mailbox its own. Scanning one opens the appeal form already anchored to its compound.';
COMMENT ON COLUMN org.qr_code.token IS 'Opaque token printed in the QR code URL (demo: cp-<compound code>, mb-<mailbox number>).';
COMMENT ON COLUMN org.qr_code.compound IS 'Compound an appeal sent through this code is anchored to.';
COMMENT ON COLUMN org.qr_code.kind IS 'compound (the compound''s own code, posted at its gates) or mailbox (the code on a red mailbox).';

-- ---------------------------------------------------------------------------
-- Venues and service points
-- ---------------------------------------------------------------------------

CREATE TABLE org.venue (
    code text PRIMARY KEY,
    name text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('fengqiao', 'evening_tea', 'red_hall', 'service_centre', 'pioneer_station', 'red_classroom')),
    org_unit text NOT NULL REFERENCES org.org_unit (code)
);

CREATE INDEX venue_org_unit_idx ON org.venue (org_unit);

COMMENT ON TABLE org.venue IS
    'Consultation venues where councils and meetings sit (a case records where it was heard), and service points where events earning points are held.';
COMMENT ON COLUMN org.venue.code IS 'Stable short code of the venue (demo: sc-cm01, et-cm01, rh-cm02, fq-cm01, ps-001.., rc-001..).';
COMMENT ON COLUMN org.venue.name IS 'Chinese name of the venue.';
COMMENT ON COLUMN org.venue.kind IS
    'fengqiao (枫桥经验 mediation room), evening_tea (晚茶议事厅), red_hall (红色议事厅), service_centre (党群服务中心), pioneer_station (先锋驿站), red_classroom (红邻课堂).';
COMMENT ON COLUMN org.venue.org_unit IS 'Org node that runs the venue (a community or a compound).';

-- ---------------------------------------------------------------------------
-- Read access for every daemon and the analyst
-- ---------------------------------------------------------------------------

GRANT SELECT ON ALL TABLES IN SCHEMA org TO hl_intake, hl_triage, hl_bounty, hl_points, hl_alliance, analyst;

-- ---------------------------------------------------------------------------
-- Demo city
-- ---------------------------------------------------------------------------

CREATE FUNCTION org.seed_demo() RETURNS void
LANGUAGE plpgsql AS $fn$
-- Builds a demo Wuwei shaped like the report, deterministically (two runs, or two
-- databases, get identical rows), and only once: if a city exists it does nothing.
--
-- Compounds of the shared sample of appeals (data/sample-appeals.jsonl): its "compound"
-- field is a 1-based index i (1..10 occur) and maps to code cp00i, i.e.
-- format('cp%s', lpad(i::text, 3, '0')):
--    1 青枫苑 cp001     2 蓝湾丽都 cp002    3 惠民小区 cp003    4 农机厂宿舍 cp004
--    5 丹桂园 cp005     6 春江花城 cp006    7 文昌苑 cp007      8 梧桐里 cp008
--    9 汇景园 cp009    10 望湖居 cp010
-- Indexes 11 and 12 do not occur in the sample; cp011 濡江苑 and cp012 东门小区 follow.
--
-- Shape: city wuwei; towns t1 无城镇 (cm01..cm12) and t2 高沟镇 (cm13, cm14).
-- Compound n belongs to community ((n - 1) % 14) + 1, so cm01..cm10 hold 7 compounds and
-- cm11..cm14 hold 6, and the sample compounds fall in ten different communities.
-- Compound n has 2, 4, 2, 3, 2, 3 micro-grids by (n - 1) % 6 (16 large compounds with 4),
-- micro-grid m has 6, 5, 7, 4, 6, 5, 7 households by (m - 1) % 7: 251 and 1,433 in all.
DECLARE
    community_names constant text[] := ARRAY[
        '滨湖社区', '双桥社区', '米公社区', '绣溪社区', '凤河社区', '环城社区', '城北社区',
        '鼓楼社区', '南门社区', '西门社区', '濡须社区', '东门社区', '高沟社区', '龙庵社区'];
    compound_names constant text[] := ARRAY[
        '青枫苑', '蓝湾丽都', '惠民小区', '农机厂宿舍', '丹桂园', '春江花城', '文昌苑',
        '梧桐里', '汇景园', '望湖居', '濡江苑', '东门小区', '金色家园', '阳光嘉苑',
        '滨湖新城', '双桥新村', '米公苑', '绣溪花园', '凤河湾', '安德利花园', '新华小区',
        '鼓楼新村', '南门小区', '西门新村', '濡须名邸', '高新家园', '高沟新村', '龙庵花园',
        '翠柏苑', '棉纺厂宿舍', '锦绣华庭', '江城明珠', '御景湾', '银河华庭', '城北花园',
        '紫薇花园', '东方名城', '银杏苑', '百合园', '电力宿舍', '电缆新村', '龙湖名苑',
        '幸福里', '粮食局宿舍', '教育局宿舍', '和平小区', '天河湾', '碧水湾', '香樟苑',
        '世纪花园', '状元府', '书香门第', '玉兰苑', '荷塘月色', '高沟人家', '凤凰城',
        '江南名府', '兴隆小区', '富康苑', '安居小区', '康乐园', '怡景湾', '盛世华庭',
        '金桂园', '清水湾', '明珠花园', '景湖苑', '融汇新城', '绿洲花园', '丰收小区',
        '医院宿舍', '供销社宿舍', '二中教师公寓', '锦江苑', '东湖花园', '丽景苑', '临湖佳苑',
        '百花苑', '春晖小区', '绿城雅苑', '星河湾', '华府名邸', '桃源居', '柳岸人家',
        '荷花苑', '朝阳小区', '建设新村', '民乐小区', '长安花园', '福润苑', '新河家园',
        '海棠苑', '枫林湾', '紫金苑'];
    surnames constant text[] := ARRAY[
        '张', '王', '李', '赵', '陈', '刘', '杨', '黄', '吴', '周', '徐', '孙', '马', '朱',
        '胡', '郭', '何', '高', '林', '罗', '郑', '梁', '谢', '宋', '唐', '许', '韩', '冯',
        '邓', '曹', '彭', '曾', '肖', '田', '董', '袁', '潘', '于', '蒋', '蔡'];
BEGIN
    -- Two concurrent calls must not both see "no city" and both insert.
    LOCK TABLE org.org_unit IN SHARE ROW EXCLUSIVE MODE;
    IF EXISTS (SELECT 1 FROM org.org_unit WHERE level = 'city') THEN
        RETURN;
    END IF;

    INSERT INTO org.org_unit (code, name, level, parent) VALUES
        ('wuwei', '无为市', 'city', NULL),
        ('t1', '无城镇', 'town', 'wuwei'),
        ('t2', '高沟镇', 'town', 'wuwei');

    INSERT INTO org.org_unit (code, name, level, parent)
    SELECT 'cm' || lpad(c::text, 2, '0'), community_names[c], 'community',
           CASE WHEN c <= 12 THEN 't1' ELSE 't2' END
    FROM generate_series(1, 14) AS c;

    -- Grades repeat B A B C B A B B A C: 28 A, 47 B, 19 C.
    INSERT INTO org.org_unit (code, name, level, parent, grade)
    SELECT 'cp' || lpad(n::text, 3, '0'), compound_names[n], 'compound',
           'cm' || lpad(((n - 1) % 14 + 1)::text, 2, '0'),
           (ARRAY['B', 'A', 'B', 'C', 'B', 'A', 'B', 'B', 'A', 'C'])[(n - 1) % 10 + 1]
    FROM generate_series(1, 94) AS n;

    -- The chains run through the two pilot communities, 滨湖 (cm01) and 双桥 (cm02):
    -- the weakest compounds lift, the middling consolidate, the A-grade innovate.
    UPDATE org.org_unit AS u SET chain = c.chain
    FROM (VALUES ('cp030', 'improve'), ('cp043', 'improve'), ('cp044', 'improve'),
                 ('cp001', 'consolidate'), ('cp015', 'consolidate'), ('cp057', 'consolidate'),
                 ('cp002', 'innovate'), ('cp016', 'innovate'), ('cp029', 'innovate'),
                 ('cp072', 'innovate')) AS c (code, chain)
    WHERE u.code = c.code;

    -- Each shopping area lies inside one community: 环城 (cm06), 城北 (cm07), 东门 (cm12).
    UPDATE org.org_unit AS u SET shopping_area = s.area
    FROM (VALUES ('cp006', 'anderli'), ('cp020', 'anderli'), ('cp034', 'anderli'),
                 ('cp007', 'xinhua_street'), ('cp021', 'xinhua_street'), ('cp035', 'xinhua_street'),
                 ('cp012', 'gaoxin_avenue'), ('cp026', 'gaoxin_avenue'), ('cp040', 'gaoxin_avenue'))
         AS s (code, area)
    WHERE u.code = s.code;

    -- Micro-grids are numbered on through the compounds in order; each covers six buildings.
    INSERT INTO org.org_unit (code, name, level, parent)
    SELECT 'mg' || lpad((c.before + j)::text, 3, '0'),
           format('%s%s-%s号楼微网格党小组', c.name, (j - 1) * 6 + 1, j * 6),
           'micro_grid', c.code
    FROM (SELECT code, name, grids, sum(grids) OVER (ORDER BY n) - grids AS before
          FROM (SELECT n, 'cp' || lpad(n::text, 3, '0') AS code, compound_names[n] AS name,
                       (ARRAY[2, 4, 2, 3, 2, 3])[(n - 1) % 6 + 1] AS grids
                FROM generate_series(1, 94) AS n) AS k) AS c,
         generate_series(1, c.grids) AS j;

    -- Households likewise; 7 is prime to 40, so neighbours in a grid differ in surname.
    INSERT INTO org.org_unit (code, name, level, parent)
    SELECT 'hh' || lpad((g.before + j)::text, 4, '0'),
           '党员中心户-' || surnames[((g.before + j) * 7) % 40 + 1] || '某',
           'household', g.code
    FROM (SELECT code, homes, sum(homes) OVER (ORDER BY m) - homes AS before
          FROM (SELECT m, 'mg' || lpad(m::text, 3, '0') AS code,
                       (ARRAY[6, 5, 7, 4, 6, 5, 7])[(m - 1) % 7 + 1] AS homes
                FROM generate_series(1, 251) AS m) AS k) AS g,
         generate_series(1, g.homes) AS j;

    -- 122 red mailboxes: 9 in each shopping area (1..27), then one per micro-grid in each
    -- compound with 4 micro-grids (64) and one at the gate of each with 3 (31).
    INSERT INTO org.mailbox (number, compound, location, qr_token)
    SELECT b.number, b.compound, b.location, 'mb-' || lpad(b.number::text, 3, '0')
    FROM (SELECT (row_number() OVER (ORDER BY part, first_key, second_key))::int AS number,
                 compound, location
          FROM (SELECT 1 AS part, a.ord AS first_key, s.ord AS second_key,
                       a.compounds[(s.ord - 1) % 3 + 1] AS compound,
                       a.name || '·' || s.spot AS location
                FROM (VALUES (1, '安德利商圈', ARRAY['cp006', 'cp020', 'cp034']),
                             (2, '新华街商圈', ARRAY['cp007', 'cp021', 'cp035']),
                             (3, '高新大道商圈', ARRAY['cp012', 'cp026', 'cp040']))
                         AS a (ord, name, compounds),
                     unnest(ARRAY['正门广场', '东侧出入口', '西侧出入口', '美食街口', '公交站台',
                                  '停车场入口', '步行街中段', '服务台旁', '南侧广场'])
                         WITH ORDINALITY AS s (spot, ord)
                UNION ALL
                SELECT 2, substr(c.code, 3)::int, j, c.code,
                       CASE WHEN g.grids = 4 THEN format('%s%s号楼单元门口', c.name, (j - 1) * 6 + 1)
                            ELSE c.name || '正门宣传栏旁' END
                FROM org.org_unit AS c
                JOIN (SELECT parent, count(*)::int AS grids
                      FROM org.org_unit WHERE level = 'micro_grid' GROUP BY parent) AS g
                  ON g.parent = c.code,
                     generate_series(1, CASE g.grids WHEN 4 THEN 4 WHEN 3 THEN 1 ELSE 0 END) AS j
                WHERE c.level = 'compound') AS all_boxes) AS b;

    INSERT INTO org.qr_code (token, compound, kind)
    SELECT 'cp-' || code, code, 'compound' FROM org.org_unit WHERE level = 'compound'
    UNION ALL
    SELECT qr_token, compound, 'mailbox' FROM org.mailbox;

    -- 260 member units: 90 agencies, 110 enterprises, 60 social organisations, numbered in
    -- that order. Units of a community carry its name and are paired with it; the others
    -- are paired round robin.
    INSERT INTO org.member_unit (code, name, kind, domains, community)
    SELECT 'mu' || lpad((row_number() OVER (ORDER BY u.kind_order, u.part, u.seq))::text, 3, '0'),
           u.name, u.kind, u.domains,
           'cm' || lpad(((u.pair - 1) % 14 + 1)::text, 2, '0')
    FROM (
        -- City departments and institutions.
        SELECT 1 AS kind_order, 1 AS part, d.seq, 'agency' AS kind, d.name, d.domains, d.seq AS pair
        FROM (VALUES
            (1, '市城管局', '{city_management}'::text[]),
            (2, '市住建局', '{housing}'),
            (3, '市审计局', '{audit}'),
            (4, '市交通运输局', '{transport}'),
            (5, '市水务局', '{water}'),
            (6, '市卫健委', '{health}'),
            (7, '市教育局', '{education}'),
            (8, '市市场监管局', '{market_supervision}'),
            (9, '市公安局', '{public_security}'),
            (10, '市民政局', '{civil_affairs}'),
            (11, '市文旅局', '{culture}'),
            (12, '芜湖市生态环境局无为分局', '{ecology}'),
            (13, '市自然资源和规划局', '{housing,city_management}'),
            (14, '市应急管理局', '{public_security}'),
            (15, '市司法局', '{public_security,civil_affairs}'),
            (16, '市人社局', '{civil_affairs}'),
            (17, '市财政局', '{audit}'),
            (18, '市医保局', '{health,civil_affairs}'),
            (19, '市退役军人事务局', '{civil_affairs}'),
            (20, '市数据资源局', '{telecom}'),
            (21, '市信访局', '{civil_affairs}'),
            (22, '市农业农村局', '{ecology,market_supervision}'),
            (23, '市商务局', '{market_supervision}'),
            (24, '市发展改革委', '{power,water,transport}'),
            (25, '市总工会', '{civil_affairs}'),
            (26, '团市委', '{education,culture}'),
            (27, '市妇联', '{civil_affairs}'),
            (28, '市残联', '{civil_affairs,health}'),
            (29, '市红十字会', '{health}'),
            (30, '市科协', '{education}'),
            (31, '市融媒体中心', '{culture}'),
            (32, '市图书馆', '{culture,education}'),
            (33, '市文化馆', '{culture}'),
            (34, '市人民医院', '{health}'),
            (35, '市中医医院', '{health}'),
            (36, '市疾控中心', '{health}'),
            (37, '市妇幼保健院', '{health}'),
            (38, '市消防救援大队', '{public_security}'),
            (39, '市公安局交警大队', '{public_security,transport}'),
            (40, '市城市管理行政执法大队', '{city_management}'),
            (41, '市市政设施管护中心', '{city_management,water}'),
            (42, '市环境卫生管理所', '{city_management,ecology}'),
            (43, '市园林绿化管理所', '{city_management,ecology}'),
            (44, '市住房保障服务中心', '{housing}'),
            (45, '市房屋征收服务中心', '{housing}'),
            (46, '市公路管理服务中心', '{transport}'),
            (47, '市交通运输综合执法大队', '{transport}'),
            (48, '市市场监管局无城市场监管所', '{market_supervision}'),
            (49, '市税务局', '{audit}'),
            (50, '市统计局', '{audit}')) AS d (seq, name, domains)
        UNION ALL
        -- One health station and one police office in each community.
        SELECT 1, 2, c, 'agency', community_names[c] || '卫生服务站', '{health}', c
        FROM generate_series(1, 14) AS c
        UNION ALL
        SELECT 1, 3, c, 'agency', community_names[c] || '警务室', '{public_security}', c
        FROM generate_series(1, 14) AS c
        UNION ALL
        -- Schools.
        SELECT 1, 4, s.ord::int, 'agency', s.name, '{education}', s.ord::int
        FROM unnest(ARRAY['无为一中', '无为二中', '无为三中', '无为城北中学', '无为实验中学',
                          '无为市实验小学', '无为市城关第一小学', '无为市城关第二小学',
                          '无为市城关第三小学', '无为市滨湖小学', '无为市第一幼儿园',
                          '无为市第二幼儿园']) WITH ORDINALITY AS s (name, ord)
        UNION ALL
        -- Utilities, banks, markets and other enterprises in the area.
        SELECT 2, 1, e.seq, 'enterprise', e.name, e.domains, e.seq
        FROM (VALUES
            (1, '国网无为市供电公司', '{power}'::text[]),
            (2, '中国电信无为分公司', '{telecom}'),
            (3, '中国移动无为分公司', '{telecom}'),
            (4, '中国联通无为分公司', '{telecom}'),
            (5, '中国广电无为分公司', '{telecom,culture}'),
            (6, '无为市供水有限公司', '{water}'),
            (7, '无为市燃气有限公司', '{housing,public_security}'),
            (8, '无为市公共交通有限公司', '{transport}'),
            (9, '无为市城市建设投资有限公司', '{housing,city_management}'),
            (10, '无为市环境卫生服务有限公司', '{city_management,ecology}'),
            (11, '无为市排水有限公司', '{water}'),
            (12, '无为市园林工程有限公司', '{city_management,ecology}'),
            (13, '中国工商银行无为支行', '{civil_affairs}'),
            (14, '中国农业银行无为支行', '{civil_affairs}'),
            (15, '中国银行无为支行', '{civil_affairs}'),
            (16, '中国建设银行无为支行', '{civil_affairs}'),
            (17, '中国邮政储蓄银行无为支行', '{civil_affairs}'),
            (18, '无为农村商业银行', '{civil_affairs}'),
            (19, '中国邮政无为分公司', '{civil_affairs,telecom}'),
            (20, '中国人寿无为支公司', '{health,civil_affairs}'),
            (21, '中国人保财险无为支公司', '{public_security}'),
            (22, '无为安德利商场', '{market_supervision}'),
            (23, '无为新华书店', '{culture,education}'),
            (24, '无为城南农贸市场管理有限公司', '{market_supervision}'),
            (25, '无为城北农贸市场管理有限公司', '{market_supervision}'),
            (26, '无为市保安服务有限公司', '{public_security}'),
            (27, '无为市停车管理有限公司', '{transport,city_management}'),
            (28, '无为市市政工程有限公司', '{city_management,housing}'),
            (29, '无为市建筑设计研究院', '{housing}'),
            (30, '无为市文化旅游发展有限公司', '{culture}'),
            (31, '无为市水务投资有限公司', '{water}'),
            (32, '无为市交通投资有限公司', '{transport}'),
            (33, '无为市康养服务有限公司', '{health,civil_affairs}'),
            (34, '无为市家政服务有限公司', '{civil_affairs}'),
            (35, '无为市电梯维保有限公司', '{housing,public_security}'),
            (36, '无为市消防设施检测有限公司', '{public_security}'),
            (37, '无为市新能源汽车充电服务有限公司', '{power,transport}'),
            (38, '无为市广告标识有限公司', '{city_management}')) AS e (seq, name, domains)
        UNION ALL
        -- Property managers, builders and cable makers (高沟 is a cable town): 24 x 3.
        SELECT 2, 2, (p.ord::int - 1) * 3 + t.ord::int, 'enterprise', p.prefix || t.suffix, t.domains,
               (p.ord::int - 1) * 3 + t.ord::int
        FROM unnest(ARRAY['皖江', '濡须', '绣溪', '米公', '凤河', '华信', '安居', '恒泰',
                          '宏达', '金鼎', '瑞丰', '江淮', '新城', '鑫源', '同心', '永安',
                          '广源', '东升', '天润', '嘉禾', '盛和', '锦程', '长江', '泰丰'])
                 WITH ORDINALITY AS p (prefix, ord),
             (VALUES (1, '物业服务有限公司', '{housing}'::text[]),
                     (2, '建筑工程有限公司', '{housing,city_management}'),
                     (3, '电缆有限公司', '{power}')) AS t (ord, suffix, domains)
        UNION ALL
        -- Social organisations named in the report and other city-wide ones.
        SELECT 3, 1, o.seq, 'social_org', o.name, o.domains, o.seq
        FROM (VALUES
            (1, '无为市社会组织联合会', '{civil_affairs}'::text[]),
            (2, '向阳花关爱儿童志愿队', '{education,civil_affairs}'),
            (3, '情暖夕阳敬老社', '{civil_affairs,health}'),
            (4, '暖心社', '{public_security,civil_affairs}'),
            (5, '锦绣无为志愿服务队', '{civil_affairs}'),
            (6, '濡江情韵合唱团', '{culture}'),
            (7, '五色花志愿服务队', '{civil_affairs,ecology}'),
            (8, '无为市义工联合会', '{civil_affairs}'),
            (9, '无为市蓝天救援队', '{public_security}'),
            (10, '无为市红十字志愿服务队', '{health}'),
            (11, '无为市书法家协会', '{culture}'),
            (12, '无为市摄影家协会', '{culture}'),
            (13, '无为市老年大学志愿者协会', '{education,culture}'),
            (14, '无为鱼灯传承协会', '{culture}'),
            (15, '无为市青年志愿者协会', '{civil_affairs,education}'),
            (16, '无为市心理咨询师协会', '{health}'),
            (17, '无为市律师志愿服务团', '{public_security,civil_affairs}'),
            (18, '无为市物业管理协会', '{housing}')) AS o (seq, name, domains)
        UNION ALL
        -- Three grass-roots organisations hatched in each community: 14 x 3.
        SELECT 3, 2, (c - 1) * 3 + t.ord, 'social_org', community_names[c] || t.suffix, t.domains, c
        FROM generate_series(1, 14) AS c,
             (VALUES (1, '志愿服务队', '{civil_affairs}'::text[]),
                     (2, '邻里互助会', '{civil_affairs,public_security}'),
                     (3, '文体协会', '{culture}')) AS t (ord, suffix, domains)
    ) AS u;

    -- Venues: in every community a party-mass service centre and a consultation hall
    -- (晚茶议事厅 in odd, 红色议事厅 in even communities), a 枫桥 mediation room in four,
    -- 61 pioneer stations and 34 red classrooms spread evenly over the compounds
    -- (compound n is chosen when floor(n * k / 94) steps up), 14 more classrooms in the
    -- communities' service centres.
    INSERT INTO org.venue (code, name, kind, org_unit)
    SELECT 'sc-' || code, name || '党群服务中心', 'service_centre', code
    FROM org.org_unit WHERE level = 'community'
    UNION ALL
    SELECT CASE WHEN substr(code, 3)::int % 2 = 1 THEN 'et-' ELSE 'rh-' END || code,
           name || CASE WHEN substr(code, 3)::int % 2 = 1 THEN '晚茶议事厅' ELSE '红色议事厅' END,
           CASE WHEN substr(code, 3)::int % 2 = 1 THEN 'evening_tea' ELSE 'red_hall' END,
           code
    FROM org.org_unit WHERE level = 'community'
    UNION ALL
    SELECT 'fq-' || code, name || '“枫桥式”矛盾调解室', 'fengqiao', code
    FROM org.org_unit WHERE code IN ('cm01', 'cm02', 'cm06', 'cm13')
    UNION ALL
    SELECT 'ps-' || lpad((row_number() OVER (ORDER BY n))::text, 3, '0'),
           '濡须驿家人·先锋驿站（' || compound_names[n] || '）', 'pioneer_station',
           'cp' || lpad(n::text, 3, '0')
    FROM generate_series(1, 94) AS n
    WHERE n * 61 / 94 > (n - 1) * 61 / 94
    UNION ALL
    SELECT 'rc-' || lpad(c::text, 3, '0'), community_names[c] || '红邻课堂', 'red_classroom',
           'cm' || lpad(c::text, 2, '0')
    FROM generate_series(1, 14) AS c
    UNION ALL
    SELECT 'rc-' || lpad((14 + row_number() OVER (ORDER BY n))::text, 3, '0'),
           compound_names[n] || '红邻课堂', 'red_classroom',
           'cp' || lpad(n::text, 3, '0')
    FROM generate_series(1, 94) AS n
    WHERE n * 34 / 94 > (n - 1) * 34 / 94;
END
$fn$;

COMMENT ON FUNCTION org.seed_demo() IS
    'Fills the org tree, mailboxes, QR codes, member units and venues with a deterministic demo Wuwei shaped like the report; does nothing if a city is already present. Sample appeal compound index i maps to code cp00i (lpad to 3 digits).';

-- Only the owner (hlctl seed) runs it.
REVOKE ALL ON FUNCTION org.seed_demo() FROM PUBLIC;
