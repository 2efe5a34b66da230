def my_raft_target(answer, hits, oracle_id):
    for number, hit in enumerate(hits, 1):
        if hit.chunk_id == oracle_id:
            return f"{answer} [{number}]"
    return answer  # the oracle was left out: answer from memory, with no citation


check_raft_target(my_raft_target)
