-- 051_category_domain: which function domains fit which category of appeal (data).
--
-- A member unit may take, claim or resolve a large item only if one of its function
-- domains (org.member_unit.domains) fits the item's category. The alliance owns this
-- table (issue 13); hl-bounty's quarterly large-item board checks the same table
-- through org.unit_fits_category(), so there is one rule and one place to change it.
-- An item without a category ('other' or NULL) fits every unit: the meeting decides.

CREATE TABLE org.category_domain (
    category text NOT NULL REFERENCES org.category (code),
    domain   text NOT NULL REFERENCES org.function_domain (code),
    PRIMARY KEY (category, domain)
);
COMMENT ON TABLE org.category_domain IS
    'Category (org.category) to function domain (org.function_domain) table: a member unit fits a large item when one of its domains is listed for the item''s category.';
COMMENT ON COLUMN org.category_domain.category IS 'Category of the item (org.category.code).';
COMMENT ON COLUMN org.category_domain.domain IS 'A function domain that fits it (org.function_domain.code).';

INSERT INTO org.category_domain (category, domain) VALUES
    ('environment', 'city_management'), ('environment', 'ecology'), ('environment', 'health'),
    ('property',    'housing'),
    ('parking',     'city_management'), ('parking', 'public_security'), ('parking', 'transport'),
    ('roads',       'transport'), ('roads', 'city_management'), ('roads', 'public_security'),
    ('safety',      'public_security'), ('safety', 'city_management'), ('safety', 'power'),
    ('neighbour',   'civil_affairs'), ('neighbour', 'public_security'),
    ('elderly',     'civil_affairs'), ('elderly', 'health'), ('elderly', 'education'),
    ('utilities',   'water'), ('utilities', 'power'), ('utilities', 'telecom'),
    ('greening',    'city_management'), ('greening', 'ecology'),
    ('market',      'market_supervision'), ('market', 'city_management'),
    ('housing',     'housing'), ('housing', 'city_management');

-- true when unit `unit_code` may take an item of `category_code`; NULL category and
-- 'other' fit every unit. An unknown unit is false (callers answer 404/422 first).
CREATE FUNCTION org.unit_fits_category(unit_code text, category_code text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM org.member_unit u
        WHERE u.code = unit_code
          AND (category_code IS NULL OR category_code = 'other'
               OR EXISTS (SELECT 1 FROM org.category_domain cd
                          WHERE cd.category = category_code AND cd.domain = ANY (u.domains))))
$$;
COMMENT ON FUNCTION org.unit_fits_category(text, text) IS
    'true when the member unit has a function domain that fits the category (org.category_domain); NULL or ''other'' fit every unit.';

GRANT SELECT ON org.category_domain TO hl_intake, hl_triage, hl_bounty, hl_points, hl_alliance, analyst;
