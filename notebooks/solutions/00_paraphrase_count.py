from course_utils.data import load_questions

paraphrase_count = len([q for q in load_questions() if q.split == "paraphrase"])
