import math


def bm25_term(tf, df, doc_len, avg_doc_len, n_docs, k1=1.5, b=0.75):
    idf = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))  # rare words weigh more
    saturation = tf / (tf + k1 * (1 - b + b * doc_len / avg_doc_len))  # long chunks are damped
    return idf * saturation
