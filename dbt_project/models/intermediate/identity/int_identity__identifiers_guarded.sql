-- Every identifier value with the over-merge guard that stops it linking records, if any.
-- Guards (cx_pipeline/config/identity.yml): junk values, junk patterns, too many records,
-- too many distinct neighbours of one type. A null `guard` means the value may link.
{%- set rules = identity_rules() %}

with identifiers as (
    select * from {{ ref('stg_cx__identifiers') }}
),

junk_flagged as (
    select
        identifier_type,
        identifier_value,
        count(*) as record_count,
        {{ value_guard('identifier_type', 'identifier_value', rules) }} as junk_guard
    from identifiers
    group by identifier_type, identifier_value
),

-- distinct non-junk values of each other type found on the same records
neighbour_counts as (
    select
        value.identifier_type,
        value.identifier_value,
        neighbour.identifier_type as neighbour_type,
        count(distinct neighbour.identifier_value) as distinct_neighbours
    from identifiers as value
    inner join identifiers as neighbour
        on value.source = neighbour.source
        and value.source_record_id = neighbour.source_record_id
        and value.identifier_type <> neighbour.identifier_type
    inner join junk_flagged as neighbour_flags
        on neighbour_flags.identifier_type = neighbour.identifier_type
        and neighbour_flags.identifier_value = neighbour.identifier_value
        and neighbour_flags.junk_guard is null
    group by value.identifier_type, value.identifier_value, neighbour.identifier_type
),

over_connected as (
    select
        identifier_type,
        identifier_value,
        max(distinct_neighbours) as max_distinct_neighbours
    from neighbour_counts
    where
    {%- for type, limits in rules.max_distinct_neighbours.items() %}
        {%- for neighbour_type, limit in limits.items() %}
        (identifier_type = {{ sql_literal(type) }} and neighbour_type = {{ sql_literal(neighbour_type) }}
            and distinct_neighbours > {{ limit }}) or
        {%- endfor %}
    {%- endfor %}
        false
    group by identifier_type, identifier_value
),

values_guarded as (
    select
        junk_flagged.identifier_type,
        junk_flagged.identifier_value,
        junk_flagged.record_count,
        coalesce(
            junk_flagged.junk_guard,
            case when over_connected.identifier_value is not null then 'too_many_neighbours' end
        ) as guard
    from junk_flagged
    left join over_connected
        on over_connected.identifier_type = junk_flagged.identifier_type
        and over_connected.identifier_value = junk_flagged.identifier_value
),

final as (
    select
        identifiers.source,
        identifiers.source_record_id,
        identifiers.identifier_type,
        identifiers.identifier_value,
        identifiers.source_field,
        values_guarded.record_count as value_record_count,
        values_guarded.guard
    from identifiers
    inner join values_guarded
        on values_guarded.identifier_type = identifiers.identifier_type
        and values_guarded.identifier_value = identifiers.identifier_value
)

select * from final
