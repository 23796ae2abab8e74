"""The domain model: dossiers, their documents and immutable versions (with what processing
found in them, and the renditions made from them), content-addressed blobs, the audit trail and
the outbox of domain events.

Rows are changed only through `dossier.actions` (what processing found, through
`dossier.processing_facts`); nothing here writes on its own.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.module_loading import import_string

from dossier.blobstore import ObjectLock, Promotion, StagedFile, promote, storage_key
from dossier.case_events import CaseEventKind
from dossier.lanes import Lane
from dossier.numbering import parse_file_number


class IpType(models.TextChoices):
    PATENT = "patent", "Patent"
    UTILITY_MODEL = "utility_model", "Utility model"
    TRADEMARK = "trademark", "Trademark"
    DESIGN = "design", "Industrial design"
    SPC = "spc", "Supplementary protection certificate"
    GI = "gi", "Geographical indication"


class Direction(models.TextChoices):
    IN = "in", "Incoming"
    OUT = "out", "Outgoing"
    INTERNAL = "internal", "Internal"


class Visibility(models.TextChoices):
    PUBLIC_AFTER_PUBLICATION = "public_after_publication", "Public after publication"
    PUBLIC = "public", "Public"
    CONFIDENTIAL = "confidential", "Confidential"
    INTERNAL = "internal", "Internal"


class Channel(models.TextChoices):
    COUNTER = "counter", "Counter"
    MAIL = "mail", "Mail"
    FAX = "fax", "Fax"
    EMAIL = "email", "E-mail"
    EFILING = "efiling", "E-filing"
    SCAN = "scan", "Scan of a legacy file"
    IMPORT = "import", "Import"
    DAS = "das", "DAS priority-document service"
    PCT = "pct", "PCT"
    MADRID = "madrid", "Madrid"
    HAGUE = "hague", "Hague"
    INTERNAL = "internal", "Internal"


class DocumentState(models.TextChoices):
    ACTIVE = "active", "Active"
    CANCELLED = "cancelled", "Cancelled"
    # Scanned documents wait for quality control before anyone but records staff sees them
    # and before the registry hears of them (see `scanning`).
    QC_PENDING = "qc_pending", "Awaiting quality control"
    QC_REJECTED = "qc_rejected", "Rejected in quality control"


# States of documents that are not (yet) part of the file wrapper: records staff only.
QC_STATES = (DocumentState.QC_PENDING, DocumentState.QC_REJECTED)


class Dossier(models.Model):
    """One IP case's electronic file wrapper, keyed by the registry's file number."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key = models.CharField(max_length=64, unique=True, help_text="Normalised file number (NFC).")
    raw_key = models.CharField(max_length=128, help_text="The file number as the registry sent it.")
    ip_type = models.CharField(max_length=20, choices=IpType.choices)
    title = models.TextField(blank=True)
    applicants = models.JSONField(default=list, blank=True)
    representatives = models.JSONField(default=list, blank=True)
    filing_date = models.DateField(null=True, blank=True)
    published_at = models.DateField(null=True, blank=True, help_text="Publication date.")
    registration_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=64, blank=True, help_text="Mirrored from the registry.")
    language = models.CharField(max_length=8, blank=True, help_text="Language of proceedings.")
    priority_claims = models.JSONField(default=list, blank=True)
    vienna_codes = models.JSONField(
        default=list,
        # Rows written by SQL (bulk loads, benchmarks) that do not name it get none too.
        db_default=[],
        blank=True,
        help_text="Vienna classification of the mark's figurative elements (dossier.vienna).",
    )
    secret = models.BooleanField(default=False, help_text="Secrecy order: overrides every rule.")
    paper_location = models.CharField(max_length=200, blank=True)
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        indexes = [
            models.Index(fields=["ip_type", "status"]),
            # The few secret dossiers, which every event-feed read excludes (`visible_events`):
            # a partial index keeps that lookup small however many dossiers there are.
            models.Index(
                fields=["key"], condition=models.Q(secret=True), name="dossier_secret_key"
            ),
        ]
        permissions = [("view_secret_dossier", "Can see dossiers under a secrecy order")]

    def __str__(self) -> str:
        return self.display_key

    @property
    def display_key(self) -> str:
        return parse_file_number(self.key).display

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class CaseEvent(models.Model):
    """One legal-status event of the case, as the registry reported it (`dossier.case_events`).

    Never changed or deleted: a correction is a new event. The dossier's `published_at` is
    derived from these (`actions.record_case_event` keeps it in step).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="case_events")
    kind = models.CharField(max_length=32, choices=CaseEventKind.choices)
    date = models.DateField(help_text="The day the event took legal effect.")
    wipo_code = models.CharField(
        max_length=8, blank=True, help_text="WIPO ST.27 / ST.61 / ST.87 category code."
    )
    note = models.TextField(blank=True)
    recorded_by = models.CharField(max_length=150)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date", "recorded_at"]
        indexes = [models.Index(fields=["dossier", "date"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.date} ({self.dossier_id})"


class DocumentType(models.Model):
    """An entry of the office's configurable table of document types, with its defaults."""

    code = models.CharField(max_length=20, primary_key=True)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    default_visibility = models.CharField(
        max_length=32, choices=Visibility.choices, default=Visibility.PUBLIC_AFTER_PUBLICATION
    )
    to_be_published = models.BooleanField(default=False)
    notify_registry = models.BooleanField(default=False)
    paper_original_expected = models.BooleanField(default=False)
    labels = models.JSONField(default=dict, help_text='Names by language: {"en": ..., "fr": ...}')
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} — {self.label()}"

    def label(self, language: str = "en") -> str:
        return self.labels.get(language) or self.labels.get("en") or self.code


# Named, not imported: fixity (it audits and announces a repair) builds on these models.
MARK_REPAIRED = "dossier.fixity.mark_repaired"


class BlobManager(models.Manager):
    def store(
        self,
        staged: StagedFile,
        *,
        media_type: str | None = None,
        actor=None,  # a `dossier.audit.Actor` (which builds on these models); None: the system
        keep_spool: bool = False,
        lock: ObjectLock | None = None,
    ) -> Blob:
        """Promote staged content to storage and return its blob row (created if new): the one
        way content is stored, for uploads and for what edms makes (text, renditions, scans).

        Deduplication onto a stored copy verifies that copy first (`blobstore.promote`): a
        missing or altered one is replaced by these bytes, hashed while they were spooled, and
        a blob marked corrupt is then repaired (served again, `blob.repaired` announced, by
        `actor`). `media_type` defaults to the sniffed type. The spool is used up, stored or
        not, unless `keep_spool` (the caller then discards it). `lock`: the S3 Object Lock the
        content is written with (`dossier.object_lock.lock_for`).
        """
        try:
            outcome = promote(staged, lock)
            blob, created = self.get_or_create(
                sha256=staged.sha256,
                defaults={"size": staged.size, "media_type": media_type or staged.media_type},
            )
        finally:
            if not keep_spool:
                staged.discard()
        if not created and blob.expunged_at is not None:
            # The same bytes filed anew after an expunge: stored again, for the new version only
            # (the expunged versions stay tombstones).
            Blob.objects.filter(pk=blob.pk).update(expunged_at=None)
            blob.expunged_at = None
        elif not created and (outcome is Promotion.REPLACED or blob.is_corrupt):
            import_string(MARK_REPAIRED)(blob, by="upload", actor=actor)
        return blob


class Blob(models.Model):
    """Stored content, addressed by its SHA-256; identical content is stored once."""

    objects = BlobManager()

    sha256 = models.CharField(max_length=64, primary_key=True)
    size = models.PositiveBigIntegerField()
    media_type = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    verified_at = models.DateTimeField(null=True, blank=True, help_text="Last good fixity check.")
    corrupt_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set when the stored copy was found missing or altered; it is not served "
        "until a new upload of the same bytes (or a good fixity check) repairs it.",
    )

    def __str__(self) -> str:
        return self.sha256

    expunged_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set when the content was removed from storage on purpose (an expunge): fixity "
        "does not report it missing.",
    )

    @property
    def is_corrupt(self) -> bool:
        return self.corrupt_since is not None

    @property
    def storage_key(self) -> str:
        return storage_key(self.sha256)


class Document(models.Model):
    """One logical paper of the file wrapper; its content lives in numbered versions."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="documents")
    doc_type = models.ForeignKey(
        DocumentType, on_delete=models.PROTECT, db_column="type_code", related_name="+"
    )
    direction = models.CharField(max_length=10, choices=Direction.choices)
    official_date = models.DateField(null=True, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    language = models.CharField(max_length=8, blank=True)
    title = models.CharField(max_length=500, blank=True)
    registry_id = models.CharField(max_length=100, blank=True, db_index=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="annexes"
    )
    visibility = models.CharField(max_length=32, choices=Visibility.choices)
    state = models.CharField(
        max_length=16, choices=DocumentState.choices, default=DocumentState.ACTIVE
    )
    cancel_reason = models.TextField(blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    latest_version = models.PositiveIntegerField(default=0)
    # Set when every version is expunged: the document stays as a tombstone, out of search and
    # of packages.
    expunged_at = models.DateTimeField(null=True, blank=True)
    # The paper original, once it has come in (`actions.record_paper_original`): the date it was
    # received, where it is kept, and a clerk's note. Empty while none has been received.
    paper_received_on = models.DateField(null=True, blank=True)
    paper_location = models.CharField(max_length=200, blank=True)
    paper_note = models.CharField(max_length=500, blank=True)
    # Personal data must be blacked out before the public reads it: until the latest version has
    # a redacted copy (`RenditionKind.REDACTED`) the public does not see the document at all
    # (`dossier.access`, `dossier.redaction`).
    redaction_required = models.BooleanField(default=False)
    revision = models.PositiveIntegerField(default=1, help_text="Bumped on every change.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["official_date", "created_at"]
        indexes = [
            models.Index(fields=["dossier", "official_date"]),
            # Documents held in quality control, which the event feed excludes for most readers
            # (`visible_events`): without it each feed read scans every document
            # (`python -m tests.bench.scale`).
            models.Index(
                fields=["id"],
                condition=models.Q(state__in=["qc_pending", "qc_rejected"]),
                name="document_held_in_qc",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.doc_type_id} {self.official_date or ''} ({self.id})"


class TextQuality(models.TextChoices):
    """What the text-quality gate found in a processed version's text: "ok", or a "warning"
    whose reason says what a person should know (garbled text, no text at all and why)."""

    OK = "ok", "Text checked"
    WARNING = "warning", "Text quality warning"


class Version(models.Model):
    """An immutable, numbered version of a document. A correction is a new version.

    Its content never changes; what processing found in it (the fields after `created_by`) is
    recorded when processing finishes and withdrawn when it starts afresh, only through
    `dossier.processing_facts`. Search, the API and the UI read these facts; how processing
    runs (its state, steps, leases) stays `ingest`'s own.
    """

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="versions")
    filename = models.CharField(max_length=255)
    media_type = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    detected_media_type = models.CharField(
        max_length=200, blank=True, help_text="Detected from content by processing."
    )
    page_count = models.PositiveIntegerField(null=True, blank=True)
    languages = models.JSONField(default=list, blank=True, help_text="ISO 639-1 codes.")
    metadata = models.JSONField(
        default=dict, blank=True, help_text="title, author, created, pdfa, encrypted"
    )
    # The extracted text, a content-addressed blob like originals (so list endpoints never
    # carry it): set only when processing finished done, so a version with a text is searchable.
    text = models.ForeignKey(
        Blob, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The text-quality gate's verdict ("" until processed): a version done with unreadable text,
    # or with none, says so and why, instead of a silent "done".
    quality = models.CharField(max_length=10, choices=TextQuality.choices, blank=True)
    quality_reason = models.TextField(blank=True)

    # An expunged version is a tombstone: its row keeps the digest (`blob`), and who removed its
    # content, when, why and on what authority; the content, text and renditions are gone.
    expunged_at = models.DateTimeField(null=True, blank=True)
    expunged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    expunge_reason = models.TextField(blank=True)
    expunge_reference = models.CharField(
        max_length=200, blank=True, help_text="The court order, decision or request it follows."
    )

    class Meta:
        ordering = ["document", "number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="version_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.document_id} v{self.number}"

    @property
    def sha256(self) -> str:
        return self.blob_id

    @property
    def size(self) -> int:
        return self.blob.size


class RenditionKind(models.TextChoices):
    PDFA = "pdfa", "Searchable PDF/A (OCR)"
    PDF = "pdf", "PDF for viewing"
    THUMBNAIL = "thumbnail", "First-page thumbnail"
    # Uploaded by staff, not made by processing (`actions.store_redacted_copy`): a flattened PDF
    # with personal data blacked out, and the text extracted from it. The public reads these
    # instead of the original and its text (`dossier.redaction`); reprocessing keeps them.
    REDACTED = "redacted", "Redacted copy for the public"
    REDACTED_TEXT = "redacted_text", "Text of the redacted copy"


# Renditions people make (never regenerated, so never withdrawn when a version is reprocessed).
UPLOADED_RENDITIONS = (RenditionKind.REDACTED, RenditionKind.REDACTED_TEXT)


class Rendition(models.Model):
    """A file made from a version by processing (never replacing its original): content-addressed
    like originals, and regenerable, so reprocessing replaces it. Written only through
    `dossier.processing_facts`."""

    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="renditions")
    kind = models.CharField(max_length=16, choices=RenditionKind.choices)
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    media_type = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Made by `ingest` before renditions were domain facts: the table kept its name.
        db_table = "ingest_rendition"
        ordering = ["version", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["version", "kind"], name="rendition_kind_unique")
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.kind}"


class PageHashes(models.Model):
    """The perceptual hash of each page of a version (`dossier.page_hashes`; up to a cap), made by
    processing in its sandbox with the renditions, for the near-duplicate check: a re-filing with
    a new cover page, or a scan of a PDF, shares the later pages. Derived from the content like a
    rendition: recorded and withdrawn only through `dossier.processing_facts`, gone with an
    expunge. A table of its own, so that version rows stay small."""

    version = models.OneToOneField(Version, on_delete=models.CASCADE, related_name="page_hashes")
    # 64 hex digits a page, in page order; null for a blank page (all blank pages are alike).
    hashes = models.JSONField(default=list)
    # How many pages the version has: more than `len(hashes)` when the cap cut it short.
    pages = models.PositiveIntegerField()
    # When they were last recorded: a near-duplicate fingerprint older than that is redone.
    recorded_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"page hashes of {self.version}"


class LegalHold(models.Model):
    """A litigation or investigation hold on a whole dossier (`document` empty) or one document:
    until it is released, retention never disposes of what it covers and expunge refuses it
    (`actions.place_legal_hold`, `actions.release_legal_hold`). Rows are never deleted: a
    released hold stays, with who released it, when and why."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="legal_holds")
    document = models.ForeignKey(
        Document, on_delete=models.PROTECT, null=True, blank=True, related_name="legal_holds"
    )
    reason = models.TextField()
    reference = models.CharField(max_length=200, help_text="Court case, order or request.")
    placed_by = models.CharField(max_length=150)
    placed_at = models.DateTimeField()
    released_by = models.CharField(max_length=150, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-placed_at"]
        indexes = [models.Index(fields=["dossier", "released_at"])]

    def __str__(self) -> str:
        return f"hold {self.reference} on {self.document_id or self.dossier_id}"

    @property
    def active(self) -> bool:
        return self.released_at is None


class AuditEvent(models.Model):
    """Who did what to which object, when, from where. Written by every action and download."""

    # Set before the row is hashed (see dossier.audit_chain), so not `auto_now_add`.
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The actor's user id as written: the foreign key turns null when the user is deleted, and
    # the chain's hash must not change with it.
    actor_ref = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=40, db_index=True)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64)
    dossier_key = models.CharField(max_length=64, blank=True, db_index=True)
    request_id = models.CharField(max_length=64, blank=True)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    # The tamper-evident chain (dossier.audit_chain): the row's place in the one chain, the hash
    # of the row before it and the hash of its own canonical content joined to that one. Null
    # only for rows written with EDMS_AUDIT_CHAIN off (the benchmark's baseline).
    seq = models.BigIntegerField(null=True, blank=True, unique=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    row_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.object_id}"


class AuditChainHead(models.Model):
    """The chain's last row (one row, id 1): locked by every writer of an audit row inside its
    transaction, so that the row and the head move together (no forks, no gaps)."""

    seq = models.BigIntegerField(default=0)
    row_hash = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"audit chain head {self.seq}"


class AuditCheckpoint(models.Model):
    """A signed statement that the chain's row `seq` has the hash `head_hash` (Ed25519, by the
    key EDMS_AUDIT_SIGNING_KEY): rows up to it cannot be rewritten without the key."""

    seq = models.BigIntegerField(db_index=True)
    head_hash = models.CharField(max_length=64)
    at = models.DateTimeField()
    key_id = models.CharField(max_length=16)  # the first hex digits of the public key's SHA-256
    signature = models.CharField(max_length=100)  # base64

    class Meta:
        ordering = ["-seq", "-id"]

    def __str__(self) -> str:
        return f"audit checkpoint {self.seq} {self.head_hash[:12]}"


class EventKind(models.TextChoices):
    DOSSIER_CREATED = "dossier.created"
    DOSSIER_UPDATED = "dossier.updated"
    DOCUMENT_REGISTERED = "document.registered"
    VERSION_ADDED = "document.version_added"
    DOCUMENT_UPDATED = "document.updated"
    DOCUMENT_CANCELLED = "document.cancelled"
    # Ingestion finished a version (text extracted, or failed): appended by `ingest`.
    DOCUMENT_PROCESSED = "document.processed"
    # A version's stored content was found missing or altered, and later restored: appended by
    # `dossier.fixity`, one per document version whose content it is.
    BLOB_CORRUPTED = "blob.corrupted"
    BLOB_REPAIRED = "blob.repaired"
    # Versions' content removed on purpose (court order, erasure): appended by the expunge action.
    DOCUMENT_EXPUNGED = "document.expunged"
    # The registry recorded a legal-status event (publication, grant, withdrawal, ...) on the
    # dossier: publication events change what the public may read.
    CASE_EVENT = "dossier.case_event"
    # A redacted copy of a version, for the public, was stored (`actions.store_redacted_copy`).
    REDACTED_COPY_STORED = "document.redacted_copy_stored"
    # A legal hold was placed on the dossier or one of its documents, or released
    # (`actions.place_legal_hold`): while it holds, nothing of it is disposed of or expunged.
    LEGAL_HOLD_PLACED = "dossier.legal_hold_placed"
    LEGAL_HOLD_RELEASED = "dossier.legal_hold_released"


class Event(models.Model):
    """The outbox of domain events, written in the same transaction as the change.

    Its id is the change feed's cursor. Writers serialise on a lock while appending (see
    `dossier.events`), so ids become visible in increasing order and a poller that asks for
    `after=<last id>` never skips one.
    """

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=40, choices=EventKind.choices)
    at = models.DateTimeField(auto_now_add=True)
    dossier_key = models.CharField(max_length=64, db_index=True)
    document_id = models.UUIDField(null=True, blank=True)
    version = models.PositiveIntegerField(null=True, blank=True)
    payload = models.JSONField(default=dict)
    # The lane the change was made in (see `dossier.lanes`): subscribers queue follow-up work in
    # it. Internal routing, not part of the registry's feed.
    lane = models.CharField(max_length=12, choices=Lane.choices, default=Lane.INTERACTIVE)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.id} {self.kind} {self.dossier_key}"


class SubscriberCursor(models.Model):
    """How far each event subscriber has been handed events (see `dossier.events`)."""

    name = models.CharField(max_length=200, primary_key=True)
    last_event_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_event_id}"


class FixityPass(models.Model):
    """One run of `edms fixity` (a scheduled share or a whole check): what it checked and what
    it found, for the operations page and the admin (see `dossier.fixity.run_pass`)."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    # The cycle the share was picked for (`--cycle-days`); null for a check of every blob.
    cycle_days = models.PositiveIntegerField(null=True, blank=True)
    checked = models.PositiveIntegerField(default=0)
    checked_bytes = models.PositiveBigIntegerField(default=0)
    # Blobs still due when the pass stopped at its byte or time bound (0: the share was done).
    left_due = models.PositiveIntegerField(default=0)
    # [{"sha256", "problem", "detail"}] for each blob found missing or altered.
    bad = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name_plural = "fixity passes"

    def __str__(self) -> str:
        return f"fixity pass {self.started_at:%Y-%m-%d %H:%M}: {self.checked} checked"
