"""The similarity app's models, one module per feature (the app grows by several hands)."""

from similarity.duplicate_models import (  # noqa: F401
    DuplicateFlag,
    DuplicateStatus,
    Fingerprint,
    FingerprintKey,
    MarkImage,
)
