{{ config(temporary_work_tables=false, max_iterations=var('persistent_max_iterations', 100)) }}
-- same input as cc_mixed, with regular work tables (the default on adapters other than duckdb)
select node_a, node_b from read_parquet('{{ var("input_dir") }}/mixed.parquet')
