"""Labels the templates translate from model choices and processing states.

The models keep plain English labels (the API shows those); listing them here with
`gettext_noop` lets `makemessages` collect them for the UI's catalogues.
"""

from django.utils.translation import gettext_noop

CHOICE_LABELS = (
    # IpType
    gettext_noop("Patent"),
    gettext_noop("Utility model"),
    gettext_noop("Trademark"),
    gettext_noop("Industrial design"),
    gettext_noop("Supplementary protection certificate"),
    gettext_noop("Geographical indication"),
    # Direction
    gettext_noop("Incoming"),
    gettext_noop("Outgoing"),
    gettext_noop("Internal"),
    # Visibility
    gettext_noop("Public after publication"),
    gettext_noop("Public"),
    gettext_noop("Confidential"),
    # Processing states (ingest.models.State values)
    gettext_noop("pending"),
    gettext_noop("running"),
    gettext_noop("done"),
    gettext_noop("failed"),
    # ... and once the search index holds the processed document
    gettext_noop("searchable"),
    # Scan batch states (scanning.models.BatchState labels)
    gettext_noop("Queued"),
    gettext_noop("Splitting"),
    gettext_noop("Waiting for quality control"),
    gettext_noop("Done"),
    gettext_noop("Failed"),
    # Scanned part states (scanning.models.PartState labels)
    gettext_noop("Unassigned"),
    gettext_noop("Approved"),
    gettext_noop("Rejected"),
    gettext_noop("Merged into another part"),
    gettext_noop("Set aside as blank"),
)
