def my_mrr(rankings, gold_doc_ids):
    total = 0.0
    for ranking, gold in zip(rankings, gold_doc_ids):
        for position, doc_id in enumerate(ranking, 1):
            if doc_id == gold:
                total += 1 / position
                break
    return total / len(rankings)
