gain = {split: table.loc["RAFT", split] - table.loc["RAG", split] for split in table.columns}
check_hybrid_gain(gain, table)
