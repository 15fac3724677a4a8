-- Which customer each accepted source record belongs to, and the rule that linked it.
-- A customer is a connected component of the identity graph; its id is derived from the
-- component's smallest record, so the same data gives the same ids.
with records as (
    select
        source,
        source_record_id,
        '0|' || source || '|' || source_record_id as node_id
    from {{ ref('stg_cx__touchpoints') }}
),

components as (
    select * from {{ ref('int_identity__components') }}
),

match_keys as (
    select * from {{ ref('int_identity__match_keys') }}
),

-- the highest-priority rule (first in identity.yml) that linked the record to another record
record_rules as (
    select
        source,
        source_record_id,
        match_rule
    from match_keys
    qualify row_number() over (
        partition by source, source_record_id
        order by rule_priority, match_key
    ) = 1
),

final as (
    select
        records.source,
        records.source_record_id,
        'cus_' || substr(md5(components.component_id), 1, 16) as customer_id,
        coalesce(record_rules.match_rule, 'unmatched') as match_rule
    from records
    inner join components
        on components.node_id = records.node_id
    left join record_rules
        on record_rules.source = records.source
        and record_rules.source_record_id = records.source_record_id
)

select * from final
