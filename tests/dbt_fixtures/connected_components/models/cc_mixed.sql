-- stars, cycles, singletons (self-edges), null endpoints, duplicate and reversed edges
select node_a, node_b from read_parquet('{{ var("input_dir") }}/mixed.parquet')
