"""The course's scripts (scripts/*.py) loaded as modules for tests, without running them."""
from __future__ import annotations

import importlib.util

from course_utils.config import REPO_ROOT


def load_script(name: str):
    """scripts/<name>.py as a fresh module: its main() can then be called with arguments."""
    spec = importlib.util.spec_from_file_location(f"{name}_under_test", REPO_ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
