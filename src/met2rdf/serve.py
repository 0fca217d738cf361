"""Serve the store as a read-only SPARQL 1.1 Protocol endpoint with the Oxigraph server.

The server (``oxigraph serve-read-only``, from the ``oxigraph`` package) reads a snapshot
of the store taken when it starts, so a build may rewrite the store meanwhile; restart
the server to see the new graph.  Queries see the union of all named graphs.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import StoreError
from .store import open_store

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7878


def find_oxigraph() -> str:
    """Return the path of the ``oxigraph`` server executable."""
    beside = Path(sys.executable).parent / "oxigraph"
    found = str(beside) if beside.is_file() else shutil.which("oxigraph")
    if found is None:
        raise StoreError("the oxigraph server is not installed; "
                         "install it with: pip install 'met2rdf[serve]'")
    return found


def serve_command(location: Path, host: str, port: int, timeout: float) -> list[str]:
    """Return the command line of a read-only Oxigraph server on a store folder."""
    return [find_oxigraph(), "serve-read-only", "--location", str(location),
            "--bind", f"{host}:{port}", "--union-default-graph",
            "--timeout-s", str(max(1, round(timeout)))]


@contextmanager
def serve_store(store: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                timeout: float = 30.0, wait: float = 15.0) -> Iterator[subprocess.Popen[bytes]]:
    """Run a read-only SPARQL server on a snapshot of the store until the block ends."""
    if _listening(host, port):
        raise StoreError(f"{host}:{port}: something already listens there; use another --port")
    with tempfile.TemporaryDirectory(prefix="met2rdf-serve-") as tmp:
        snapshot = Path(tmp) / "store"
        source = open_store(store)
        try:
            source.backup(str(snapshot))
        finally:
            del source  # closes the store and frees its lock
        log = Path(tmp) / "server.log"
        with log.open("wb") as output:
            process = subprocess.Popen(serve_command(snapshot, host, port, timeout),
                                       stdout=output, stderr=subprocess.STDOUT)
        try:
            _wait_until_listening(process, host, port, wait, log)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_listening(process: subprocess.Popen[bytes], host: str, port: int,
                          wait: float, log: Path) -> None:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            said = log.read_text(errors="replace").strip().splitlines()
            raise StoreError(f"{host}:{port}: the server stopped at once: "
                             f"{said[-1] if said else f'exit code {process.returncode}'}")
        if _listening(host, port):
            return
        time.sleep(0.1)
    raise StoreError(f"{host}:{port}: the server did not start listening within {wait:.0f} s")


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False
