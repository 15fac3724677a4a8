-- Every identifier of every registered source, long form: the input of identity resolution.
with source as (
    select * from {{ source('ingested', 'identifiers') }}
),

renamed as (
    select
        source,
        source_record_id,
        identifier_type,
        identifier_value,
        field as source_field
    from source
)

select * from renamed
