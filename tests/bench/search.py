"""Search benchmark (`make bench`): indexing rate, query latency, index size, edms's overhead.

Builds an index of synthetic documents (patent vocabulary in English, French, Spanish, Russian,
Arabic and some Chinese, realistic metadata, a mix of readers) plus the text of the shared test
corpus, through edms's embedded engine in the indexer's batches. Then it runs a query mix — term,
phrase, boolean, field-filtered, faceted, highlighted — through `search.find.find_documents` as
an examiner (parse, permissions, facets, snippets, result shaping), and the same mix directly
against tantivy on the same index without edms, so the table shows what edms adds (including
the database check of `search.freshness`: every synthetic document also gets a database row).

With `--opensearch` (a node started with infra/opensearch.sh for the run, stopped afterwards) or
`--opensearch-url URL` (`EDMS_BENCH_OPENSEARCH_URL`; an index of the run's own, dropped
afterwards) the same documents are indexed and the same queries asked through edms's OpenSearch
engine too, and the figures are printed side by side.

    python -m tests.bench.search [--docs 100000] [--queries 300] [--corpus-files 40]
        [--opensearch | --opensearch-url URL] [--opensearch-heap 1g]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from edms import localbroker
from tests.bench import services

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"

VOCABULARY = {
    "en": (
        "claim invention device method system comprising wherein housing shaft bearing gear "
        "rotor stator sensor signal circuit processor memory module valve pump fluid pressure "
        "chamber piston spring lever handle surface layer coating polymer composition compound "
        "catalyst reaction temperature substrate electrode battery cell voltage current antenna "
        "frequency wireless network packet encoder decoder image pixel lens optical fiber laser "
        "embodiment prior art novelty inventive step examiner objection amendment priority "
        "application patent applicant description drawing figure abstract"
    ).split(),
    "fr": (
        "revendication invention dispositif procédé système comprenant boîtier arbre roulement "
        "engrenage capteur signal circuit mémoire vanne pompe fluide pression chambre piston "
        "ressort levier poignée surface couche revêtement polymère composition catalyseur "
        "réaction température substrat électrode batterie tension courant antenne fréquence "
        "réseau image lentille fibre brevet brevets demandeur description dessin nouveauté "
        "activité inventive examinateur objection modification priorité demande"
    ).split(),
    "es": (
        "reivindicación invención dispositivo procedimiento sistema que comprende carcasa eje "
        "cojinete engranaje sensor señal circuito memoria válvula bomba fluido presión cámara "
        "pistón resorte palanca mango superficie capa recubrimiento polímero patente patentes "
        "solicitante descripción dibujo novedad actividad inventiva examinador"
    ).split(),
    "ru": (
        "формула изобретение изобретения устройство способ система содержащий корпус вал "
        "подшипник шестерня датчик сигнал схема память клапан насос жидкость давление камера "
        "поршень пружина рычаг рукоятка поверхность слой покрытие полимер патент патенты "
        "заявитель описание чертеж новизна изобретательский уровень эксперт"
    ).split(),
    "ar": (
        "براءة براءات اختراع الاختراع جهاز طريقة نظام يتضمن غلاف عمود محمل ترس مستشعر إشارة "
        "دائرة ذاكرة صمام مضخة سائل ضغط غرفة مكبس نابض رافعة مقبض سطح طبقة طلاء بوليمر "
        "مقدم الطلب وصف رسم جدة خطوة ابتكارية فاحص"
    ).split(),
    "zh": "专利 申请 发明 装置 方法 系统 包括 外壳 轴 轴承 齿轮 传感器 信号 电路 存储器".split(),
}
LANGUAGE_MIX = ["en"] * 5 + ["fr"] * 2 + ["es", "ru", "ar", "zh"]
TYPES = ["CLM", "DESC", "ABST", "DRW", "OA", "RESP", "SR", "FEE", "LETTER", "GRANT", "AMD"]
DIRECTIONS = {"OA": "out", "SR": "out", "GRANT": "out"}
APPLICANTS = ["Acme Corp", "Globex", "Initech", "Umbrella AG", "Société Générale d'Outils"]
STATUSES = ["filed", "examination", "granted", "refused", "withdrawn"]
IP_TYPES = ["patent"] * 6 + ["trademark", "design", "utility_model"]

QUERY_MIX = {
    # kind: (edms query, extra criteria, raw tantivy query string on the `text` field)
    "term": ("bearing", {}, "bearing"),
    "term (fr, stemmed)": ("brevets", {}, "brevets"),
    "phrase": ('"prior art"', {}, '"prior art"'),
    "boolean": ("(gear OR shaft) AND sensor -valve", {}, "(gear OR shaft) AND sensor -valve"),
    "field-filtered": ("piston type:CLM date:2015..2020", {}, "piston AND type:CLM"),
    "faceted": ("pump", {"types": ["OA", "CLM"]}, "pump"),
    "highlighted": ("electrode battery", {}, "electrode AND battery"),
    # The query parser has no single-word prefix; tantivy's own prefix query is a regex.
    "prefix": ("catal*", {}, ("regex", "catal.*")),
}


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m tests.bench.search", description=__doc__)
    parser.add_argument("--docs", type=int, default=100_000, help="synthetic documents")
    parser.add_argument("--words", type=int, default=250, help="words per synthetic document")
    parser.add_argument("--queries", type=int, default=300, help="runs of each query kind")
    parser.add_argument("--corpus-files", type=int, default=40, help="corpus files to extract")
    parser.add_argument("--tmp-dir", help="where the database and index go ($TMPDIR)")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument(
        "--opensearch",
        action="store_true",
        help="also on an OpenSearch node started for the run (infra/opensearch.sh)",
    )
    parser.add_argument(
        "--opensearch-url",
        default=os.environ.get("EDMS_BENCH_OPENSEARCH_URL", ""),
        help="also on this OpenSearch cluster (EDMS_BENCH_OPENSEARCH_URL)",
    )
    parser.add_argument("--opensearch-heap", default="1g", help="heap of the node started")
    return parser.parse_args(argv)


def setup_django(data_dir: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("EDMS_", "DATABASE_URL", "CELERY_", "ELASTICSEARCH", "OPENSEARCH")):
            del os.environ[name]
    os.environ.update(
        DJANGO_SETTINGS_MODULE="edms.settings",
        EDMS_DATA_DIR=str(data_dir),
        EDMS_CELERY_EAGER="0",
    )
    import django
    from django.core.management import call_command

    django.setup()
    logging.getLogger("opensearch").setLevel(logging.ERROR)  # not a line per request
    call_command("migrate", verbosity=0)


# --- Documents ------------------------------------------------------------------------------


def synthetic(rng: random.Random, number: int, words: int):
    from search.backends import IndexDocument

    language = rng.choice(LANGUAGE_MIX)
    vocabulary = VOCABULARY[language]
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]  # Zipf-like
    sentence = rng.choices(vocabulary, weights=weights, k=words)
    if language != "en":  # offices mix languages: claims translated, English citations
        sentence += rng.choices(VOCABULARY["en"], k=words // 5)
    separator = "" if language == "zh" else " "
    text = separator.join(sentence)
    doc_type = rng.choice(TYPES)
    official = dt.date(2005, 1, 1) + dt.timedelta(days=rng.randrange(20 * 365))
    year = official.year
    key = f"BG/P/{year}/{number // 8 + 1}"
    readers = ["role:admin", "role:registry_system", "role:examiner"]
    if rng.random() < 0.9:
        readers.append("role:records_clerk")
    public = rng.random() < 0.6
    if public:
        readers.append("public")
    return IndexDocument(
        id=str(uuid.UUID(int=rng.getrandbits(128))),
        stamp="1",
        version=1,
        dossier=key,
        dossier_title=" ".join(rng.choices(VOCABULARY["en"], k=5)),
        ip_type=rng.choice(IP_TYPES),
        status=rng.choice(STATUSES),
        applicants=[rng.choice(APPLICANTS)],
        type=doc_type,
        direction=DIRECTIONS.get(doc_type, "in"),
        official_date=official,
        language=language,
        analysis_languages=[language] if language in ("en", "fr", "es", "ru", "ar") else [],
        title=f"{doc_type} {number}",
        state="active",
        text=text,
        meta=f"{key} {rng.choice(APPLICANTS)}",
        principals=readers,
        public_from=official if public else None,
    )


def corpus_documents(limit: int, rng: random.Random) -> list:
    """Text of corpus files, extracted in the sandbox the way ingestion does."""
    from django.conf import settings

    from ingest.languages import detect_languages
    from ingest.sandbox import Limits, SandboxFailure
    from ingest.sandbox import run as run_sandboxed

    manifest = CORPUS / "manifest.tsv"
    if not manifest.exists() or limit <= 0:
        return []
    rows = [line.split("\t") for line in manifest.read_text().splitlines()[1:]]
    header = manifest.read_text().splitlines()[0].split("\t")
    files = [dict(zip(header, row, strict=False)) for row in rows]
    files = [f for f in files if f.get("kind") in ("patent", "pdf", "office", "email", "other")]
    documents = []
    for number, entry in enumerate(files[:limit]):
        with tempfile.TemporaryDirectory() as workdir:
            text_path = os.path.join(workdir, "text.txt")
            try:
                run_sandboxed(
                    "ingest.extractors:extract_to_file",
                    {
                        "path": str(CORPUS / entry["file"]),
                        "config": settings.EDMS_EXTRACTOR,
                        "max_chars": 200_000,
                        "text_path": text_path,
                    },
                    limits=Limits(timeout_s=30, memory_mib=1024),
                    workdir=workdir,
                )
            except SandboxFailure:
                continue
            text = Path(text_path).read_text(errors="replace")
        if not text.strip():
            continue
        document = synthetic(rng, 10_000_000 + number, 5)
        document.text = text
        languages = detect_languages(text)
        document.language = languages[0] if languages else ""
        document.analysis_languages = [c for c in languages if c in VOCABULARY and c != "zh"]
        documents.append(document)
    return documents


# --- Measuring ------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def timed(function, runs: int) -> list[float]:
    function()  # warm caches once
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def register_rows(documents: list) -> None:
    """Database rows for synthetic documents: search checks each page of hits against the
    database (`search.freshness`), so a hit without a row would be dropped, not shown."""
    from dossier.models import Document, Dossier

    dossiers = {}
    for document in documents:
        if document.dossier not in dossiers:
            dossiers[document.dossier] = Dossier(
                key=document.dossier, raw_key=document.dossier, ip_type=document.ip_type
            )
    Dossier.objects.bulk_create(dossiers.values(), batch_size=2000, ignore_conflicts=True)
    ids = dict(Dossier.objects.filter(key__in=list(dossiers)).values_list("key", "id"))
    Document.objects.bulk_create(
        [
            Document(
                id=document.id,
                dossier_id=ids[document.dossier],
                doc_type_id=document.type,
                direction=document.direction,
                official_date=document.official_date,
                title=document.title,
                visibility="public" if "public" in document.principals else "confidential",
            )
            for document in documents
        ],
        batch_size=2000,
    )


def build_index(backend, args, corpus: list, *, register: bool) -> tuple[int, float]:
    """Index the synthetic documents (the same ones on every engine: the seed's) and the corpus
    in the indexer's batches; `register` also writes their database rows (once per run)."""
    rng = random.Random(args.seed)
    batch, total, registering = [], 0, 0.0

    def rows(documents):
        nonlocal registering
        if register:
            registering -= time.perf_counter()
            register_rows(documents)
            registering += time.perf_counter()

    started = time.perf_counter()
    for number in range(args.docs):
        batch.append(synthetic(rng, number, args.words))
        if len(batch) == 500:  # the indexer's batch: one commit each
            backend.upsert(batch)
            rows(batch)
            total += len(batch)
            batch = []
            if total % 10_000 == 0:
                rate = total / (time.perf_counter() - started - registering)
                print(f"\rindexed {total}/{args.docs} ({rate:,.0f} docs/s)", end="", flush=True)
    backend.upsert(batch + corpus)
    rows(batch + corpus)
    total += len(batch) + len(corpus)
    seconds = time.perf_counter() - started - registering  # the rows are not indexing
    print()
    return total, seconds


def edms_runner(user, query: str, extra: dict):
    from search import find

    criteria = find.Criteria(q=query, **extra)

    def run():
        return find.find_documents(user, criteria)

    return run


def raw_runner(index, tantivy, query: str, kind: str):
    """The same intent straight on tantivy: one field, no permissions, no shaping."""
    if isinstance(query, tuple):
        parsed = tantivy.Query.regex_query(index.schema, "text", query[1])
    else:
        parsed = index.parse_query(query, ["text"])
    facets = {n: {"terms": {"field": n, "size": 100}} for n in ("type", "year", "language")}

    def run():
        searcher = index.searcher()
        found = searcher.search(parsed, 20, count=True)
        if kind in ("faceted", "field-filtered", "highlighted", "term"):
            searcher.aggregate(parsed, facets)
        generator = tantivy.SnippetGenerator.create(searcher, parsed, index.schema, "text")
        for _, address in found.hits:
            generator.snippet_from_doc(searcher.doc(address)).to_html()
        return found.count

    return run


@dataclass
class Figures:
    """One engine's figures: indexing, size, and per query kind its hits and samples (ms)."""

    documents: int = 0
    seconds: float = 0.0
    size_bytes: int = 0
    segments: int | None = None
    queries: dict[str, tuple[int, list[float]]] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.documents / self.seconds

    def mix(self) -> list[float]:
        return [sample for _, samples in self.queries.values() for sample in samples]


def engine_config(name: str, tmp: Path, opensearch_url: str) -> dict:
    """EDMS_SEARCH for an engine: the embedded one in the run's directory, OpenSearch on an
    index of the run's own (one node: no replica to wait for)."""
    if name == "embedded":
        return {
            "BACKEND": "search.backends.embedded.Backend",
            "OPTIONS": {"path": str(tmp / "search")},
        }
    return {
        "BACKEND": "search.backends.opensearch.Backend",
        "OPTIONS": {
            "hosts": opensearch_url,
            "index_prefix": f"edms-bench-{uuid.uuid4().hex[:8]}",
            "replicas": 0,
            "request_timeout": 120.0,
        },
    }


def bench_engine(name: str, backend, args, corpus: list, examiner, *, register: bool) -> Figures:
    """Index, then ask the query mix through edms (`find_documents`, which asks the configured
    engine: `backend`); on the embedded engine the same mix straight on tantivy too."""
    print(f"\n== {name} ({backend.name} engine)")
    backend.reset()
    figures = Figures()
    figures.documents, figures.seconds = build_index(backend, args, corpus, register=register)
    status = backend.status()
    figures.size_bytes, figures.segments = status["size_bytes"], status.get("segments")
    segments = f" ({figures.segments} segments)" if figures.segments is not None else ""
    print(
        f"indexed {figures.documents:,} documents in {figures.seconds:.1f} s: "
        f"{figures.rate:,.0f} docs/s"
    )
    print(f"index size on disk: {figures.size_bytes / 1024**2:,.1f} MiB{segments}")

    raw = raw_engine(backend) if name == "embedded" else None
    print(f"\nquery mix, {args.queries} runs each (ms; edms = find_documents as an examiner)")
    header = f"{'query':<20} {'hits':>8} {'p50':>7} {'p95':>7} {'p99':>7}"
    print(f"{header} {'tantivy hits':>12} {'p50':>7} {'overhead':>9}" if raw else header)
    all_raw = []
    for kind, (query, extra, raw_query) in QUERY_MIX.items():
        run = edms_runner(examiner, query, extra)
        hits = run()["count"]
        samples = timed(run, args.queries)
        figures.queries[kind] = (hits, samples)
        p50 = percentile(samples, 0.5)
        line = (
            f"{kind:<20} {hits:>8,} {p50:>7.2f} {percentile(samples, 0.95):>7.2f} "
            f"{percentile(samples, 0.99):>7.2f}"
        )
        if raw:
            raw_run = raw_runner(*raw, raw_query, kind)
            raw_hits = raw_run()
            raw_samples = timed(raw_run, args.queries)
            all_raw += raw_samples
            raw50 = percentile(raw_samples, 0.5)
            line += f" {raw_hits:>12,} {raw50:>7.2f} {p50 / raw50:>8.1f}x"
        print(line)
    mix = figures.mix()
    line = (
        f"{'whole mix':<20} {'':>8} {percentile(mix, 0.5):>7.2f} "
        f"{percentile(mix, 0.95):>7.2f} {percentile(mix, 0.99):>7.2f}"
    )
    if raw:
        ratio = statistics.median(mix) / statistics.median(all_raw)
        line += f" {'':>12} {percentile(all_raw, 0.5):>7.2f} {ratio:>8.1f}x"
    print(line)
    return figures


def raw_engine(backend):
    """The embedded engine's active index opened straight with tantivy (edms's analyzers)."""
    import tantivy

    from search.backends.tantivy_schema import ANALYZERS

    raw_index = tantivy.Index.open(str(backend.root / backend.status()["generation"]))
    for name, analyzer in ANALYZERS.items():
        raw_index.register_tokenizer(name, analyzer)
    raw_index.reload()
    return raw_index, tantivy


def print_side_by_side(figures: dict[str, Figures]) -> None:
    names = list(figures)
    print("\n== side by side (" + " | ".join(names) + ")")
    width = 31
    print(f"{'':<20} " + " ".join(f"{name:>{width}}" for name in names))
    print(
        f"{'indexing docs/s':<20} " + " ".join(f"{f.rate:>{width},.0f}" for f in figures.values())
    )
    print(
        f"{'index size MiB':<20} "
        + " ".join(f"{f.size_bytes / 1024**2:>{width},.1f}" for f in figures.values())
    )
    print(
        f"{'query (ms)':<20} "
        + " ".join(f"{'hits':>10} {'p50':>6} {'p95':>6} {'p99':>6}" for _ in names)
    )
    kinds = [*QUERY_MIX, "whole mix"]
    for kind in kinds:
        cells = []
        for f in figures.values():
            hits, samples = f.queries[kind] if kind in f.queries else (None, f.mix())
            p50, p95, p99 = (percentile(samples, x) for x in (0.5, 0.95, 0.99))
            shown = f"{hits:>10,}" if hits is not None else f"{'':>10}"
            cells.append(f"{shown} {p50:>6.2f} {p95:>6.2f} {p99:>6.2f}")
        print(f"{kind:<20} " + " ".join(cells))
    if len(names) == 2:
        first, second = figures.values()
        print(
            f"\n{names[1]} / {names[0]}: indexing {second.rate / first.rate:.2f}x the docs/s, "
            f"index {second.size_bytes / first.size_bytes:.2f}x the size, "
            f"query p50 {percentile(second.mix(), 0.5) / percentile(first.mix(), 0.5):.2f}x, "
            f"p95 {percentile(second.mix(), 0.95) / percentile(first.mix(), 0.95):.2f}x"
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv if argv is not None else sys.argv[1:])
    with ExitStack() as stack:
        tmp = Path(
            stack.enter_context(
                tempfile.TemporaryDirectory(dir=args.tmp_dir, prefix="edms-search-bench-")
            )
        )
        opensearch_url = args.opensearch_url
        if args.opensearch and not opensearch_url:
            node = services.opensearch_node(tmp / "opensearch", heap=args.opensearch_heap)
            opensearch_url = stack.enter_context(node).url
        stack.enter_context(localbroker.running(tmp))
        setup_django(tmp)
        from django.conf import settings

        from dossier.roles import Role
        from search.backends import get_backend
        from tests.factories import UserFactory

        started = time.perf_counter()
        corpus = corpus_documents(args.corpus_files, random.Random(args.seed + 1))
        print(
            f"corpus: {len(corpus)} files extracted in {time.perf_counter() - started:.1f} s "
            "(not counted below)"
        )
        examiner = UserFactory(role=Role.EXAMINER)
        names = ["embedded", *(["opensearch"] if opensearch_url else [])]
        figures = {}
        for number, name in enumerate(names):
            settings.EDMS_SEARCH = engine_config(name, tmp, opensearch_url)
            backend = get_backend()
            try:
                figures[name] = bench_engine(
                    name, backend, args, corpus, examiner, register=number == 0
                )
            finally:
                if name != "embedded":
                    backend.drop_all()
        if len(figures) > 1:
            print_side_by_side(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
