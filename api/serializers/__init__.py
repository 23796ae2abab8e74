"""What the API reads and writes. Field names are the integration vocabulary of issue #2.

One module a resource: `dossiers` (and the export's parameters), `case_events`, `documents` (a
document and its versions as read), `document_writes` (registering, new versions, changes),
`events`, `retention` (legal holds, the disposition queue), `search`; `validation` holds what
more than one of them checks. Views import this package.

A version's processing results (detected media type, page count, languages, metadata,
renditions) are the facts `dossier` records on it; `ingest.models` is read only for the
`processing` block, which shows how its run is going (presentation may show ingest's run state;
only the facts are for other subscribers)."""

from api.serializers.audit import AuditEntrySerializer
from api.serializers.case_events import CaseEventSerializer, CaseEventWriteSerializer
from api.serializers.document_writes import (
    DocumentPatchSerializer,
    DocumentRegisterSerializer,
    ExpungeSerializer,
    PaperOriginalRecordSerializer,
    RegistrationSerializer,
    VersionRestoreSerializer,
    VersionUploadSerializer,
)
from api.serializers.documents import (
    DocumentListItemSerializer,
    DocumentSerializer,
    PaperOriginalSerializer,
    ProcessingSerializer,
    RenditionSerializer,
    VersionSerializer,
    reader_context,
)
from api.serializers.dossiers import (
    DossierDetailSerializer,
    DossierSerializer,
    DossierWriteSerializer,
    ExportParamsSerializer,
    PriorityClaimSerializer,
    TextStatusSerializer,
)
from api.serializers.duplicates import (
    DuplicateFlagSerializer,
    DuplicateReviewSerializer,
    DuplicateSerializer,
)
from api.serializers.events import EventPageSerializer, EventSerializer
from api.serializers.marks import (
    SimilarMarkSerializer,
    SimilarMarksQuerySerializer,
    SimilarMarksSerializer,
)
from api.serializers.retention import (
    DispositionApprovalSerializer,
    DispositionItemSerializer,
    DispositionOutcomeSerializer,
    LegalHoldReleaseSerializer,
    LegalHoldSerializer,
    LegalHoldWriteSerializer,
)
from api.serializers.search import (
    DocumentFilterSerializer,
    FacetValueSerializer,
    SearchHitSerializer,
    SearchParamsSerializer,
    SearchResultSerializer,
    SearchStatusSerializer,
)
from api.serializers.validation import document_type, reject_nul_characters

__all__ = [
    "AuditEntrySerializer",
    "CaseEventSerializer",
    "CaseEventWriteSerializer",
    "DispositionApprovalSerializer",
    "DispositionItemSerializer",
    "DispositionOutcomeSerializer",
    "DocumentFilterSerializer",
    "DocumentListItemSerializer",
    "DocumentPatchSerializer",
    "DocumentRegisterSerializer",
    "DocumentSerializer",
    "DossierDetailSerializer",
    "DossierSerializer",
    "DossierWriteSerializer",
    "DuplicateFlagSerializer",
    "DuplicateReviewSerializer",
    "DuplicateSerializer",
    "EventPageSerializer",
    "EventSerializer",
    "ExportParamsSerializer",
    "ExpungeSerializer",
    "FacetValueSerializer",
    "LegalHoldReleaseSerializer",
    "LegalHoldSerializer",
    "LegalHoldWriteSerializer",
    "PaperOriginalRecordSerializer",
    "PaperOriginalSerializer",
    "PriorityClaimSerializer",
    "ProcessingSerializer",
    "RegistrationSerializer",
    "RenditionSerializer",
    "SearchHitSerializer",
    "SearchParamsSerializer",
    "SearchResultSerializer",
    "SearchStatusSerializer",
    "SimilarMarkSerializer",
    "SimilarMarksQuerySerializer",
    "SimilarMarksSerializer",
    "TextStatusSerializer",
    "VersionRestoreSerializer",
    "VersionSerializer",
    "VersionUploadSerializer",
    "document_type",
    "reader_context",
    "reject_nul_characters",
]
