"""Binder will build what we think it builds: the files it reads, the badge, the post-build step.

Binder (repo2docker) cannot run here, so this checks what it would read, the
way it reads it: a ``binder/`` or ``.binder/`` folder would hide the root
files; ``environment.yml`` picks the conda build; ``postBuild`` must be an
executable script that only uses files in the repository. The repository the
badge launches is set once, in pyproject.toml's ``[tool.course]``. The lab's
settings (lab-settings/overrides.json: no news prompt, no update check, no
extension manager) reach both ``make lab`` and Binder.
"""
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import jsonschema
import pytest
import yaml

from course_utils.config import REPO_ROOT

ENV = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
LAB_SETTINGS = REPO_ROOT / "lab-settings"
BADGE = re.compile(r"\]\((https://mybinder\.org/v2/gh/[^)]+)\)")


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
    badge = BADGE.search(readme)
    assert badge, "the README has no Binder badge"
    url = urlparse(badge[1])
    owner, repo, ref = url.path.split("/")[3:6]
    assert owner and repo and ref == "main"
    target = parse_qs(url.query)["urlpath"][0]
    assert target.startswith("lab/tree/")
    assert (REPO_ROOT / target.removeprefix("lab/tree/")).is_file(), f"the badge opens {target}, which does not exist"


# ------------------------------------------------------------------------------- the repository Binder launches

# A GitHub repository named in a file: a link, a clone or pip URL, or a Binder launch link.
REPOSITORY_IN_TEXT = re.compile(
    r"(?:github\.com[/:]|mybinder\.org/v2/gh/)([A-Za-z0-9-]+/[A-Za-z0-9._-]+?)(?:\.git)?(?=[/@#?\s)\"']|$)")
BINDER_FILES = ("README.md", "environment.yml", "postBuild", "lab-settings/install")


def binder_repository() -> str:
    """The one place the launched repository is set: pyproject.toml, [tool.course] binder-repository."""
    course = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text()).get("tool", {}).get("course", {})
    repository = course.get("binder-repository", "")
    assert re.fullmatch(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+", repository), (
        f"binder-repository is {repository!r}. Fix: set binder-repository = \"owner/name\" under [tool.course] "
        "in pyproject.toml")
    return repository


def repositories_named(text: str, binder_links_only: bool = False) -> set[str]:
    found = REPOSITORY_IN_TEXT.findall(text)
    return {r for r in found if not binder_links_only or f"mybinder.org/v2/gh/{r}/" in text}


def test_badge_launches_the_repository_set_in_pyproject():
    readme = (REPO_ROOT / "README.md").read_text()
    badges = BADGE.findall(readme)
    assert len(badges) == 1, f"the README has {len(badges)} Binder badges: keep exactly one"
    wanted, shown = binder_repository(), "/".join(urlparse(badges[0]).path.split("/")[3:5])
    line = next(line for line in readme.splitlines() if badges[0] in line)
    assert shown == wanted, (f"the badge launches {shown}, pyproject.toml names {wanted}. Fix: make the badge line\n"
                             + line.replace(f"/gh/{shown}/", f"/gh/{wanted}/"))


def test_binder_files_name_no_other_repository():
    # What Binder reads must build this repository: a clone or a pip install from another one would not be it.
    # The README may link other projects; only its Binder links must launch this one.
    wanted = binder_repository()
    for name in BINDER_FILES:
        named = repositories_named((REPO_ROOT / name).read_text(), binder_links_only=name == "README.md")
        assert named <= {wanted}, (f"{name} names {sorted(named - {wanted})}. Fix: use {wanted}, the repository "
                                   "set in pyproject.toml ([tool.course] binder-repository), or set that to it")


def test_a_stray_repository_would_be_found():
    assert repositories_named("git clone https://github.com/someone/fork.git\n") == {"someone/fork"}
    assert repositories_named("pip install git+https://github.com/a-b/c.d@main") == {"a-b/c.d"}
    readme = "[x](https://mybinder.org/v2/gh/a-b/c.d/main?urlpath=lab) and https://github.com/huggingface/peft"
    assert repositories_named(readme, binder_links_only=True) == {"a-b/c.d"}


# ------------------------------------------------------------------------------- the lab's settings

def lab_overrides() -> dict:
    return json.loads((LAB_SETTINGS / "overrides.json").read_text())


def test_lab_settings_turn_off_the_news_the_update_check_and_the_extension_manager():
    overrides = lab_overrides()
    notification = overrides["@jupyterlab/apputils-extension:notification"]
    assert notification["fetchNews"] == "false"  # "none" (the default) asks the learner; "false" never asks or fetches
    assert notification["checkForUpdates"] is False
    assert overrides["@jupyterlab/extensionmanager-extension:plugin"]["enabled"] is False  # it searches PyPI


def test_lab_settings_fit_the_installed_jupyterlab():
    # A plugin or setting renamed by a JupyterLab upgrade would be ignored without a word: check against its schemas.
    from jupyterlab.commands import get_app_dir

    for plugin, values in lab_overrides().items():
        package, name = plugin.split(":")
        schema_file = Path(get_app_dir()) / "schemas" / package / f"{name}.json"
        assert schema_file.is_file(), f"JupyterLab has no plugin {plugin}. Fix: rename it in lab-settings/overrides.json"
        try:
            jsonschema.validate(values, json.loads(schema_file.read_text()))
        except jsonschema.ValidationError as err:
            pytest.fail(f"lab-settings/overrides.json, {plugin}: {err.message}. Fix: use the names and values of "
                        f"{schema_file.relative_to(get_app_dir())}")


def test_make_lab_reads_the_lab_settings():
    makefile = (REPO_ROOT / "Makefile").read_text()
    recipe = makefile[makefile.index("\nlab:"):].split("\n\n")[0]
    assert "--LabApp.app_settings_dir=$(CURDIR)/lab-settings" in recipe


def test_post_build_installs_the_lab_settings():
    text = (REPO_ROOT / "postBuild").read_text()
    commands = [shlex.split(line.split("#")[0]) for line in text.splitlines()[1:] if line.split("#")[0].strip()]
    assert ["lab-settings/install"] in commands
    assert os.access(LAB_SETTINGS / "install", os.X_OK)


def run_install(app_dir: Path) -> subprocess.CompletedProcess:
    # JUPYTERLAB_DIR moves JupyterLab's application folder, as Binder's environment places it.
    env = dict(os.environ, JUPYTERLAB_DIR=str(app_dir),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run([str(LAB_SETTINGS / "install")], env=env, capture_output=True, text=True, timeout=60)


def test_install_puts_the_settings_where_jupyterlab_reads_them_and_keeps_other_settings(tmp_path):
    installed = tmp_path / "settings" / "overrides.json"
    done = run_install(tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(installed.read_text()) == lab_overrides()
    installed.write_text('{"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}')
    refused = run_install(tmp_path)
    assert refused.returncode != 0 and "Fix:" in refused.stderr
    assert "Dark" in installed.read_text()  # an administrator's own settings are not overwritten
