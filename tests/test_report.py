"""The report: self-contained HTML with embedded plots, and the text summary `make course` prints."""
import base64
import re

import matplotlib
import pytest

matplotlib.use("Agg")

from course_utils import report  # noqa: E402
from course_utils.claims import CITATIONS, judge_all, literature_table  # noqa: E402
from course_utils.config import REPO_ROOT  # noqa: E402
from test_claims import BASE, OURS  # noqa: E402
from test_comparison import make_comparison  # noqa: E402


@pytest.fixture(scope="module")
def parts():
    import matplotlib.pyplot as plt

    c = make_comparison()
    figures = {"Accuracy": report.plot_accuracy(c), "Costs": report.plot_costs(c)}
    yield c, judge_all(BASE), literature_table(OURS), figures
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
