"""Near-duplicates at intake (issue 20, point 2): when a version has been processed, find the
documents, in its dossier or another, with nearly the same text (MinHash of word 5-grams) or
the same pages (perceptual hashes), and flag it "probably a re-filing of X": a re-filing with a
new cover page, or a scan of a PDF filed earlier (no text layer, or OCR text that differs),
shares the images of its other pages.

Nothing is merged or rejected: a flag is a hint that records staff review (`review_flag`), and
readers see a document's flags only where they may read the other document (`duplicates_for`).
This runs as its own task after processing has finished (`similarity.duplicate_tasks`), so a
document is searchable before it is checked.

The text is the version's extracted text, the pages' hashes those processing made in its
sandbox (`dossier.models.PageHashes`), both processing facts, so no untrusted file is decoded
here. A version processed before pages were hashed is compared by its first-page thumbnail (a
rendition processing made): its one page.

Pages: each page's hash gives LSH keys (the first page all of `perceptual.KEYS`, later ones
`perceptual.LATER_PAGE_KEYS`, at most `MAX_PAGE_KEYS` a version); fingerprints sharing keys are
compared page by page, and two documents are alike when at least `EDMS_DUPLICATE_PAGE_SHARE`
of the shorter one's pages are the same as pages of the other (`EDMS_DUPLICATE_PAGE_DISTANCE`
bits apart at most).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, replace

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from dossier import access, blobstore
from dossier.models import Document, PageHashes, RenditionKind, Version
from dossier.roles import Role, role_of
from similarity import minhash, perceptual
from similarity.duplicate_models import DuplicateFlag, DuplicateStatus, Fingerprint, FingerprintKey

log = logging.getLogger(__name__)

# The head of a text that is compared: a re-filing is alike from its first pages, and a 5 MB
# text would cost seconds of hashing for nothing more.
MAX_TEXT_BYTES = 2_000_000
# Compared in full at most: the fingerprints sharing the most keys.
MAX_CANDIDATES = 200
# The LSH keys of one version's pages at most: a 300-page file does not put 4,800 rows in the
# key table, nor that many values in the candidates' query. With the first page's 16 and 4 a
# page after it, the first 253 pages are keyed; every hashed page is compared.
MAX_PAGE_KEYS = 1024


@dataclass(frozen=True)
class PagesAlike:
    """How two versions' pages compare: `same` pages of each are the same as pages of the
    other (of `these` and `those` pages, not blank), the least alike `distance` bits apart."""

    same: int
    these: int
    those: int
    distance: int


@dataclass(frozen=True)
class Match:
    fingerprint: Fingerprint
    text_similarity: float | None
    pages: PagesAlike | None


def fingerprint_version(version_id: int) -> list[DuplicateFlag]:
    """Fingerprint the version (again) and flag its near-duplicates; returns the flags raised or
    updated. Safe to run twice; a version gone, expunged or not processed is left alone (an
    expunged one loses its fingerprint)."""
    version = Version.objects.select_related("document").filter(pk=version_id).first()
    if version is None:
        return []
    if version.expunged_at is not None or version.document.expunged_at is not None:
        Fingerprint.objects.filter(version_id=version_id).delete()
        return []
    recorded = PageHashes.objects.filter(version=version).first()
    has_thumbnail = version.renditions.filter(kind=RenditionKind.THUMBNAIL).exists()
    if version.text_id is None and recorded is None and not has_thumbnail:
        return []  # not processed (yet): the processed event brings it back
    signature = minhash.signature(_text_of(version)) if version.text_id else None
    if recorded is not None:
        first = recorded.hashes[0] if recorded.hashes else None
        hashes, page_checked = [value for value in recorded.hashes if value], True
    else:  # processed before pages were hashed: its thumbnail is its one page
        first, page_checked = _first_page_hash(version) if has_thumbnail else (None, False)
        hashes = [first] if first else []
    with transaction.atomic():
        fingerprint, _ = Fingerprint.objects.update_or_create(
            version=version,
            defaults={
                "document": version.document,
                "text_signature": signature,
                "page_hash": first or "",
                "page_hashes": hashes,
                "page_checked": page_checked,
            },
        )
        keys = (minhash.band_keys(signature) if signature else []) + _page_keys(hashes)
        fingerprint.keys.all().delete()
        FingerprintKey.objects.bulk_create(
            FingerprintKey(fingerprint=fingerprint, key=key) for key in keys
        )
        return [_flag(fingerprint, match) for match in _matches(fingerprint, keys)]


def _text_of(version: Version) -> str:
    return blobstore.read_text_head(version.text_id, MAX_TEXT_BYTES)


def _page_keys(hashes: list[str]) -> list[str]:
    """The LSH keys of a version's pages (`MAX_PAGE_KEYS` at most, each once)."""
    keys: dict[str, None] = {}
    for number, value in enumerate(hashes):
        wanted = perceptual.KEYS if number == 0 else perceptual.LATER_PAGE_KEYS
        for key in perceptual.lsh_keys(value, wanted):
            if len(keys) >= MAX_PAGE_KEYS:
                return list(keys)
            keys[key] = None
    return list(keys)


def _first_page_hash(version: Version) -> tuple[str | None, bool]:
    """The first page's hash (None for a blank page or none), and whether there was an image."""
    thumbnail = version.renditions.filter(kind=RenditionKind.THUMBNAIL).first()
    if thumbnail is None:
        return None, False
    from PIL import Image  # here: the web server and workers keep no image library loaded

    try:
        data = b"".join(blobstore.read_chunks(thumbnail.blob_id))
        with Image.open(io.BytesIO(data)) as image:
            return perceptual.page_hash(image), True
    except (OSError, Image.DecompressionBombError):
        log.warning("the first-page image of version %s could not be read", version.pk)
        return None, True


def _matches(fingerprint: Fingerprint, keys: list[str]) -> list[Match]:
    """The fingerprints of other documents close enough to this one: best one per document."""
    if not keys:
        return []
    candidates = (
        Fingerprint.objects.filter(keys__key__in=keys)
        .exclude(document_id=fingerprint.document_id)
        .filter(version__expunged_at__isnull=True, document__expunged_at__isnull=True)
        .annotate(shared=Count("keys"))
        .order_by("-shared", "id")[:MAX_CANDIDATES]
    )
    best: dict[object, Match] = {}
    for candidate in candidates:
        match = _compare(fingerprint, candidate)
        if match is None:
            continue
        kept = best.get(candidate.document_id)
        if kept is None or _strength(match) > _strength(kept):
            best[candidate.document_id] = match
    return list(best.values())


def _compare(fingerprint: Fingerprint, candidate: Fingerprint) -> Match | None:
    text = None
    if fingerprint.text_signature and candidate.text_signature:
        text = minhash.similarity(fingerprint.text_signature, candidate.text_signature)
        if text < settings.EDMS_DUPLICATE_TEXT_SIMILARITY:
            text = None
    pages = compare_pages(_hashes_of(fingerprint), _hashes_of(candidate))
    if pages is not None and pages.same < settings.EDMS_DUPLICATE_PAGE_SHARE * min(
        pages.these, pages.those
    ):
        pages = None
    if text is None and pages is None:
        return None
    return Match(candidate, text, pages)


def _hashes_of(fingerprint: Fingerprint) -> list[str]:
    # A fingerprint made before pages were hashed has only its first page's.
    if fingerprint.page_hashes:
        return fingerprint.page_hashes
    return [fingerprint.page_hash] if fingerprint.page_hash else []


def compare_pages(these: list[str], those: list[str]) -> PagesAlike | None:
    """How many pages of each list are the same as a page of the other (at most
    `EDMS_DUPLICATE_PAGE_DISTANCE` bits apart); None when no page is. A page repeated in one
    document counts once against a single page of the other: the smaller count is `same`."""
    if not these or not those:
        return None
    apart = perceptual.distances(these, those)
    nearest_of_these, nearest_of_those = apart.min(axis=1), apart.min(axis=0)
    limit = settings.EDMS_DUPLICATE_PAGE_DISTANCE
    matched = nearest_of_these <= limit
    same = min(int(matched.sum()), int((nearest_of_those <= limit).sum()))
    if same == 0:
        return None
    return PagesAlike(same, len(these), len(those), int(nearest_of_these[matched].max()))


def _strength(match: Match) -> tuple[float, float, int]:
    pages = match.pages
    if pages is None:
        return (match.text_similarity or 0.0, 0.0, -perceptual.BITS)
    return (
        match.text_similarity or 0.0,
        pages.same / min(pages.these, pages.those),
        -pages.distance,
    )


def _flag(fingerprint: Fingerprint, match: Match) -> DuplicateFlag:
    """Raise (or update the scores of) the flag: the later filed document is the re-filing.
    A reviewed flag keeps its review."""
    this, other = fingerprint, match.fingerprint
    pages = match.pages
    documents = Document.objects.in_bulk([this.document_id, other.document_id])
    if (documents[other.document_id].created_at, str(other.document_id)) > (
        documents[this.document_id].created_at,
        str(this.document_id),
    ):
        this, other = other, this
        if pages is not None:
            pages = replace(pages, these=pages.those, those=pages.these)
    flag, _ = DuplicateFlag.objects.update_or_create(
        document_id=this.document_id,
        original_id=other.document_id,
        defaults={
            "version_id": this.version_id,
            "original_version_id": other.version_id,
            "text_similarity": match.text_similarity,
            "page_distance": pages.distance if pages else None,
            "pages_same": pages.same if pages else None,
            "pages_compared": pages.these if pages else None,
        },
    )
    return flag


# --- Reading flags --------------------------------------------------------------------------


def sees_duplicates(user) -> bool:
    """Flags are the office's working notes: staff and the registry, never the public."""
    return role_of(user) != Role.PUBLIC


def visible_flags(user) -> QuerySet[DuplicateFlag]:
    """The flags `user` may see: both documents readable by them, neither expunged."""
    if not sees_duplicates(user):
        return DuplicateFlag.objects.none()
    readable = access.visible_documents(user).filter(expunged_at__isnull=True).values("id")
    return DuplicateFlag.objects.filter(document__in=readable, original__in=readable)


def duplicates_for(document: Document, user) -> list[dict]:
    """The document's near-duplicates that `user` may read, for its API representation: those
    it is probably a re-filing of, then those that are probably re-filings of it."""
    flags = (
        visible_flags(user)
        .filter(Q(document=document) | Q(original=document))
        .select_related("document__dossier", "original__dossier")
        .order_by("created_at", "id")
    )
    found = []
    for flag in flags:
        refiling = flag.document_id == document.id
        other = flag.original if refiling else flag.document
        found.append(
            {
                "flag": flag.id,
                "relation": "refiling_of" if refiling else "refiled_as",
                "document": str(other.id),
                "dossier": other.dossier.display_key,
                "title": other.title,
                "text_similarity": flag.text_similarity,
                "page_distance": flag.page_distance,
                "pages_same": flag.pages_same,
                "pages_compared": flag.pages_compared,
                "reason": describe(flag, other=other, refiling=refiling),
                "status": flag.status,
            }
        )
    found.sort(key=lambda item: item["relation"] != "refiling_of")
    return found


def describe(flag: DuplicateFlag, *, other: Document, refiling: bool = True) -> str:
    """Why the flag was raised, in a sentence, from the side of the document read: that of
    the re-filing ("3 of 4 pages the same as X", `refiling`) or of the original ("3 of 4
    pages of X the same as this document's"). `other` is the document on the other side."""
    named = f"{other.dossier.display_key} — {other.title or other.doc_type_id}"
    reasons = []
    if flag.text_similarity is not None:
        reasons.append(f"text {round(100 * flag.text_similarity)} % alike")
    if flag.pages_same is not None:
        counted = f"{flag.pages_same} of {flag.pages_compared} pages"
        reasons.append(
            f"{counted} the same as {named}"
            if refiling
            else f"{counted} of {named} the same as this document's"
        )
    elif flag.page_distance is not None:  # raised before pages were compared
        reasons.append(f"the same first page as {named if refiling else 'this document'}")
    return "; ".join(reasons)


# --- Reviewing ------------------------------------------------------------------------------


def can_review(user) -> bool:
    """Records staff (and administrators) answer for the file wrapper: they review flags."""
    return access.can_do_quality_control(user)


def review_flag(flag: DuplicateFlag, status: str, *, user) -> DuplicateFlag:
    """Record a person's judgement on the flag (`DuplicateStatus`): reviewed (a duplicate indeed)
    or not a duplicate; `open` undoes it. Changes no document."""
    if status not in DuplicateStatus.values:
        raise ValueError(f"not a review status: {status!r}")
    reviewed = status != DuplicateStatus.OPEN
    flag.status = status
    flag.reviewed_by = user if reviewed and user.is_authenticated else None
    flag.reviewed_at = timezone.now() if reviewed else None
    flag.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    return flag


# --- Catching up ----------------------------------------------------------------------------


_PROCESSED = (
    Q(text__isnull=False)
    | Q(renditions__kind=RenditionKind.THUMBNAIL)
    | Q(page_hashes__isnull=False)
)


def processed_versions() -> QuerySet[Version]:
    """Versions with a text, page hashes or a first-page image, not expunged, oldest first."""
    live = Version.objects.filter(expunged_at__isnull=True, document__expunged_at__isnull=True)
    return live.filter(_PROCESSED).distinct().order_by("id")


def versions_to_fingerprint(*, missing_pages: bool = True) -> QuerySet[Version]:
    """Processed versions without a fingerprint, and (with `missing_pages`) those fingerprinted
    before their page images were there: made later, or hashed page by page later (a version
    processed before pages were hashed, then processed again)."""
    live = Version.objects.filter(expunged_at__isnull=True, document__expunged_at__isnull=True)
    todo = Q(duplicate_fingerprint__isnull=True) & _PROCESSED
    if missing_pages:
        todo |= Q(duplicate_fingerprint__page_checked=False) & (
            Q(renditions__kind=RenditionKind.THUMBNAIL) | Q(page_hashes__isnull=False)
        )
        todo |= Q(page_hashes__recorded_at__gt=F("duplicate_fingerprint__computed_at"))
    return live.filter(todo).distinct().order_by("id")


def count_open_flags() -> int:
    return DuplicateFlag.objects.filter(status=DuplicateStatus.OPEN).count()


def page_checked(version_id: int) -> bool:
    """Whether the version's fingerprint has seen its pages' images (or has none to see)."""
    return Fingerprint.objects.filter(version_id=version_id, page_checked=True).exists() or not (
        Fingerprint.objects.filter(version_id=version_id).exists()
    )


def forget_expunged() -> int:
    """Drop the fingerprints of expunged versions (what was derived from removed content goes
    with it); returns how many."""
    deleted, _ = Fingerprint.objects.filter(
        Q(version__expunged_at__isnull=False) | Q(document__expunged_at__isnull=False)
    ).delete()
    return deleted
