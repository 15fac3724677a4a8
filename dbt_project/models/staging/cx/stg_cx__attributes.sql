-- Person-describing values of every registered source (fields marked `attribute: true`), long form:
-- the candidates for the golden record.
with source as (
    select * from {{ source('ingested', 'attributes') }}
),

renamed as (
    select
        source,
        source_record_id,
        attribute,
        value as attribute_value,
        observed_at
    from source
)

select * from renamed
