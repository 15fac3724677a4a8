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

-- per source first: the distinct-source count becomes a plain count, and the golden values
-- (one per customer and attribute) are looked up once per key, not once per record
by_source as (
    select
        customer_id,
        identifier_type,
        identifier_value,
        source,
        count(*) as record_count,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        max(guard) as guard
    from observed
    group by customer_id, identifier_type, identifier_value, source
),

key_ring as (
    select
        -- ids
        customer_id,
        identifier_type,
        identifier_value,
        -- evidence
        cast(sum(record_count) as bigint) as record_count,
        count(*) as source_count,
        min(source) as first_source,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        -- how it is used
        max(guard) as guard
    from by_source
    group by customer_id, identifier_type, identifier_value
),

with_golden as (
    select
        key_ring.*,
        golden.attribute_value is not null as is_golden
    from key_ring
    left join golden
        on golden.customer_id = key_ring.customer_id
        and golden.attribute = key_ring.identifier_type
        and golden.attribute_value = key_ring.identifier_value
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
    from with_golden
)

select * from final
