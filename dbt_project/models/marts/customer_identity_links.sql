-- Every accepted source record with the customer it belongs to and the rule that linked it.
with links as (
    select * from {{ ref('int_identity_links') }}
),

final as (
    select
        -- ids
        customer_id,
        source,
        source_record_id,
        -- lineage
        match_rule
    from links
)

select * from final
