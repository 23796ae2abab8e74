"""Similar marks and designs (issue 20, point 3): the representation of each trademark (`MARK`
document) and design (`DREP`, its first image) is described (`marks_features`) once processing
has rendered its first page, and `similar_marks` answers the most similar ones among the
dossiers a caller may see, filtered by IP type and status.

The image described is processing's first-page thumbnail (rendered in its sandbox), and a
query is the small PNG the sandbox made of the uploaded image (`ingest.uploaded_images`, called
by the API and the page), so an uploaded file is never decoded here. The
vectors of every mark are held in one matrix per process (`marks_index.MarkIndex`), reloaded
when marks were added or removed. The Vienna codes the registry supplies with a dossier
(`dossier.vienna`) are a filter too.
"""

from __future__ import annotations

import io
import logging
import threading
from dataclasses import dataclass

import numpy as np
from django.db.models import Count, Max, Q, TextField
from django.db.models.functions import Cast

from dossier import access, blobstore, vienna
from dossier.models import RenditionKind, Version
from similarity import marks_features
from similarity.duplicate_models import MarkImage
from similarity.marks_index import Hit, MarkIndex

log = logging.getLogger(__name__)

MARK_TYPES = ("MARK", "DREP")
# The sandbox hands back at most 512 x 512: anything larger is not its PNG, and is refused
# before it is decoded.
MAX_QUERY_PIXELS = 1024 * 1024


class BadImage(ValueError):
    """The query is not an image edms can read (or is blank, or too large in pixels)."""


def index_mark(version_id: int) -> bool:
    """Describe the version if it is the latest of a mark's (or design's) representation and its
    first-page image is there; drop the description of one that no longer is. Returns whether
    it is described now. Safe to run twice."""
    version = Version.objects.select_related("document").filter(pk=version_id).first()
    if version is None:
        return False
    document = version.document
    current = (
        document.doc_type_id in MARK_TYPES
        and version.number == document.latest_version
        and version.expunged_at is None
        and document.expunged_at is None
    )
    thumbnail = version.renditions.filter(kind=RenditionKind.THUMBNAIL).first()
    vectors = None
    if current and thumbnail is not None:
        from PIL import Image  # here: the web server and workers keep no image library loaded

        try:
            data = b"".join(blobstore.read_chunks(thumbnail.blob_id))
            with Image.open(io.BytesIO(data)) as image:
                vectors = marks_features.mark_vectors(image)
        except (OSError, Image.DecompressionBombError):
            log.warning("the first-page image of version %s could not be read", version_id)
    if vectors is None:
        MarkImage.objects.filter(version_id=version_id).delete()
        return False
    # A new version replaces the document's earlier one.
    MarkImage.objects.filter(document=document).exclude(version_id=version_id).delete()
    MarkImage.objects.update_or_create(
        version=version, defaults={"document": document, "vectors": vectors.tobytes()}
    )
    return True


def query_features(png: bytes) -> np.ndarray:
    """The query views of an image already made safe by the sandbox (a small PNG); `BadImage`
    if it cannot be read or is blank."""
    from PIL import Image  # here: the web server and workers keep no image library loaded

    try:
        with Image.open(io.BytesIO(png), formats=["PNG"]) as image:
            width, height = image.size
            if width * height > MAX_QUERY_PIXELS:
                raise BadImage(f"the image is {width} x {height} pixels: not the sandbox's PNG")
            vectors = marks_features.query_vectors(image)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        if isinstance(exc, BadImage):
            raise
        raise BadImage("the file is not an image edms can read") from None
    if vectors is None:
        raise BadImage("the image is blank: there is no figure to compare")
    return vectors


@dataclass(frozen=True)
class SimilarMark:
    mark: MarkImage
    score: float


def similar_marks(
    query: np.ndarray, user, *, limit: int = 20, ip_types=(), statuses=(), vienna_prefixes=()
) -> list[SimilarMark]:
    """The marks most similar to the query views, best first, among the documents `user` may
    read (applied before the limit), in dossiers of `ip_types` and `statuses`, and with a
    Vienna code under one of `vienna_prefixes` (checked by `dossier.vienna.clean_prefixes`),
    when given."""
    index = _index()
    matching = _matching(ip_types, statuses, vienna_prefixes)
    readable = (MarkImage.objects.all() if matching is None else matching).filter(
        document__in=access.visible_documents(user)
    )
    scores = index.scores(query)
    # A Vienna code keeps few marks (a category a few per cent, a division or code far fewer), so
    # the best-scored marks of all are rarely among them: those filters start from their own.
    hits = None if vienna_prefixes else _best_in_windows(index, scores, readable, limit)
    if hits is None and matching is not None:
        # Filters that keep few marks: which marks match is one query without the permission
        # rules, then the best-scored of those are checked.
        matching_ids = np.fromiter(matching.values_list("id", flat=True), dtype=np.int64)
        scores = np.where(np.isin(index.keys, matching_ids), scores, -np.inf)
        hits = _best_in_windows(index, scores, readable, limit)
    if hits is None:
        # A caller who may read few of the best marks: every mark is checked, in one query.
        allowed_ids = np.fromiter(readable.values_list("id", flat=True), dtype=np.int64)
        hits = index.best(scores, limit, allowed=np.isin(index.keys, allowed_ids))
    marks = MarkImage.objects.select_related("version", "document__dossier").in_bulk(
        [hit.key for hit in hits]
    )
    return [SimilarMark(marks[hit.key], hit.score) for hit in hits if hit.key in marks]


def _matching(ip_types, statuses, vienna_prefixes):
    """The marks of dossiers the filters keep (a MarkImage query set), or None without one."""
    if not (ip_types or statuses or vienna_prefixes):
        return None
    matching = MarkImage.objects.all()
    if ip_types:
        matching = matching.filter(document__dossier__ip_type__in=ip_types)
    if statuses:
        matching = matching.filter(document__dossier__status__in=statuses)
    if vienna_prefixes:
        # The codes' JSON text (`dossier.vienna.json_fragment`): the same on SQLite and PostgreSQL.
        matching = matching.annotate(
            vienna_text=Cast("document__dossier__vienna_codes", TextField())
        )
        under_any = Q()
        for prefix in vienna_prefixes:
            under_any |= Q(vienna_text__contains=vienna.json_fragment(prefix))
        matching = matching.filter(under_any)
    return matching


# The windows of best-scored marks whose permissions are checked first, as multiples of the
# limit: most callers may read most marks, so the first is usually enough. A window over a
# quarter of all marks is not worth it: the whole set is checked at once.
WINDOWS = (4, 32)
WHOLE_SET_SHARE = 4


def _best_in_windows(
    index: MarkIndex, scores: np.ndarray, readable, limit: int
) -> list[Hit] | None:
    """The `limit` best-scored marks among `readable` (a MarkImage query set), or None when the
    windows are not enough to tell.

    Asking the database which of all 50,000 marks a caller may read costs 80-200 ms (every
    document's and dossier's rules are evaluated); asking it about the few best-scored ones uses
    the primary keys and costs a few milliseconds. So the best marks are checked in a widening
    window: when `limit` of a window's marks are readable (or the window holds every mark with
    a score) they are the answer, exactly, since every mark outside the window scores no
    better."""
    for times in WINDOWS:
        window = limit * times
        if window * WHOLE_SET_SHARE >= len(index):
            return None
        candidates = index.best(scores, window)
        keys = [hit.key for hit in candidates]
        allowed = set(readable.filter(id__in=keys).values_list("id", flat=True))
        hits = [hit for hit in candidates if hit.key in allowed]
        if len(hits) >= limit or len(candidates) < window:
            return hits[:limit]
    return None


_cache: dict[str, object] = {}
_lock = threading.Lock()


def _index() -> MarkIndex:
    """The process's matrix of every mark's vectors, reloaded when marks changed."""
    state = MarkImage.objects.aggregate(n=Count("id"), last=Max("computed_at"), top=Max("id"))
    stamp = (state["n"], state["last"], state["top"])
    with _lock:
        if _cache.get("stamp") != stamp:
            rows = list(MarkImage.objects.order_by("id").values_list("id", "vectors"))
            shape = (len(rows), marks_features.VIEWS, marks_features.DIMENSIONS)
            vectors = np.frombuffer(b"".join(bytes(v) for _, v in rows), dtype=np.float32)
            _cache["index"] = MarkIndex([key for key, _ in rows], vectors.reshape(shape))
            _cache["stamp"] = stamp
        return _cache["index"]
