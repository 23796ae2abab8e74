"""Search benchmark (`make bench`): indexing rate, query latency, index size, edms's overhead.

Builds an index of synthetic documents (patent vocabulary in English, French, Spanish, Russian,
Arabic and some Chinese, realistic metadata, a mix of readers) plus the text of the shared test
corpus, through edms's embedded engine in the indexer's batches. Then it runs a query mix — term,
phrase, boolean, field-filtered, faceted, highlighted — through `search.find.find_documents` as
an examiner (parse, permissions, facets, snippets, result shaping), and the same mix directly
against tantivy on the same index without edms, so the table shows what edms adds (including
the database check of `search.freshness`: every synthetic document also gets a database row).

    python -m tests.bench.search [--docs 100000] [--queries 300] [--corpus-files 40]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from edms import localbroker

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
    return parser.parse_args(argv)


def setup_django(data_dir: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("EDMS_", "DATABASE_URL", "CELERY_", "ELASTICSEARCH")):
            del os.environ[name]
    os.environ.update(
        DJANGO_SETTINGS_MODULE="edms.settings",
        EDMS_DATA_DIR=str(data_dir),
        EDMS_CELERY_EAGER="0",
    )
    import django
    from django.core.management import call_command

    django.setup()
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


def build_index(backend, args, rng) -> tuple[int, float]:
    started = time.perf_counter()
    corpus = corpus_documents(args.corpus_files, rng)
    extracted = time.perf_counter() - started
    print(f"corpus: {len(corpus)} files extracted in {extracted:.1f} s (not counted below)")
    batch, total, registering = [], 0, 0.0
    started = time.perf_counter()
    for number in range(args.docs):
        batch.append(synthetic(rng, number, args.words))
        if len(batch) == 500:  # the indexer's batch: one commit each
            backend.upsert(batch)
            registering -= time.perf_counter()
            register_rows(batch)
            registering += time.perf_counter()
            total += len(batch)
            batch = []
            if total % 10_000 == 0:
                rate = total / (time.perf_counter() - started)
                print(f"\rindexed {total}/{args.docs} ({rate:,.0f} docs/s)", end="", flush=True)
    backend.upsert(batch + corpus)
    registering -= time.perf_counter()
    register_rows(batch + corpus)
    registering += time.perf_counter()
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


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv if argv is not None else sys.argv[1:])
    rng = random.Random(args.seed)
    with (
        tempfile.TemporaryDirectory(dir=args.tmp_dir, prefix="edms-search-bench-") as tmp,
        localbroker.running(Path(tmp)),
    ):
        data_dir = Path(tmp)
        setup_django(data_dir)
        import tantivy

        from search.backends import get_backend
        from search.backends.embedded import ANALYZERS
        from tests.factories import UserFactory

        backend = get_backend()
        backend.reset()
        total, seconds = build_index(backend, args, rng)
        status = backend.status()
        print(f"\nindexed {total:,} documents in {seconds:.1f} s: {total / seconds:,.0f} docs/s")
        print(
            f"index size on disk: {status['size_bytes'] / 1024**2:,.1f} MiB "
            f"({status['segments']} segments)"
        )

        from dossier.roles import Role

        examiner = UserFactory(role=Role.EXAMINER)
        raw_index = tantivy.Index.open(str(backend.root / status["generation"]))
        for name, analyzer in ANALYZERS.items():
            raw_index.register_tokenizer(name, analyzer)
        raw_index.reload()

        print(f"\nquery mix, {args.queries} runs each (ms; edms = find_documents as an examiner)")
        header = f"{'query':<20} {'hits':>8} {'p50':>7} {'p95':>7} {'p99':>7}"
        print(f"{header} {'tantivy hits':>12} {'p50':>7} {'overhead':>9}")
        all_edms, all_raw = [], []
        for kind, (query, extra, raw_query) in QUERY_MIX.items():
            run = edms_runner(examiner, query, extra)
            hits = run()["count"]
            edms = timed(run, args.queries)
            raw_run = raw_runner(raw_index, tantivy, raw_query, kind)
            raw_hits = raw_run()
            raw = timed(raw_run, args.queries)
            all_edms += edms
            all_raw += raw
            p50, raw50 = percentile(edms, 0.5), percentile(raw, 0.5)
            print(
                f"{kind:<20} {hits:>8,} {p50:>7.2f} {percentile(edms, 0.95):>7.2f} "
                f"{percentile(edms, 0.99):>7.2f} {raw_hits:>12,} {raw50:>7.2f} {p50 / raw50:>8.1f}x"
            )
        ratio = statistics.median(all_edms) / statistics.median(all_raw)
        print(
            f"{'whole mix':<20} {'':>8} {percentile(all_edms, 0.5):>7.2f} "
            f"{percentile(all_edms, 0.95):>7.2f} {percentile(all_edms, 0.99):>7.2f} "
            f"{'':>12} {percentile(all_raw, 0.5):>7.2f} {ratio:>8.1f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
