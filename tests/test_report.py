"""The report: self-contained HTML with embedded plots, and the text summary `make course` prints."""
import base64
import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

from course_utils import report  # noqa: E402
from course_utils.literature import CITATIONS, literature_table
from course_utils.claims import MARKS, judge_all  # noqa: E402
from course_utils.config import REPO_ROOT  # noqa: E402
from course_utils.plots import plot_accuracy, plot_costs  # noqa: E402
from test_claims import BASE, OURS  # noqa: E402
from test_comparison import make_comparison  # noqa: E402


def synthetic_parts():
    """The report's inputs from small synthetic data: comparison, claims, literature table, figures."""
    c = make_comparison()
    figures = {"Accuracy": plot_accuracy(c), "Costs": plot_costs(c)}
    return c, judge_all(BASE), literature_table(OURS), figures


def write_synthetic_report(path: Path) -> Path:
    """A report written by ``write_report`` from the synthetic inputs (tests/test_browser.py opens one)."""
    import matplotlib.pyplot as plt

    c, claims, literature, figures = synthetic_parts()
    try:
        return report.write_report(c.table(), claims, literature, figures, CITATIONS, path=path, comparison=c)
    finally:
        plt.close("all")


def emoji_in(text: str) -> list[str]:
    """Pictographs, dingbats and the emoji variation selector: Debian's Chromium shows them as empty boxes."""
    return sorted({ch for ch in text if ord(ch) >= 0x1F000 or 0x2600 <= ord(ch) <= 0x27BF
                   or 0x2B00 <= ord(ch) <= 0x2BFF or ch == "\ufe0f"})


@pytest.fixture(scope="module")
def parts():
    import matplotlib.pyplot as plt

    yield synthetic_parts()
    plt.close("all")


def test_paths_are_under_the_repository_whatever_the_working_directory():
    assert report.REPORT == REPO_ROOT / "build" / "report.html"
    assert report.SUMMARY == REPO_ROOT / "build" / "summary.txt"
    from course_utils.run_course import SUMMARY
    assert SUMMARY == report.SUMMARY  # the file `make course` prints


def test_plots_have_one_bar_per_approach_and_split(parts):
    c, _, _, figures = parts
    first = figures["Accuracy"].axes[0]
    assert len(first.patches) == len(c.approaches) * 3  # train, paraphrase, update
    bars = [k for k in first.containers if k.__class__.__name__ == "BarContainer"]
    assert len(bars) == len(c.approaches) and all(k.errorbar is not None for k in bars)  # each with error bars
    assert len(figures["Costs"].axes) == 4


def test_report_is_self_contained_and_complete(parts, tmp_path):
    c, claims, literature, figures = parts
    path = report.write_report(c.table(), claims, literature, figures, CITATIONS, path=tmp_path / "report.html",
                               comparison=c)
    text = path.read_text()
    assert c.model_name in text and "n=4]" in text  # the headline figures carry their n
    images = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", text)
    assert len(images) == 2 and all(base64.b64decode(i)[:4] == b"\x89PNG" for i in images)
    assert not re.search(r"""(src|href)=["'](?!data:)""", text)  # nothing to fetch from elsewhere
    for needle in ("RAFT", "fine-tune + RAG", "Fine-tuned models answer faster", "Ovadia et al. 2024", "arXiv:2403.10131"):
        assert needle in text
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary file left behind


def test_summary_has_the_table_and_every_verdict(parts, tmp_path):
    c, claims, _, _ = parts
    path = report.write_summary(c, claims, path=tmp_path / "summary.txt")
    text = path.read_text()
    assert all(a in text for a in c.approaches)
    assert text.count("supported") == len(claims)
    assert all(row["evidence"] in text for _, row in claims.iterrows())  # the sentences, with n and intervals
    assert "build/report.html" in text


def test_comparison_table_is_split_by_topic_keeping_every_column_once(parts):
    table = parts[0].table()
    split = report.table_by_topic(table)
    assert [topic for topic, _ in split] == list(report.TABLE_TOPICS)  # every column has its topic: no "other"
    columns = [c for _, part in split for c in part.columns]
    assert sorted(columns) == sorted(table.columns)  # nothing dropped, nothing twice
    assert all(len(part.columns) <= 10 for _, part in split), "a topic's table is too wide for the page"
    assert all(part.index.equals(table.index) for _, part in split)  # every table has every approach
    assert all(part.equals(table[part.columns]) for _, part in split)  # values untouched


def test_a_column_no_topic_names_is_still_shown(parts):
    table = parts[0].table().assign(**{"energy J": 1.0})
    topic, part = report.table_by_topic(table)[-1]
    assert topic == report.OTHER_TOPIC and list(part.columns) == ["energy J"]


def test_report_shows_the_comparison_as_narrow_tables_and_marks_as_text(parts, tmp_path):
    c, claims, literature, figures = parts
    text = report.write_report(c.table(), claims, literature, figures, path=tmp_path / "report.html").read_text()
    headers = re.findall(r"<th>([^<]*)</th>", text)
    assert all(column in headers for column in c.table().columns)
    assert text.count("<table") == len(report.TABLE_TOPICS) + 2  # the topics, the claims, the literature
    assert not emoji_in(text), f"the report uses emoji {emoji_in(text)}: use text or inline SVG"
    for verdict in claims["verdict"]:
        assert verdict.split()[0] in MARKS.values() and verdict in text
