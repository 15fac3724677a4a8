-- The values match rules compare: identifier values and match-attribute values no guard flagged,
-- in one long form (value_type is the identifier type or the match attribute's name).
with identifiers as (
    select source, source_record_id, identifier_type as value_type, identifier_value as match_value
    from {{ ref('int_identity__identifiers_guarded') }}
    where guard is null
),

attributes as (
    select source, source_record_id, match_attribute as value_type, match_value
    from {{ ref('int_identity__match_attributes') }}
    where guard is null
),

final as (
    select * from identifiers
    union all
    select * from attributes
)

select * from final
