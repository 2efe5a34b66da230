"""The machine's measured speed, the precision chosen from it, and time budgets scaled between machines."""
import copy
import json
import math

import pytest
import torch

from course_utils import machine
from course_utils.lora import base_fingerprint
from test_finetune import tiny_llama  # tests/ is on the path, as for test_report


@pytest.fixture
def fake_machine(monkeypatch, tmp_path):
    """A machine whose measurements are set by the test; returns a dict to set them and count calls."""
    monkeypatch.delenv(machine.PRECISION_ENV, raising=False)
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(machine, "_DESCRIPTION", None)
    fake = {"native": True, "float32": 100.0, "bfloat16": 200.0, "calls": 0}

    def gflops(dtype, n=1024, seconds=0.3):
        fake["calls"] += 1
        return fake[str(dtype).removeprefix("torch.")]

    monkeypatch.setattr(machine, "matmul_gflops", gflops)
    monkeypatch.setattr(machine, "memory_bandwidth_gbs", lambda mb=256: 10.0)
    monkeypatch.setattr(machine, "native_bf16", lambda: fake["native"])
    return fake


def test_measurements_are_positive_finite_numbers():
    for value in (machine.matmul_gflops("float32", n=128, seconds=0.05),
                  machine.matmul_gflops(torch.bfloat16, n=64, seconds=0.05),
                  machine.memory_bandwidth_gbs(mb=16, repeats=2)):
        assert isinstance(value, float) and math.isfinite(value) and value > 0


def test_describe_is_measured_once_and_has_every_field(fake_machine):
    first = machine.describe()
    assert set(first) == {"cores", "cpu", "torch_threads", "native_bf16", "fp32_gflops", "bf16_gflops",
                          "bandwidth_gbs"}
    assert (first["fp32_gflops"], first["bf16_gflops"], first["bandwidth_gbs"]) == (100.0, 200.0, 10.0)
    assert machine.describe() == first and fake_machine["calls"] == 2  # cached: not measured again


def test_float32_when_the_cpu_has_no_native_bf16(fake_machine):
    fake_machine["native"] = False  # even though the (fake) bf16 measurement is faster
    choice = machine.choose_precision()
    assert choice["dtype"] == "float32" and "native" in choice["reason"]


def test_float32_even_when_bfloat16_is_native_and_faster_unless_asked(fake_machine):
    # bfloat16 changes some greedy answers (scripts/bench_precision.py), so speed alone does not choose it.
    fake_machine["bfloat16"] = 100.0 * machine.BF16_MIN_SPEEDUP
    choice = machine.choose_precision()
    assert choice["dtype"] == "float32"
    assert choice["speedup"] == pytest.approx(machine.BF16_MIN_SPEEDUP)
    assert "130.0" in choice["reason"] and "100.0" in choice["reason"]  # the reason names the numbers
    assert f"{machine.PRECISION_ENV}=bfloat16" in choice["reason"]  # and how to ask for it


def test_a_choice_cached_under_the_earlier_rule_is_made_again(fake_machine, tmp_path):
    first = machine.choose_precision()
    path = tmp_path / machine.PRECISION_FILE
    record = json.loads(path.read_text())
    path.write_text(json.dumps({**record, "dtype": "bfloat16", "rule": machine.PRECISION_RULE - 1}))
    assert machine.choose_precision() == first


def test_float32_when_native_but_not_fast_enough(fake_machine):
    fake_machine["bfloat16"] = 125.0  # faster, but below the 1.3x threshold
    choice = machine.choose_precision()
    assert choice["dtype"] == "float32" and "125.0" in choice["reason"]


def test_choice_is_cached_and_not_measured_again(fake_machine, monkeypatch, tmp_path):
    first = machine.choose_precision()
    assert json.loads((tmp_path / machine.PRECISION_FILE).read_text())["dtype"] == first["dtype"]

    def fail(*args, **kwargs):
        raise AssertionError("measured again although the choice was cached")

    monkeypatch.setattr(machine, "_DESCRIPTION", None)  # as in a new process
    monkeypatch.setattr(machine, "matmul_gflops", fail)
    monkeypatch.setattr(machine, "memory_bandwidth_gbs", fail)
    assert machine.choose_precision() == first


def test_cache_from_another_machine_is_measured_again(fake_machine, tmp_path):
    machine.choose_precision()
    path = tmp_path / machine.PRECISION_FILE
    record = json.loads(path.read_text())
    path.write_text(json.dumps({**record, "dtype": "bfloat16", "machine": {**record["machine"], "cpu": "other"}}))
    machine.choose_precision()
    assert json.loads(path.read_text())["dtype"] == "float32"  # this machine's own choice again


@pytest.mark.parametrize("damage", ["{not json", "[]", '{"dtype": "float16"}', ""])
def test_damaged_cache_is_measured_again(fake_machine, monkeypatch, tmp_path, damage):
    (tmp_path / machine.PRECISION_FILE).write_text(damage)
    assert machine.choose_precision(tmp_path)["dtype"] == "float32"
    assert fake_machine["calls"] == 2
    assert json.loads((tmp_path / machine.PRECISION_FILE).read_text())["machine"] == machine._identity()


def test_environment_variable_overrides_without_measuring(fake_machine, monkeypatch):
    monkeypatch.setenv(machine.PRECISION_ENV, "float32")
    fake_machine["native"] = False
    assert machine.choose_precision()["dtype"] == "float32"
    monkeypatch.setenv(machine.PRECISION_ENV, "bfloat16")  # even where bfloat16 is emulated
    assert machine.choose_precision()["dtype"] == "bfloat16"
    assert fake_machine["calls"] == 0


def test_bad_override_names_the_allowed_values(fake_machine, monkeypatch):
    monkeypatch.setenv(machine.PRECISION_ENV, "float16")
    with pytest.raises(ValueError, match=r"float16.*Fix: .*float32, bfloat16"):
        machine.choose_precision()


def test_predict_seconds_keeps_the_work_constant():
    assert machine.predict_seconds(100.0, 20.0, 40.0) == pytest.approx(50.0)  # twice as fast: half the time
    assert machine.predict_seconds(30.0, 10.0, 5.0) == pytest.approx(60.0)
    with pytest.raises(ValueError, match="positive"):
        machine.predict_seconds(30.0, 10.0, 0.0)


def test_predict_seconds_defaults_to_this_machine(fake_machine):
    assert machine.predict_seconds(10.0, 50.0) == pytest.approx(5.0)  # the fake float32 rate is 100


def test_base_fingerprint_tells_float32_from_bfloat16():
    model = tiny_llama()
    with torch.no_grad():  # weights that bfloat16 holds exactly: only the dtype can tell the copies apart
        for param in model.parameters():
            param.copy_(param.to(torch.bfloat16).float())
    fp32 = base_fingerprint(model)
    assert base_fingerprint(copy.deepcopy(model)) == fp32  # same weights, same dtype: same fingerprint
    assert base_fingerprint(copy.deepcopy(model).to(torch.bfloat16)) != fp32


def test_bfloat16_choice_casts_the_generator(monkeypatch):
    from course_utils import models

    monkeypatch.setattr(models, "_load_bundled_cache", lambda: (tiny_llama(), _Tokenizer()))
    monkeypatch.setattr(models, "choose_precision", lambda: {"dtype": "bfloat16"})
    assert models.load_generator()[0].dtype == torch.bfloat16
    monkeypatch.setattr(models, "choose_precision", lambda: {"dtype": "float32"})
    assert models.load_generator()[0].dtype == torch.float32


class _Tokenizer:
    pad_token, eos_token, padding_side = None, "</s>", "right"


def test_run_course_records_the_machine_and_the_work(fake_machine, monkeypatch, tmp_path):
    from course_utils import run_course

    for name in ("00_a.ipynb", "01_b.ipynb"):
        (tmp_path / name).write_text("{}")
    monkeypatch.setattr(run_course, "NOTEBOOKS", tmp_path)
    monkeypatch.setattr(run_course, "BUILD", tmp_path / "build")
    monkeypatch.setattr(run_course, "SUMMARY", tmp_path / "build" / "summary.txt")
    monkeypatch.setattr(run_course, "TIMINGS", tmp_path / "build" / "timings.json")
    monkeypatch.setattr(run_course, "BUDGET", tmp_path / "budget.json")
    monkeypatch.setattr(run_course, "run_notebook", lambda path, out_dir: (12.0, 300.0))
    (tmp_path / "build").mkdir()
    assert run_course.main(["--record"]) == 0
    budget = json.loads((tmp_path / "budget.json").read_text())
    assert budget == json.loads((tmp_path / "build" / "timings.json").read_text())
    assert budget["machine_description"]["fp32_gflops"] == 100.0 and "cores" in budget["machine"]
    # The course ran in float32 (bfloat16 only when asked): its work is counted at the float32 rate.
    assert budget["precision"] == "float32" and budget["work_gflops"] == 100.0
    assert budget["work_gflop"] == {"00_a.ipynb": 1200, "01_b.ipynb": 1200}  # 12 s x 100 GFLOP/s
    assert budget["total_work_gflop"] == pytest.approx(budget["total_seconds"] * 100.0, abs=1)


def test_a_run_asked_to_use_bfloat16_counts_its_work_at_the_bfloat16_rate(fake_machine, monkeypatch, tmp_path):
    from course_utils import run_course

    monkeypatch.setenv(machine.PRECISION_ENV, "bfloat16")
    (tmp_path / "00_a.ipynb").write_text("{}")
    for name, value in {"NOTEBOOKS": tmp_path, "BUILD": tmp_path / "build", "SUMMARY": tmp_path / "s.txt",
                        "TIMINGS": tmp_path / "t.json", "BUDGET": tmp_path / "budget.json"}.items():
        monkeypatch.setattr(run_course, name, value)
    monkeypatch.setattr(run_course, "run_notebook", lambda path, out_dir: (12.0, 300.0))
    assert run_course.main(["--record"]) == 0
    budget = json.loads((tmp_path / "budget.json").read_text())
    assert budget["precision"] == "bfloat16" and budget["work_gflop"] == {"00_a.ipynb": 2400}  # 12 s x 200


def test_work_is_counted_in_the_precision_the_course_runs_in(fake_machine):
    rates = machine.describe()
    assert machine.working_gflops(rates, "bfloat16") == 200.0 and machine.working_gflops(rates, "float32") == 100.0
    choice = machine.choose_precision()  # float32 unless asked
    assert machine.working_gflops(choice, choice["dtype"]) == 100.0


def test_in_words_names_every_measured_figure(fake_machine):
    text = machine.in_words(machine.describe())
    for part in ("cores", "torch threads", "100 GFLOP/s float32", "200 GFLOP/s bfloat16 (native)", "10 GB/s"):
        assert part in text, part
    assert machine.in_words({}) == "machine not recorded"
