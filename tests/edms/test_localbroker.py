"""The embedded default's private Redis (edms.localbroker): private, durable, and whole.

Each test starts a broker of its own in a temporary data directory (not the session's).
"""

from __future__ import annotations

import multiprocessing
import signal

import psutil
import pytest
from kombu import Connection

from edms.localbroker import BrokerError, LocalBroker, broker_url

PRODUCERS = 4
MESSAGES_EACH = 100


@pytest.fixture
def broker(tmp_path):
    broker = LocalBroker.for_data_dir(tmp_path, log_path=tmp_path / "redis.log")
    broker.start()
    yield broker
    broker.stop()


def _produce(url: str, producer: int) -> None:
    with Connection(url) as connection:
        queue = connection.SimpleQueue("race")
        for n in range(MESSAGES_EACH):
            # Large enough that a non-atomic write could be seen half-done.
            queue.put({"producer": producer, "n": n, "padding": "x" * 20_000})
        queue.close()


def _consume(url: str, total: int, results) -> None:
    with Connection(url) as connection:
        queue = connection.SimpleQueue("race")
        for _ in range(total):
            message = queue.get(timeout=60)
            payload = message.payload  # raises on a half-written message
            results.put((payload["producer"], payload["n"], len(payload["padding"])))
            message.ack()
        queue.close()


def test_every_message_arrives_once_and_whole_under_concurrency(broker):
    """Producers and consumers in processes of their own, as web server and workers are."""
    url = broker_url(broker.socket)
    total = PRODUCERS * MESSAGES_EACH
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    consumers = [
        context.Process(target=_consume, args=(url, total // 2, results)) for _ in range(2)
    ]
    producers = [context.Process(target=_produce, args=(url, p)) for p in range(PRODUCERS)]
    for process in consumers + producers:
        process.start()
    received = [results.get(timeout=120) for _ in range(total)]
    for process in consumers + producers:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert sorted(received) == sorted(
        (p, n, 20_000) for p in range(PRODUCERS) for n in range(MESSAGES_EACH)
    )


def test_a_message_outlives_a_killed_broker(broker):
    url = broker_url(broker.socket)
    with Connection(url) as connection:
        queue = connection.SimpleQueue("durable")
        queue.put({"case": "BG/P/2024/1"})
        queue.close()

    broker.process.send_signal(signal.SIGKILL)  # no shutdown: only what the AOF holds survives
    broker.process.wait()
    broker.start()

    with Connection(url) as connection:
        queue = connection.SimpleQueue("durable")
        assert queue.get(timeout=5).payload == {"case": "BG/P/2024/1"}
        queue.close()
    assert (broker.data_dir / "appendonlydir").is_dir()


def test_it_listens_on_its_socket_only(broker):
    connections = psutil.Process(broker.process.pid).net_connections(kind="inet")
    assert not [c for c in connections if c.status == psutil.CONN_LISTEN]
    assert broker.socket.is_socket()
    assert broker.socket.parent.stat().st_mode & 0o077 == 0  # only edms's user reaches it


def test_a_second_broker_on_the_same_data_directory_is_refused(broker, tmp_path):
    with pytest.raises(BrokerError, match="another `edms run`"):
        LocalBroker.for_data_dir(tmp_path).start()
    assert broker.answers()


def test_a_missing_redis_server_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BrokerError, match="apt-get install redis-server"):
        LocalBroker.for_data_dir(tmp_path).start()


def test_a_socket_path_too_long_for_unix_is_refused(tmp_path):
    deep = tmp_path / ("d" * 100)
    with pytest.raises(BrokerError, match="shorter EDMS_DATA_DIR"):
        LocalBroker.for_data_dir(deep).start()
