{{ config(integer_keys=false) }}
-- same input as cc_mixed, iterating on the node ids themselves
select node_a, node_b from read_parquet('{{ var("input_dir") }}/mixed.parquet')
