"""The loaders return typed rows, and a broken file fails with file, line and field."""
import json
import shutil

import pytest

from course_utils.config import DATA_DIR
from course_utils.data import DataError, Document, Question, load_documents, load_facts, load_questions


@pytest.fixture
def data_copy(tmp_path):
    for path in DATA_DIR.glob("*.jsonl"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def test_loaders_return_typed_rows():
    docs = load_documents("v1")
    assert docs and all(isinstance(d, Document) for d in docs)
    questions = load_questions("paraphrase")
    assert questions and all(isinstance(q, Question) and q.split == "paraphrase" for q in questions)
    assert {f.doc_id for f in load_facts()} <= {d.doc_id for d in docs}


def test_unknown_version_or_split_is_named():
    with pytest.raises(DataError, match="v3"):
        load_documents("v3")
    with pytest.raises(DataError, match="tset"):
        load_questions("tset")


def _replace_line(path, number, text):
    lines = path.read_text().splitlines()
    lines[number - 1] = text
    path.write_text("\n".join(lines) + "\n")


def test_invalid_json_names_file_and_line(data_copy):
    _replace_line(data_copy / "questions.jsonl", 3, '{"qid": ')
    with pytest.raises(DataError, match=r"questions\.jsonl, line 3: not valid JSON"):
        load_questions(data_dir=data_copy)


def test_missing_field_names_file_line_and_field(data_copy):
    path = data_copy / "documents_v1.jsonl"
    row = json.loads(path.read_text().splitlines()[4])
    del row["text"]
    _replace_line(path, 5, json.dumps(row))
    with pytest.raises(DataError, match=r"documents_v1\.jsonl, line 5: field 'text' is missing"):
        load_documents("v1", data_dir=data_copy)


def test_wrong_type_names_the_field(data_copy):
    path = data_copy / "questions.jsonl"
    row = json.loads(path.read_text().splitlines()[0])
    row["answers"] = "Lima"
    _replace_line(path, 1, json.dumps(row))
    with pytest.raises(DataError, match=r"line 1: field 'answers' should be list\[str\]"):
        load_questions(data_dir=data_copy)


def test_non_utf8_file_gives_a_fix(data_copy):
    (data_copy / "documents_v1.jsonl").write_bytes(b'{"doc_id": "caf\xe9"}\n')
    with pytest.raises(DataError, match="not UTF-8.*worldgen"):
        load_documents("v1", data_dir=data_copy)


def test_missing_file_says_how_to_regenerate(tmp_path):
    with pytest.raises(DataError, match="missing.*worldgen"):
        load_facts(data_dir=tmp_path)


def test_duplicate_document_ids_are_refused(data_copy):
    path = data_copy / "documents_v2.jsonl"
    first = path.read_text().splitlines()[0]
    path.write_text(path.read_text() + first + "\n")
    with pytest.raises(DataError, match="duplicate doc_id"):
        load_documents("v2", data_dir=data_copy)


def test_eval_questions_is_a_fixed_sample_of_its_split():
    from course_utils.data import eval_questions, load_questions

    sample = eval_questions("paraphrase", 10)
    assert len(sample) == 10 and len({q.qid for q in sample}) == 10
    assert all(q.split == "paraphrase" for q in sample)
    assert [q.qid for q in sample] == [q.qid for q in eval_questions("paraphrase", 10)]  # same every call
    assert [q.qid for q in sample] != [q.qid for q in load_questions("paraphrase")[:10]]  # a sample, not the head
    assert len(eval_questions("update", 10_000)) == len(load_questions("update"))
    with pytest.raises(ValueError, match="positive whole number"):
        eval_questions("train", 0)
