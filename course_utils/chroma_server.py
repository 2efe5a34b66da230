"""Chroma's server on this machine: started, checked and stopped by the course (taught in 07 §6).

It listens on 127.0.0.1 only and keeps its data under the course cache dir;
telemetry is off. ``course_utils.vectordb`` writes to it and reads from it.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .config import get_config

HOST = "127.0.0.1"  # never 0.0.0.0: the database has no authentication
DEFAULT_PORT = 8765
NO_TELEMETRY = {"ANONYMIZED_TELEMETRY": "False"}


class VectorDBUnavailable(RuntimeError):
    """No Chroma server answers where the course expects one."""


def chroma_port() -> int:
    return int(os.environ.get("COURSE_CHROMA_PORT") or DEFAULT_PORT)


def chroma_dir() -> Path:
    """The server's folder: its data (data/), log and pid file."""
    return get_config().cache_dir / "chroma"


@dataclass
class Server:
    port: int
    folder: Path
    pid: int
    host: str = HOST

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def is_healthy(port: int, host: str = HOST) -> bool:
    """Does a Chroma server answer its heartbeat at host:port? (taught in 07 §6)"""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/api/v2/heartbeat", timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


def _chroma_command() -> str:
    beside = Path(sys.executable).parent / "chroma"  # the one installed with this Python's chromadb
    found = str(beside) if beside.exists() else shutil.which("chroma")
    if not found:
        raise VectorDBUnavailable("The `chroma` command is not installed. Fix: `make setup` "
                                  "(or `pip install chromadb==1.5.9`).")
    return found


def start_server(port: int | None = None, folder: Path | None = None, timeout: float = 180) -> Server:
    """Start Chroma on 127.0.0.1:``port`` with its data in ``folder``, and wait until it answers (taught in 07 §6)."""
    port, folder = port or chroma_port(), Path(folder or chroma_dir())
    if is_healthy(port):
        raise VectorDBUnavailable(f"Something already answers on port {port}. Fix: `make vectordb-stop`, "
                                  "or choose another port with COURSE_CHROMA_PORT.")
    folder.mkdir(parents=True, exist_ok=True)
    log = open(folder / "server.log", "ab")
    process = subprocess.Popen(  # its own session: a Ctrl-C in the notebook does not reach it
        [_chroma_command(), "run", "--host", HOST, "--port", str(port), "--path", str(folder / "data")],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **NO_TELEMETRY}, start_new_session=True)
    (folder / "server.pid").write_text(f"{process.pid} {port}\n")
    deadline = time.monotonic() + timeout
    while not is_healthy(port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise VectorDBUnavailable(f"Chroma did not start on port {port} (see {folder / 'server.log'}). "
                                      "Fix: free the port or pick another with COURSE_CHROMA_PORT.")
        time.sleep(0.25)
    return Server(port, folder, process.pid)


def _is_chroma(pid: int) -> bool:
    """Is ``pid`` still our server? (A pid file can outlive its process, and pids are reused.)"""
    try:
        return b"chroma" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def stop_server(folder: Path | None = None, timeout: float = 20) -> bool:
    """Stop the server whose pid file is in ``folder``: SIGTERM, then SIGKILL. False if none was running."""
    pid_file = Path(folder or chroma_dir()) / "server.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().split()[0])
    running = _is_chroma(pid)
    if running:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _is_chroma(pid) and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.2)
        if _is_chroma(pid):
            os.kill(pid, signal.SIGKILL)
    _reap(pid)
    pid_file.unlink(missing_ok=True)
    return running


def _reap(pid: int) -> None:
    """Collect the exit status if we started it, so it does not linger as a zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
