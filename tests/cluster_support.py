"""The cluster `infra/cluster.sh` runs (CI's cluster leg), as tests see it: its web processes'
URLs, a registry system's API key, the environment its processes share, and its processes
killed and started again the way the script does it.

Tests get it from EDMS_TEST_CLUSTER_DIR (the script's `--dir`) and skip without it.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.launcher_support import EDMS, embedded_env

CLUSTER_VARIABLE = "EDMS_TEST_CLUSTER_DIR"
INFRA = Path(__file__).resolve().parent.parent / "infra"
COMMAND_TIMEOUT = 360  # an OpenSearch node rejoining its cluster on a busy machine


def read_env_file(path: Path) -> dict[str, str]:
    """NAME=value lines (what `infra/cluster.sh start` writes to cluster.env)."""
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {name.strip(): value.strip() for name, value in pairs}


@dataclass(frozen=True)
class Cluster:
    dir: Path
    env: dict[str, str]
    web_urls: list[str]
    api_key: str

    @classmethod
    def from_environment(cls) -> Cluster | None:
        """The cluster EDMS_TEST_CLUSTER_DIR names, or None when it names none."""
        if not os.environ.get(CLUSTER_VARIABLE):
            return None
        folder = Path(os.environ[CLUSTER_VARIABLE]).resolve()
        return cls(
            dir=folder,
            env=read_env_file(folder / "cluster.env"),
            web_urls=(folder / "web-urls").read_text().split(),
            api_key=(folder / "api-key").read_text().strip(),
        )

    # --- Its processes -----------------------------------------------------------------

    def _script(self, *args: str) -> str:
        done = subprocess.run(
            args, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False
        )
        assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def kill(self, name: str) -> None:
        """SIGKILL one edms process (web1, worker1, ...) with its children."""
        self._script(str(INFRA / "cluster.sh"), "kill", name, "--dir", str(self.dir))

    def start(self, name: str) -> None:
        self._script(str(INFRA / "cluster.sh"), "start", name, "--dir", str(self.dir))

    def running(self, name: str) -> bool:
        pid_file = self.dir / name / "pid"
        try:
            os.kill(int(pid_file.read_text()), 0)
        except (OSError, ValueError):
            return False
        return True

    def kill_search_node(self, number: int) -> None:
        self._script(
            str(INFRA / "opensearch.sh"), "kill-node", str(number), "--dir", self.search_dir
        )

    def start_search_node(self, number: int) -> None:
        """Start the node again; returns once the cluster has all its nodes."""
        self._script(
            str(INFRA / "opensearch.sh"), "start-node", str(number), "--dir", self.search_dir
        )

    def search_node_running(self, number: int) -> bool:
        return (Path(self.search_dir) / f"node{number}" / "pid").exists()

    @property
    def search_dir(self) -> str:
        return str(self.dir / "opensearch")

    def log_tail(self, name: str, lines: int = 30) -> str:
        try:
            text = (self.dir / name / "log").read_text(errors="replace")
        except OSError:
            return f"({name}: no log)"
        return f"--- {name}:\n" + "\n".join(text.splitlines()[-lines:])

    # --- Operating it ------------------------------------------------------------------

    def edms(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        """An `edms` command on the cluster, as an operator runs it on one of its machines."""
        env = embedded_env(self.dir / "machine1") | self.env
        return subprocess.run(
            [EDMS, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
        )

    def query(self, sql: str, params: list | tuple = ()) -> list[tuple]:
        """Read the cluster's database directly (what no API shows: processing attempts)."""
        with psycopg.connect(self.env["DATABASE_URL"]) as connection:
            return connection.execute(sql, params).fetchall()
