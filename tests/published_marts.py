"""The marts BI tools read from data/published/: their names are an interface."""

PUBLISHED_MARTS = {
    # customer 360 and the journey
    "dim_customers", "customer_identity_links", "customer_contact_points", "customer_id_changes", "fct_touchpoints",
    "customer_traits",
    # lifecycle
    "customer_lifecycle", "dim_lifecycle_stages", "customer_phase_history", "customer_phase_transitions",
    "lifecycle_funnel", "cx_kpis",
    # silos
    "source_link_rates", "channel_department_coverage", "siloed_customers", "customer_consistency",
    # privacy
    "customer_consent",
}  # fmt: skip
