"""The Elasticsearch engine, for offices that outgrow one machine (Elasticsearch 8 and 9).

Mappings, the index template and queries come from `search.backends.querydsl`, shared with the
OpenSearch engine. Indexes are versioned — `<prefix>-<generation>` — behind the alias `<prefix>`,
which searches and the indexer use; a full reindex fills a new index and `activate` moves the
alias in one atomic `update_aliases` call, so searches never see a half-built index. The template
(`<prefix>-*`) carries the analyzers and mappings, so every new generation gets them. Writes go
through `helpers.streaming_bulk`, from the single `index` queue consumer like the embedded
engine's.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator

from elasticsearch import Elasticsearch, NotFoundError, helpers
from elasticsearch import exceptions as es_exceptions

from search.backends.base import (
    IndexDocument,
    IndexOutdated,
    SearchBackend,
    SearchRequest,
    SearchResult,
    SearchUnavailable,
)
from search.backends.querydsl import (
    bulk_actions,
    mapping_outdated,
    search_body,
    search_result,
    template_body,
)

# --- The engine -------------------------------------------------------------------------------


class Backend(SearchBackend):
    name = "elasticsearch"

    def __init__(
        self,
        *,
        hosts: str | list[str],
        index_prefix: str = "edms-documents",
        api_key: str | None = None,
        username: str | None = None,
        password: str | None = None,
        ca_certs: str | None = None,
        verify_certs: bool = True,
        request_timeout: float = 30.0,
        shards: int = 1,
        replicas: int = 1,
        refresh: bool = False,
        max_text_chars: int = 1_000_000,
    ):
        self.alias = index_prefix
        self.shards, self.replicas = shards, replicas
        self.refresh = refresh
        self.max_text_chars = max_text_chars
        self._current_targets: list[str] | None = None  # the indexes `outdated` found current
        auth = {}
        if api_key:
            auth["api_key"] = api_key
        elif username:
            auth["basic_auth"] = (username, password or "")
        self.client = Elasticsearch(
            hosts if isinstance(hosts, list) else [h.strip() for h in hosts.split(",")],
            ca_certs=ca_certs,
            verify_certs=verify_certs,
            request_timeout=request_timeout,
            **auth,
        )

    def _call(self, operation, *args, **kwargs):
        try:
            return operation(*args, **kwargs)
        except (es_exceptions.ConnectionError, es_exceptions.ConnectionTimeout) as exc:
            raise SearchUnavailable(f"Elasticsearch is unreachable: {exc}") from exc

    def check_ready(self, timeout: float) -> None:
        """The cluster answers its health call in time and is not red (yellow is fine: a node
        of several is down, or a single node keeps no replica, and every shard still answers)."""
        health = self._call(self.client.options(request_timeout=timeout).cluster.health)
        if health["status"] == "red":
            raise SearchUnavailable(
                "the Elasticsearch cluster is red: a primary shard is unassigned"
            )

    # --- Generations ----------------------------------------------------------------------

    def outdated(self) -> bool:
        targets = self._call(self._targets)
        if not targets or targets == self._current_targets:
            return False  # asked before every sync: an index found current is not asked again
        if mapping_outdated(self._call(self.client.indices.get_mapping, index=self.alias).body):
            return True
        self._current_targets = targets
        return False

    def _ensure_template(self) -> None:
        body = template_body(self.alias, shards=self.shards, replicas=self.replicas)
        self._call(self.client.indices.put_index_template, name=self.alias, **body)

    def create_generation(self) -> str:
        self._ensure_template()
        generation = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S-") + uuid.uuid4().hex[:6]
        self._call(self.client.indices.create, index=f"{self.alias}-{generation}")
        return generation

    def _index_name(self, generation: str | None) -> str:
        return f"{self.alias}-{generation}" if generation else self.alias

    def activate(self, generation: str) -> None:
        target = f"{self.alias}-{generation}"
        current = self._targets()
        actions = [{"remove": {"index": name, "alias": self.alias}} for name in current]
        actions.append({"add": {"index": target, "alias": self.alias, "is_write_index": True}})
        self._call(self.client.indices.update_aliases, actions=actions)
        for name in current:
            if name != target:
                self._call(self.client.indices.delete, index=name, ignore_unavailable=True)

    def _targets(self) -> list[str]:
        try:
            return sorted(self.client.indices.get_alias(name=self.alias).body)
        except NotFoundError:
            return []

    def active_generation(self) -> str | None:
        targets = self._call(self._targets)
        return targets[0].removeprefix(f"{self.alias}-") if targets else None

    def drop_all(self) -> None:
        """Remove every generation and the template (tests, decommissioning)."""
        self._call(self.client.indices.delete, index=f"{self.alias}-*", ignore_unavailable=True)
        try:
            self.client.indices.delete_index_template(name=self.alias)
        except NotFoundError:
            pass

    # --- Writing --------------------------------------------------------------------------

    def bulk(
        self,
        upserts: Iterable[IndexDocument] = (),
        deletes: Iterable[str] = (),
        *,
        generation: str | None = None,
    ) -> None:
        if generation is None and self.outdated():
            # New documents (with `pages`) would map unknown fields by guess: the index worker
            # rebuilds the index on this (`search.tasks`) and writes to the new one instead.
            raise IndexOutdated(
                f"the search index {self._targets()} was built by an earlier edms with other "
                "fields: it is being rebuilt (or run `edms search reindex`)"
            )
        index = self._index_name(generation)
        actions = bulk_actions(upserts, deletes, index=index, max_text_chars=self.max_text_chars)
        # The indexer moves its cursor once this returns, and search trusts the index for every
        # change before the cursor (`search.freshness`): writes to the searched alias must be
        # searchable by then. A generation being filled is not searched yet; it needs no wait.
        searched = generation is None or self.refresh
        failures = []
        for ok, item in self._call(
            helpers.streaming_bulk,
            self.client,
            actions,
            chunk_size=500,
            raise_on_error=False,
            max_retries=3,
            refresh="wait_for" if searched else False,
        ):
            operation, result = next(iter(item.items()))
            if not ok and not (operation == "delete" and result.get("status") == 404):
                failures.append(result)
        if failures:
            raise SearchUnavailable(f"{len(failures)} bulk operations failed: {failures[:3]}")

    # --- Reading --------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResult:
        body = search_body(request, index=self.alias, client=self.client)
        return search_result(self._call(body.execute).to_dict(), request)

    def stamps(self, *, generation: str | None = None) -> Iterator[tuple[str, str]]:
        index = self._index_name(generation)
        self._call(self.client.indices.refresh, index=index)
        for item in helpers.scan(
            self.client, index=index, query={"_source": ["id", "stamp"]}, size=1000
        ):
            yield item["_source"]["id"], item["_source"]["stamp"]

    def count(self) -> int:
        self._call(self.client.indices.refresh, index=self.alias)
        return self._call(self.client.count, index=self.alias)["count"]

    def status(self) -> dict:
        generation = self.active_generation()
        if generation is None:
            return {"backend": self.name, "generation": None, "documents": 0, "size_bytes": 0}
        stats = self._call(self.client.indices.stats, index=self.alias, metric=["docs", "store"])
        total = stats["_all"]["primaries"]
        return {
            "backend": self.name,
            "generation": generation,
            "index": f"{self.alias}-{generation}",
            "documents": total["docs"]["count"],
            "size_bytes": total["store"]["size_in_bytes"],
        }
