-- The identity graph as edges for connected components. Nodes are records ('0|source|id') and
-- shared match keys ('1|key'); the '0|' prefix makes a component's smallest node a record.
-- Exact rules link records through their shared key, similarity rules link record pairs directly.
-- Every record also has an edge to itself, so records no rule links are singleton customers.
-- A view: its one reader, int_identity__components, copies it into an in-memory work table anyway,
-- and writing its 12.7 M rows (1 M people) into the database file cost 5 s to save nothing.
{{ config(materialized='view') }}
with records as (
    select source, source_record_id from {{ ref('stg_cx__touchpoints') }}
),

match_keys as (
    select * from {{ ref('int_identity__match_keys') }}
),

similar_pairs as (
    select * from {{ ref('int_identity__similar_pairs') }}
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
    union all
    select
        '0|' || source_a || '|' || source_record_id_a as node_a,
        '0|' || source_b || '|' || source_record_id_b as node_b
    from similar_pairs
)

select * from final
