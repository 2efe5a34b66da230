from collections import defaultdict


def rrf(rankings, k=60):
    totals = defaultdict(float)
    for ranking in rankings:
        for rank, item in enumerate(ranking):  # rank 0 is the best
            totals[item] += 1 / (k + rank)
    return sorted(totals.items(), key=lambda pair: pair[1], reverse=True)
