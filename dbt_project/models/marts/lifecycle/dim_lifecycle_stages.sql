-- The lifecycle's sub-stages with their phase, in English and Japanese: labels, what the customer
-- says, what to do and the next action (dbt_project/seeds/lifecycle/).
with phases as (
    select * from {{ ref('lifecycle_phases') }}
),

stages as (
    select * from {{ ref('lifecycle_stages') }}
),

final as (
    select
        -- keys
        stages.sub_stage,
        stages.phase,
        -- order
        phases.phase_order,
        stages.stage_order,
        -- labels
        phases.phase_label_en,
        phases.phase_label_ja,
        stages.stage_label_en,
        stages.stage_label_ja,
        -- the phase, as the seed text describes it
        phases.spans_en,
        phases.spans_ja,
        phases.customer_says_en,
        phases.customer_says_ja,
        phases.what_to_do_en,
        phases.what_to_do_ja,
        -- the sub-stage
        stages.definition_en,
        stages.next_action_en,
        stages.next_action_ja
    from stages
    inner join phases
        on phases.phase = stages.phase
)

select * from final
