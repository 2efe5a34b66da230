"""Shared test set-up: a guard against network use, and shared fixtures.

The course promises that its default path never touches the network. The
guard below makes any test that opens a non-loopback connection fail, with
the address in the message, so a stray download cannot hide behind a cache.
"""
from __future__ import annotations

import ipaddress
import os
import socket

import pytest


class NetworkUsed(AssertionError):
    pass


def _is_local(address) -> bool:
    if isinstance(address, (str, bytes)):  # a Unix socket path
        return True
    host = address[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def guarded(real):
        def connect(self, address):
            if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address):
                raise NetworkUsed(f"test tried to open a network connection to {address!r}")
            return real(self, address)
        return connect

    monkeypatch.setattr(socket.socket, "connect", guarded(real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guarded(real_connect_ex))


@pytest.fixture(scope="session")
def generator():
    """The default generator, loaded once for the whole session: (model, tokenizer)."""
    from course_utils.models import load_generator

    return load_generator()


@pytest.fixture(scope="session")
def tokenizer():
    """The course's tokenizer without its model, padding on the left as generation needs."""
    from transformers import AutoTokenizer

    from course_utils.models import prepare_generator

    tok = AutoTokenizer.from_pretrained(prepare_generator())
    tok.padding_side = "left"
    return tok


@pytest.fixture(scope="session")
def embedder():
    from course_utils.models import load_embedder

    return load_embedder()

# Unit tests compare logits exactly and share cached fp32 answers: they run in float32 on every CPU.
# Set here, it also reaches the notebook kernels nbval starts; `make course` uses the measured choice.
os.environ.setdefault("COURSE_PRECISION", "float32")

# Executing all seven notebooks on every fact takes most of an hour on two cores; as a test that the course runs,
# they run on 14 facts (config.FACTS_ENV). Set once collection is over (test modules that load data at import see
# every fact), it reaches the notebook kernels nbval starts and the lab of the browser test. The unit tests see
# every fact, as they were written for: see ``every_fact``.
#
# nbval waits only 5 s for a cell's outputs once the kernel has replied, then stops the kernel and fails every later
# cell of the notebook as "timed out". The knob search of notebook 04 prints thousands of progress updates, and on a
# loaded 2-core machine they once took longer than that to arrive after its reply. A minute keeps the check (a
# kernel that stops sending still fails) without failing a cell whose outputs are merely late.
NBVAL_OUTPUT_TIMEOUT = 60


def pytest_collection_finish(session):
    os.environ.setdefault("COURSE_FACTS", "14")
    for item in session.items:
        if hasattr(item, "output_timeout"):  # nbval's cells
            item.output_timeout = NBVAL_OUTPUT_TIMEOUT


RUN_LIKE_THE_NOTEBOOKS = {"test_browser.py"}  # tests that drive the notebooks themselves


@pytest.fixture(autouse=True)
def every_fact(request, monkeypatch):
    if request.path.name not in RUN_LIKE_THE_NOTEBOOKS:
        monkeypatch.delenv("COURSE_FACTS", raising=False)

