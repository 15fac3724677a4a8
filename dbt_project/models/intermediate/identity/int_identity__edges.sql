-- The identity graph as edges for connected components. Nodes are records ('0|source|id') and
-- shared match keys ('1|key'); the '0|' prefix makes a component's smallest node a record.
-- Every record also has an edge to itself, so records no rule links are singleton customers.
with records as (
    select source, source_record_id from {{ ref('stg_cx__touchpoints') }}
),

match_keys as (
    select * from {{ ref('int_identity__match_keys') }}
),

final as (
    select
        '0|' || source || '|' || source_record_id as node_a,
        '0|' || source || '|' || source_record_id as node_b
    from records
    union all
    select
        '0|' || source || '|' || source_record_id as node_a,
        '1|' || match_key as node_b
    from match_keys
)

select * from final
