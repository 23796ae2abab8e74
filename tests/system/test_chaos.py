"""Chaos on the cluster: ten registry clients file and search while one OpenSearch node, one
worker and one web process are killed (SIGKILL) and started again; afterwards nothing is lost
and nothing is done twice.

Runs on the cluster `infra/cluster.sh` starts (CI's cluster leg: EDMS_TEST_CLUSTER_DIR names its
directory). Each client files one-page PDFs into a dossier of its own for EDMS_TEST_CHAOS_SECONDS
(default 120) and searches between uploads; half of them mark their requests `Edms-Lane: bulk`,
so both the main workers and the interactive worker have work when one is killed. A client that
gets no answer, a 5xx or "still being processed" (409) sends the same request again with the
same Idempotency-Key, as a registry system does, to either web process (a load balancer's
choice), until it has a real answer. Every document acknowledged with 201 must then be listed
in its dossier exactly once, processed exactly once (one `document.processed` event in the feed),
found by a search for its own word, and `edms search reconcile --dry-run` must find no drift.
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.cluster_support import CLUSTER_VARIABLE, Cluster
from tests.ingest_support import one_page_pdf
from tests.services import wait_until

CLUSTER = Cluster.from_environment()
pytestmark = pytest.mark.skipif(
    CLUSTER is None,
    reason=f"{CLUSTER_VARIABLE} names no cluster (infra/cluster.sh start --dir DIR)",
)

CLIENTS = 10
CHAOS_SECONDS = float(os.environ.get("EDMS_TEST_CHAOS_SECONDS", "120"))
PAUSE_S = 4.0  # between a client's filings: a busy registry (~2 a second), not a bulk import
RETRY_FOR_S = 180.0  # how long a request may go unanswered (kills overlapping) before it fails
SETTLE_TIMEOUT = 900.0  # after the clients stop: every filing processed and searchable
KILLED_NODE = 1  # the first address of OPENSEARCH_URL: clients' requests fail over
KILLED_WORKER = "worker1"
KILLED_WEB = "web1"
RETRY_STATUSES = {500, 502, 503, 504}


class RegistryClient(threading.Thread):
    """Files documents into its dossier until stopped, retrying like a registry system."""

    def __init__(self, cluster: Cluster, number: int, run: str, folder: Path):
        super().__init__(daemon=True, name=f"client{number}")
        self.cluster = cluster
        self.number = number
        self.run_token = run
        self.folder = folder
        self.dossier = f"BG/P/2025/{int(run[-3:], 16) * 100 + number:06d}"
        self.headers = {"Authorization": f"Bearer {cluster.api_key}"}
        if number % 2 == 0:
            self.headers["Edms-Lane"] = "bulk"
        self.acknowledged: dict[str, str] = {}  # document id -> the word only it holds
        self.errors: list[str] = []
        self.retries = 0
        self.searches = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        answer = self.send(
            "PUT",
            f"/api/v1/dossiers/{self.dossier}",
            json={"ip_type": "patent", "title": f"Chaos {self.run_token} client {self.number}"},
        )
        if answer is None or answer.status_code != 201:  # a dossier of this run's own
            self.fail("dossier", answer)
            return
        filed = 0
        while not self.stopping.is_set():
            word = f"{self.run_token}c{self.number}n{filed}"
            path = self.folder / f"{word}.pdf"
            one_page_pdf(path, f"Chaos filing {self.run_token} word {word}")
            content = path.read_bytes()
            answer = self.send(
                "POST",
                f"/api/v1/dossiers/{self.dossier}/documents",
                data={"type": "CLM"},
                files=lambda content=content, name=path.name: {
                    "file": (name, content, "application/pdf")
                },
            )
            if answer is None or answer.status_code != 201:
                self.fail(word, answer)
                return
            self.acknowledged[answer.json()["id"]] = word
            filed += 1
            answer = self.send("GET", "/api/v1/search", params={"q": self.run_token})
            if answer is None or answer.status_code != 200:
                self.fail(f"search after {word}", answer)
                return
            self.searches += 1
            self.stopping.wait(PAUSE_S)

    def send(
        self, method: str, path: str, *, files: Callable[[], dict] | None = None, **kwargs
    ) -> requests.Response | None:
        """The answer that is not a crash's: the same request again (same Idempotency-Key), to
        either web process, until then; None after RETRY_FOR_S."""
        headers = dict(self.headers)
        if method != "GET":
            headers["Idempotency-Key"] = str(uuid.uuid4())
        deadline = time.monotonic() + RETRY_FOR_S
        for attempt in range(10_000):
            url = self.cluster.web_urls[(self.number + attempt) % len(self.cluster.web_urls)]
            try:
                answer = requests.request(
                    method,
                    url + path,
                    headers=headers,
                    files=files() if files else None,
                    timeout=60,
                    **kwargs,
                )
                if not retry_worthy(answer):
                    return answer
                reason = f"{answer.status_code} {answer.text[:200]}"
            except requests.RequestException as exc:
                reason = repr(exc)
            self.retries += 1
            if time.monotonic() > deadline:
                self.errors.append(f"{method} {path}: failing after {RETRY_FOR_S} s: {reason}")
                return None
            time.sleep(min(0.2 * 2**attempt, 5.0) * random.uniform(0.5, 1.0))
        return None

    def fail(self, what: str, answer: requests.Response | None) -> None:
        if answer is not None:
            self.errors.append(f"{what}: {answer.status_code} {answer.text[:300]}")


def retry_worthy(answer: requests.Response) -> bool:
    if answer.status_code in RETRY_STATUSES:
        return True
    # The first attempt of this request is still running (or died mid-way): ask again later.
    return answer.status_code == 409 and "idempotency-conflict" in answer.text


# --- Reading the outcome through the API ----------------------------------------------------


def api_get(cluster: Cluster, path: str, **params) -> dict:
    answer = requests.get(
        cluster.web_urls[0] + path,
        params=params,
        headers={"Authorization": f"Bearer {cluster.api_key}"},
        timeout=60,
    )
    assert answer.status_code == 200, f"GET {path}: {answer.status_code} {answer.text[:300]}"
    return answer.json()


def listed(cluster: Cluster, dossier: str) -> list[str]:
    """Every document id of the dossier's file wrapper, page after page."""
    ids, page = [], 1
    while True:
        body = api_get(cluster, f"/api/v1/dossiers/{dossier}/documents", page=page, page_size=100)
        ids += [row["id"] for row in body["results"]]
        if not body.get("next"):
            return ids
        page += 1


class EventFeed:
    """The registry's view of what happened: the change feed, read from a cursor on."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.cursor = "0"
        self.events: list[dict] = []
        newest = api_get(cluster, "/api/v1/events", after="0", limit=1000)
        while newest["has_more"]:
            newest = api_get(cluster, "/api/v1/events", after=newest["next_cursor"], limit=1000)
        self.cursor = newest["next_cursor"]

    def read(self) -> list[dict]:
        while True:
            page = api_get(self.cluster, "/api/v1/events", after=self.cursor, limit=1000)
            self.events += page["events"]
            self.cursor = page["next_cursor"]
            if not page["has_more"]:
                return self.events

    def processed(self, ids: set[str]) -> Counter:
        """How many `document.processed` events each (document, version) of `ids` has."""
        return Counter(
            (event["document"], event["version"])
            for event in self.read()
            if event["kind"] == "document.processed" and event["document"] in ids
        )


def hits(cluster: Cluster, q: str) -> list[str]:
    body = api_get(cluster, "/api/v1/search", q=q, page_size=100)
    return [hit["document"] for hit in body["results"]]


def count(cluster: Cluster, q: str) -> int:
    return api_get(cluster, "/api/v1/search", q=q, page_size=1)["count"]


# --- The test --------------------------------------------------------------------------------


def sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


def test_filings_survive_killed_search_node_worker_and_web_process(tmp_path):
    cluster = CLUSTER
    run = uuid.uuid4().hex[:8]
    feed = EventFeed(cluster)
    clients = [RegistryClient(cluster, n, f"chaos{run}", tmp_path) for n in range(CLIENTS)]
    rejoining = None
    background = ThreadPoolExecutor(max_workers=1)
    started = time.monotonic()
    for client in clients:
        client.start()
    try:
        # Kill one of each, a while apart, while the clients file and search; then start them
        # again, the way the cluster started them.
        sleep_until(started + 0.15 * CHAOS_SECONDS)
        cluster.kill_search_node(KILLED_NODE)
        sleep_until(started + 0.30 * CHAOS_SECONDS)
        cluster.kill(KILLED_WORKER)
        sleep_until(started + 0.45 * CHAOS_SECONDS)
        cluster.kill(KILLED_WEB)
        sleep_until(started + 0.60 * CHAOS_SECONDS)
        # A node takes a while to rejoin (a JVM starting on a busy machine): meanwhile the
        # worker and the web process come back on time.
        rejoining = background.submit(cluster.start_search_node, KILLED_NODE)
        cluster.start(KILLED_WORKER)
        sleep_until(started + 0.70 * CHAOS_SECONDS)
        cluster.start(KILLED_WEB)
        sleep_until(started + CHAOS_SECONDS)
    finally:
        for client in clients:
            client.stopping.set()
        for client in clients:
            client.join(timeout=RETRY_FOR_S + 120)
        # Whatever happened, leave the cluster whole for the tests after this one.
        for name in (KILLED_WORKER, KILLED_WEB):
            if not cluster.running(name):
                cluster.start(name)
        if rejoining is None and not cluster.search_node_running(KILLED_NODE):
            cluster.start_search_node(KILLED_NODE)
        background.shutdown()  # waits for the node
        if rejoining is not None:
            rejoining.result()  # its failure to rejoin fails the test

    errors = [error for client in clients for error in client.errors]
    assert not errors, errors
    acknowledged = {doc: word for client in clients for doc, word in client.acknowledged.items()}
    assert acknowledged, "no filing was acknowledged"
    ids = set(acknowledged)
    print(
        f"{len(ids)} filings acknowledged, {sum(c.searches for c in clients)} searches, "
        f"{sum(c.retries for c in clients)} retries, in {time.monotonic() - started:.0f} s"
    )

    # Listed: each dossier holds exactly what its client was told it filed, each once.
    for client in clients:
        documents = listed(cluster, client.dossier)
        assert len(documents) == len(set(documents)), f"{client.dossier} lists a document twice"
        assert set(documents) == set(client.acknowledged), (
            f"{client.dossier}: lost {set(client.acknowledged) - set(documents)}, "
            f"extra {set(documents) - set(client.acknowledged)}"
        )

    # Processed: every version once, as the registry's event feed tells it.
    def explain() -> str:
        return "\n".join(cluster.log_tail(name) for name in ("worker1", "worker2", "interactive"))

    wait_until(
        lambda: len(feed.processed(ids)) == len(ids),
        timeout=SETTLE_TIMEOUT,
        interval=2.0,
        what=f"a document.processed event for each of the {len(ids)} filings",
        explain=lambda: f"{len(feed.processed(ids))} processed\n{explain()}",
    )
    processed = feed.processed(ids)
    assert set(processed) == {(doc, 1) for doc in ids}
    twice = {key: count for key, count in processed.items() if count > 1}
    assert not twice, f"processed more than once: {twice}"
    for doc in ids:
        processing = api_get(cluster, f"/api/v1/documents/{doc}")["versions"][0]["processing"]
        assert processing["state"] == "done", (doc, processing)
    [(done, attempts)] = cluster.query(
        "SELECT count(*), sum(p.attempts) FROM ingest_processing p "
        "JOIN dossier_version v ON v.id = p.version_id WHERE v.document_id = ANY(%s)",
        [list(ids)],
    )
    assert done == len(ids)
    # Extraction ran again only for what the killed worker was running (concurrency 1).
    assert attempts - done <= 1, f"{attempts - done} extractions ran again"

    # Searchable: the index has caught up, and each filing is found by its own word.
    wait_until(
        lambda: (
            count(cluster, f"chaos{run}") == len(ids)
            and '"events_behind": 0' in cluster.edms("search", "status").stdout
        ),
        timeout=SETTLE_TIMEOUT,
        interval=2.0,
        what="the index to catch up with the outbox",
        explain=lambda: cluster.edms("search", "status").stdout + cluster.log_tail("index"),
    )
    for doc, word in acknowledged.items():
        assert hits(cluster, word) == [doc], f"a search for {word} does not find {doc} alone"

    # No drift between the database and the index.
    report = cluster.edms("search", "reconcile", "--dry-run")
    assert report.returncode == 0, report.stderr
    assert "found: 0 missing, 0 stale, 0 extra" in report.stdout, report.stdout
