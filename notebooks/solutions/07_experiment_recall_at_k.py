from course_utils.searches import ExactSearch
from course_utils.scale import quality

my_k = 10
largest = corpus.head(max(SIZES))
my_recall = quality(ExactSearch(largest), largest, questions, query_vectors, ks=(my_k,), depth=my_k)[f"recall@{my_k}"]
print(f"recall@{my_k} of exact search over {len(largest):,} chunks: {my_recall:.3f}")
