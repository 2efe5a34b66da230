"""Binder will build what we think it builds: the files it reads, the badge, the post-build step.

Binder (repo2docker) cannot run here, so this checks what it would read, the
way it reads it: a ``binder/`` or ``.binder/`` folder would hide the root
files; ``environment.yml`` picks the conda build; ``postBuild`` must be an
executable script that only uses files in the repository.
"""
import os
import re
import shlex
from urllib.parse import parse_qs, urlparse

import yaml

from course_utils.config import REPO_ROOT

ENV = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())


def test_no_binder_folder_hides_the_root_configuration():
    for folder in ("binder", ".binder"):
        assert not (REPO_ROOT / folder).exists(), f"{folder}/ would make Binder ignore environment.yml and postBuild"


def test_environment_is_conda_forge_only_with_python_pip_and_cpu_torch():
    assert ENV["channels"] == ["conda-forge"]  # the defaults channel has licence terms and other builds
    deps = [d for d in ENV["dependencies"] if isinstance(d, str)]
    assert "python=3.11" in deps and "pip" in deps
    assert any(re.fullmatch(r"pytorch=[\d.]+=cpu_\*", d) for d in deps), "PyTorch must be the CPU build"
    pip = next(d["pip"] for d in ENV["dependencies"] if isinstance(d, dict))
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[A-Za-z0-9_.+!-]+", line) for line in pip), "every pip line is pinned"
    names = {line.split("==")[0].lower() for line in pip}
    assert {"jupyterlab", "ipywidgets", "llama-index-core", "transformers", "peft"} <= names
    assert "torch" not in names, "a pip torch would pull the CUDA build on top of conda's CPU one"


def test_post_build_is_an_executable_script_that_prepares_the_models():
    post_build = REPO_ROOT / "postBuild"
    text = post_build.read_text()
    assert text.startswith("#!/bin/bash") and os.access(post_build, os.X_OK)
    assert "set -e" in text  # a failing step must fail the Binder build, not give a broken image
    commands = [shlex.split(line.split("#")[0]) for line in text.splitlines()[1:] if line.split("#")[0].strip()]
    for words in commands:
        for i, word in enumerate(words):
            if word == "-r":  # every requirements file it names is in the repository
                assert (REPO_ROOT / words[i + 1]).is_file(), words[i + 1]
    assert ["python", "-m", "course_utils.models"] in commands  # the first notebook opens with the model ready


def test_badge_opens_the_welcome_notebook_in_jupyterlab():
    readme = (REPO_ROOT / "README.md").read_text()
    badge = re.search(r"\]\((https://mybinder\.org/v2/gh/[^)]+)\)", readme)
    assert badge, "the README has no Binder badge"
    url = urlparse(badge[1])
    owner, repo, ref = url.path.split("/")[3:6]
    assert owner and repo and ref == "main"
    target = parse_qs(url.query)["urlpath"][0]
    assert target.startswith("lab/tree/")
    assert (REPO_ROOT / target.removeprefix("lab/tree/")).is_file(), f"the badge opens {target}, which does not exist"
