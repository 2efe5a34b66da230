from pathlib import Path

from course_utils import config


def test_defaults_are_the_bundled_models(monkeypatch):
    for var in ("COURSE_GENERATOR", "COURSE_EMBEDDER", "COURSE_CACHE_DIR"):
        monkeypatch.delenv(var, raising=False)
    cfg = config.get_config()
    assert cfg.generator == config.BUNDLED_GENERATOR
    assert cfg.embedder == config.BUNDLED_EMBEDDER
    assert cfg.uses_bundled_models
    assert cfg.cache_dir == config.REPO_ROOT / ".cache"


def test_default_cache_dir_is_git_ignored():
    ignored = (config.REPO_ROOT / ".gitignore").read_text().split()
    assert ".cache/" in ignored


def test_environment_variables_override(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_GENERATOR", "org/some-model")
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    cfg = config.get_config()
    assert cfg.generator == "org/some-model"
    assert cfg.cache_dir == Path(tmp_path).resolve()
    assert not cfg.uses_bundled_models


def test_show_config_prints_every_setting_and_how_to_change_it(capsys, monkeypatch):
    monkeypatch.setenv("COURSE_EMBEDDER", "org/embedder")
    config.show_config()
    out = capsys.readouterr().out
    for text in ("org/embedder", "COURSE_GENERATOR", "COURSE_EMBEDDER", "COURSE_CACHE_DIR", str(config.SEED)):
        assert text in out


def test_set_seed_makes_random_draws_repeat():
    import numpy as np
    import torch

    config.set_seed()
    first = (np.random.rand(), torch.rand(1).item())
    config.set_seed()
    assert (np.random.rand(), torch.rand(1).item()) == first


def test_environment_report_finds_the_models():
    from course_utils.models import environment_report

    rows = {name: (found, ok) for name, found, ok in environment_report()}
    assert rows["generator file"][1] and rows["embedder file"][1]
    assert rows["torch"][0].startswith("2.13.0")
