from statistics import mean

from course_utils.evaluation import contains_answer

stale_rate = mean(contains_answer(r.answer, q.stale_answers) for r, q in zip(before, update_questions))
check_stale_rate(stale_rate, before, update_questions)
