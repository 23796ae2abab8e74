"""The production engines the benchmarks measure beside the embedded ones, started for one run.

`opensearch_node` starts a real OpenSearch node (infra/opensearch.sh) and `tika_server` a Tika
server (infra/tika-server.sh), each on free loopback ports with its state in a directory of the
run's own, and stops it when the run ends, however it ends.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

INFRA = Path(__file__).resolve().parents[2] / "infra"


@dataclass(frozen=True)
class Service:
    url: str
    pid: int | None = None  # the server's process when this run started it

    def rss(self) -> int:
        """RSS of the server with its children (the Tika server's forked parsing JVM); 0 when
        the server is not this run's."""
        if self.pid is None:
            return 0
        try:
            root = psutil.Process(self.pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.Error:
            return 0
        total = 0
        for process in processes:
            try:
                total += process.memory_info().rss
            except psutil.Error:
                pass
        return total


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(*, also: int = 0) -> int:
    """A free loopback port; with `also`, one whose port + `also` is free too (OpenSearch's
    transport port is its HTTP port + 100)."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if not also or (port + also < 65536 and _free(port + also)):
            return port


def _pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


@contextmanager
def opensearch_node(directory: Path, *, heap: str = "1g") -> Iterator[Service]:
    """One OpenSearch node (HTTP and transport on free ports), stopped afterwards."""
    port = free_port(also=100)
    script = str(INFRA / "opensearch.sh")
    try:
        subprocess.run(
            [script, "start", "--nodes", "1", "--port", str(port), "--dir", str(directory)],
            check=True,
            env={**os.environ, "OPENSEARCH_HEAP": heap},
        )
        yield Service(f"http://127.0.0.1:{port}", _pid(directory / "node1" / "pid"))
    finally:
        subprocess.run([script, "stop", "--dir", str(directory)], check=False)


@contextmanager
def tika_server(directory: Path) -> Iterator[Service]:
    """A Tika server (its parsing JVM forked by it), stopped afterwards."""
    script = str(INFRA / "tika-server.sh")
    try:
        started = subprocess.run(
            [script, "start", str(directory)], check=True, stdout=subprocess.PIPE, text=True
        )
        url = started.stdout.strip().splitlines()[-1]
        print(f"Tika server at {url}")
        yield Service(url, _pid(directory / "pid"))
    finally:
        subprocess.run([script, "stop", str(directory)], check=False)
