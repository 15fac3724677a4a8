with source as (
    select * from {{ source('ingested', 'surveys') }}
),

renamed as (
    select
        -- ids
        source_record_id,
        response_id,
        email,
        -- response
        nps_score,
        comment,
        -- timestamps
        responded_at
    from source
)

select * from renamed
