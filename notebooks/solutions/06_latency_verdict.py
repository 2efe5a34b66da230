def my_latency_verdict(p50_finetune, p50_rag):
    ratio = p50_rag / p50_finetune  # how many times longer a RAG answer takes
    if ratio >= 1.5:  # claims.FASTER_RATIO
        return "supported"
    if ratio < 1.1:  # claims.SAME_SPEED_RATIO
        return "refuted"
    return "nuanced"


check_latency_verdict(my_latency_verdict)
