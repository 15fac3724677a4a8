-- Connected components of the identity graph: each node with the smallest node of its component.
{{ config(materialized='connected_components', max_iterations=100) }}

select node_a, node_b from {{ ref('int_identity__edges') }}
