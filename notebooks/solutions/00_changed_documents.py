from course_utils.data import load_documents

old_text = {d.doc_id: d.text for d in load_documents("v1")}
changed = {d.doc_id for d in load_documents("v2") if d.text != old_text[d.doc_id]}
