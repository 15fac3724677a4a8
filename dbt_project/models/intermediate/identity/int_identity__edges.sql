-- The identity graph as edges for connected components. Nodes are records ('0|source|id'). The
-- records sharing a match key are linked as a star, each to the key's smallest record: the same
-- components as linking each to a node of its own for the key, with a node fewer per key (at
-- 1 M people 1.6 M of 7.2 M nodes) for the rounds to carry. Similarity rules link record pairs
-- directly. Every record also has an edge to itself, so records no rule links are singleton
-- customers.
-- A view: its one reader, int_identity__components, copies it into an in-memory work table anyway,
-- and writing its 12.7 M rows (1 M people) into the database file cost 5 s to save nothing.
-- Not described in Dagster after the build: its row count and preview computed the view once
-- more (3.2 s at 1 M people).
{{ config(materialized='view', meta={'describe_after_build': false}) }}
with records as (
    select source, source_record_id from {{ ref('stg_cx__touchpoints') }}
),

match_keys as (
    select
        {{ identity_record_node('source', 'source_record_id') }} as record_node,
        match_key
    from {{ ref('int_identity__match_keys') }}
),

similar_pairs as (
    select * from {{ ref('int_identity__similar_pairs') }}
),

-- the hub of each key's star
key_anchors as (
    select match_key, min(record_node) as anchor_node
    from match_keys
    group by match_key
),

final as (
    select
        {{ identity_record_node('source', 'source_record_id') }} as node_a,
        {{ identity_record_node('source', 'source_record_id') }} as node_b
    from records
    union all
    select
        match_keys.record_node as node_a,
        key_anchors.anchor_node as node_b
    from match_keys
    inner join key_anchors on key_anchors.match_key = match_keys.match_key
    union all
    select
        {{ identity_record_node('source_a', 'source_record_id_a') }} as node_a,
        {{ identity_record_node('source_b', 'source_record_id_b') }} as node_b
    from similar_pairs
)

select * from final
