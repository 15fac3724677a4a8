-- The key ring: every identifier value a customer's records carry (not only the golden ones),
-- with where and when it was seen and whether a guard kept it from linking records.
-- Emails and phones are published as keyed hashes (pseudonymise: docs/privacy.md), other
-- identifier types as they are.
with identifiers as (
    select * from {{ ref('int_identity__identifiers_guarded') }}
),

links as (
    select * from {{ ref('int_identity_links') }}
),

touchpoints as (
    select * from {{ ref('stg_cx__touchpoints') }}
),

golden as (
    select * from {{ ref('int_identity__golden_attributes') }}
    where attribute in ('email', 'phone')
),

observed as (
    select
        links.customer_id,
        identifiers.identifier_type,
        identifiers.identifier_value,
        identifiers.source,
        identifiers.guard,
        touchpoints.occurred_at
    from identifiers
    inner join links
        on links.source = identifiers.source
        and links.source_record_id = identifiers.source_record_id
    inner join touchpoints
        on touchpoints.source = identifiers.source
        and touchpoints.source_record_id = identifiers.source_record_id
),

key_ring as (
    select
        -- ids
        observed.customer_id,
        observed.identifier_type,
        observed.identifier_value,
        -- evidence
        count(*) as record_count,
        count(distinct observed.source) as source_count,
        min(observed.source) as first_source,
        min(observed.occurred_at) as first_seen_at,
        max(observed.occurred_at) as last_seen_at,
        -- how it is used
        max(observed.guard) as guard,
        max(case when golden.attribute_value is not null then 1 else 0 end) = 1 as is_golden
    from observed
    left join golden
        on golden.customer_id = observed.customer_id
        and golden.attribute = observed.identifier_type
        and golden.attribute_value = observed.identifier_value
    group by observed.customer_id, observed.identifier_type, observed.identifier_value
),

final as (
    select
        customer_id,
        identifier_type,
        case
            when identifier_type in ('email', 'phone') then {{ pseudonymise('identifier_value') }}
            else identifier_value
        end as identifier_value,
        record_count,
        source_count,
        first_source,
        first_seen_at,
        last_seen_at,
        guard,
        is_golden
    from key_ring
)

select * from final
