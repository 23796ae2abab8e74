"""API-side records: the keys integrated systems authenticate with, idempotency records, and
upload sessions."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone

from dossier.roles import Role

KEY_PREFIX = "edms"


def hash_secret(secret: str) -> str:
    # Keys are 256-bit random strings, so one SHA-256 is enough; a slow hash guards low-entropy
    # human passwords, which these are not.
    return hashlib.sha256(secret.encode()).hexdigest()


class NotAServiceUser(Exception):
    """The name of a new API key's service user is taken by a person's account."""


def is_service_user(user) -> bool:
    """Whether `user` is an account made for API keys rather than a person's: a person's account
    has a password, staff or superuser status, or has logged in."""
    return not (user.is_superuser or user.is_staff or user.has_usable_password() or user.last_login)


def service_user(name: str):
    """The service user an API key named `name` acts as: an earlier key's, or a new one (no
    password, no login). Raises `NotAServiceUser` if `name` is a person's account."""
    users = get_user_model()
    user = users.objects.filter(username=name).first()
    if user is None:
        return users.objects.create_user(username=name)  # no password: it cannot log in
    if not is_service_user(user):
        raise NotAServiceUser(
            f"the user {name!r} is a person's account (a password, staff or superuser status, "
            "or a login): an API key acts as a service user of its own; choose another name"
        )
    return user


class ApiKey(models.Model):
    """A named credential of one integrated system (e.g. `ipas`), acting as its service user.

    Only the hash of the key is stored; the key itself is shown once, when it is created.
    """

    name = models.CharField(max_length=100, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    role = models.CharField(
        max_length=20, choices=[(r.value, r.value) for r in Role if r != Role.PUBLIC]
    )
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"

    @staticmethod
    def generate() -> tuple[str, str, str]:
        """A new (key, prefix, hash). The key reads `edms_<prefix>_<secret>`."""
        prefix = secrets.token_hex(4)
        key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
        return key, prefix, hash_secret(key)

    @classmethod
    def create(cls, name: str, role: Role, user=None) -> tuple[ApiKey, str]:
        """Create a key (and its service user, in the role's group). Returns (row, the key).

        Without `user`, the key acts as the service user named like it: made now, or an earlier
        key's; `NotAServiceUser` if the name is a person's account (never given a key behind
        their back, nor a role).
        """
        if user is None:
            user = service_user(name)
        if role != Role.ADMIN:
            user.groups.add(Group.objects.get(name=role.value))
        key, prefix, key_hash = cls.generate()
        api_key = cls.objects.create(
            name=name, user=user, role=role.value, prefix=prefix, key_hash=key_hash
        )
        return api_key, key

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])


class IdempotencyRecord(models.Model):
    """The first response to a request sent with an `Idempotency-Key`, replayed on retries."""

    owner = models.CharField(max_length=200, help_text="Who sent the key (keys are per caller).")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64, help_text="Digest of the request's meaning.")
    method = models.CharField(max_length=10)
    path = models.TextField()
    completed = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.owner}:{self.key}"


class AbstractUpload(models.Model):
    """What every upload session holds: what its file becomes, when it expires and, once the
    content was filed or refused, its outcome (`api.upload_filing`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    length = models.BigIntegerField()
    filename = models.CharField(max_length=255)
    media_type = models.CharField(max_length=255, blank=True)
    # The target: a dossier and a document type for a new document, or a document's next version.
    dossier_key = models.CharField(max_length=100, blank=True)
    doc_type = models.CharField(max_length=20, blank=True)
    document_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    # The outcome: what was filed, or why nothing was.
    completed_at = models.DateTimeField(null=True, blank=True)
    filed_document_id = models.UUIDField(null=True, blank=True)
    filed_version = models.PositiveIntegerField(null=True, blank=True)
    failure = models.JSONField(null=True, blank=True)  # {"slug", "detail", "field", "extra"}

    class Meta:
        abstract = True

    @property
    def expired(self) -> bool:
        return self.expires_at <= timezone.now()

    def record_outcome(self, **fields) -> None:
        """Complete the session with its outcome: `filed_document_id` and `filed_version`, or
        `failure`."""
        self.completed_at = timezone.now()
        for name, value in fields.items():
            setattr(self, name, value)
        self.save(update_fields=["completed_at", *fields])


class UploadSession(AbstractUpload):
    """A resumable (tus) upload in progress: what it is for, how far it got, where its bytes are.

    The bytes go to a spool file as they arrive; once `offset` reaches `length` the content is
    filed through the filing actions (a new document, or a new version of `document_id`). The
    spool is then deleted but the session stays, `completed_at` set, with its outcome (the
    filed document and version, or the `failure` problem): a client whose answer to the last
    PATCH was lost asks again and learns it, instead of filing the file twice. Sessions past
    `expires_at`, completed or not, are deleted with their spool by `edms sweep`
    (`api.resumable.delete_expired`).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="upload_sessions"
    )
    offset = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)  # optional for a tus upload
    spool_path = models.CharField(max_length=1000)

    def __str__(self) -> str:
        return f"upload {self.id} ({self.offset}/{self.length})"


class PartUploadSession(AbstractUpload):
    """An upload whose content arrives in numbered parts, each PUT to a URL of its own
    (`api.upload_sessions`): on S3 a pre-signed `UploadPart` URL of a multipart upload under
    `staged_key` (`multipart_id`), the bytes going straight to the bucket; on the filesystem
    a signed URL of edms that writes the part into `spool_path` at its offset.

    A commit checks that every part arrived, hashes the whole content once and files it
    (a new document, or a new version of `document_id`), refused when it is not `sha256`. The
    session then keeps its outcome (the filed document and version, or the `failure` problem)
    until `expires_at`, so a repeated commit answers the same and never files twice. Sessions
    past `expires_at` are aborted and deleted by `edms sweep`.
    """

    STORE_S3 = "s3"
    STORE_FILESYSTEM = "filesystem"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="part_upload_sessions"
    )
    part_size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)  # required for an upload in parts
    # Where the parts go: the blob store's bucket (S3) or a local spool file.
    store = models.CharField(max_length=20)
    spool_path = models.CharField(max_length=1000, blank=True)
    received_parts = models.JSONField(default=list, blank=True)  # filesystem: part numbers
    staged_key = models.CharField(max_length=1000, blank=True)
    multipart_id = models.CharField(max_length=1000, blank=True)
    assembled = models.BooleanField(default=False)  # S3: the parts are one staged object now
    # Set while a commit runs (a second one meanwhile is refused, parts too).
    committing_since = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"upload session {self.id} ({self.length} bytes, {self.store})"

    def record_outcome(self, **fields) -> None:
        super().record_outcome(committing_since=None, **fields)  # the commit is over

    @property
    def part_count(self) -> int:
        return -(-self.length // self.part_size)

    def parts(self) -> list[PartSpec]:
        """Every part: its number (from 1), where it starts in the file, its size."""
        size = self.part_size
        return [
            PartSpec(number, (number - 1) * size, min(size, self.length - (number - 1) * size))
            for number in range(1, self.part_count + 1)
        ]


@dataclass(frozen=True)
class PartSpec:
    number: int
    offset: int
    size: int
