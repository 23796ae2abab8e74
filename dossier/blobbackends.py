"""Where blob bytes live: `blob_backend()` picks the implementation once for the storage Django
builds from `STORAGES["blobs"]` — a `FileSystemStorage` (`dossier.blobs_filesystem`) or
django-storages' `S3Storage` (`dossier.blobs_s3`). The interface every implementation keeps, its
errors and the content keys are `dossier.blob_interface`'s.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, Storage, storages

from dossier.blob_interface import BlobBackend
from dossier.blobs_filesystem import FilesystemBlobs

_chosen: tuple[Storage, BlobBackend] | None = None


def blob_backend() -> BlobBackend:
    """The backend for `STORAGES["blobs"]`, chosen once per storage Django builds (Django builds
    a new one when the setting changes, as tests do)."""
    global _chosen
    storage = storages["blobs"]
    if _chosen is None or _chosen[0] is not storage:
        _chosen = (storage, _backend_for(storage))
    return _chosen[1]


def _backend_for(storage: Storage) -> BlobBackend:
    if isinstance(storage, FileSystemStorage):
        return FilesystemBlobs(storage)
    # Imported only when the blobs are not on the filesystem: boto3 adds ~17 MiB to each
    # process (web server, every worker), and the embedded default never uses it.
    from storages.backends.s3 import S3Storage

    if isinstance(storage, S3Storage):
        from dossier.blobs_s3 import S3Blobs

        return S3Blobs(storage)
    raise ImproperlyConfigured(
        f'STORAGES["blobs"]: {type(storage).__name__} is neither a FileSystemStorage nor an '
        "S3Storage, the two blob backends edms has."
    )
