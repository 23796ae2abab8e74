"""Starting table of document types, seeded into the database by a data migration.

Every IP office classifies the papers of a file wrapper (request, claims, office actions, replies,
fee receipts ...) with its own table of document types. edms ships the common starting table
described in DOMAIN.md so that a fresh installation is usable at once; a data migration copies
these entries into the ``DocumentType`` table, and from then on the database is the source of
truth: offices rename, retire and add their own types (and map them to their registry's codes) in
the admin. This module is therefore pure data with no Django imports, so the migration can freeze
it and tests can read it without a configured project.

Each entry carries the type's defaults: direction, default visibility, whether the office
publishes it, whether the registry system must be notified when one arrives, whether a paper
original is expected, and labels in English, French, Spanish and Arabic.

Long on purpose: it is one table, an entry a type, read (and reviewed) as a whole; split into
files it would only be concatenated again.
"""

from dataclasses import dataclass

DIRECTIONS = ("in", "out", "internal")
VISIBILITIES = ("public_after_publication", "public", "confidential", "internal")
LABEL_LANGUAGES = ("en", "fr", "es", "ar")


@dataclass(frozen=True)
class DocumentTypeSeed:
    """Defaults for one document type of the starting table."""

    code: str
    direction: str
    visibility: str
    to_be_published: bool
    notify_registry: bool
    paper_original_expected: bool
    labels: dict[str, str]

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"{self.code}: unknown direction {self.direction!r}")
        if self.visibility not in VISIBILITIES:
            raise ValueError(f"{self.code}: unknown visibility {self.visibility!r}")
        if set(self.labels) != set(LABEL_LANGUAGES):
            raise ValueError(f"{self.code}: labels must be exactly {LABEL_LANGUAGES}")


DOCUMENT_TYPES: tuple[DocumentTypeSeed, ...] = (
    # ---- Incoming -------------------------------------------------------------------------------
    DocumentTypeSeed(
        code="REQ",
        direction="in",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Request / application form",
            "fr": "Requête / formulaire de demande",
            "es": "Petitorio / formulario de solicitud",
            "ar": "عريضة الطلب / استمارة الطلب",
        },
    ),
    DocumentTypeSeed(
        code="DESC",
        direction="in",
        visibility="public_after_publication",
        to_be_published=True,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Description",
            "fr": "Description",
            "es": "Descripción",
            "ar": "الوصف",
        },
    ),
    DocumentTypeSeed(
        code="CLM",
        direction="in",
        visibility="public_after_publication",
        to_be_published=True,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Claims",
            "fr": "Revendications",
            "es": "Reivindicaciones",
            "ar": "عناصر الحماية",
        },
    ),
    DocumentTypeSeed(
        code="ABST",
        direction="in",
        visibility="public_after_publication",
        to_be_published=True,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Abstract",
            "fr": "Abrégé",
            "es": "Resumen",
            "ar": "الملخص",
        },
    ),
    DocumentTypeSeed(
        code="DRW",
        direction="in",
        visibility="public_after_publication",
        to_be_published=True,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Drawings",
            "fr": "Dessins",
            "es": "Dibujos",
            "ar": "الرسوم",
        },
    ),
    DocumentTypeSeed(
        # Sequence listings must be filed in electronic form (WIPO ST.26), never on paper.
        code="SEQL",
        direction="in",
        visibility="public_after_publication",
        to_be_published=True,
        notify_registry=True,
        paper_original_expected=False,
        labels={
            "en": "Sequence listing",
            "fr": "Listage des séquences",
            "es": "Lista de secuencias",
            "ar": "قائمة التسلسل",
        },
    ),
    DocumentTypeSeed(
        code="MARK",
        direction="in",
        visibility="public_after_publication",
        to_be_published=True,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Mark representation",
            "fr": "Reproduction de la marque",
            "es": "Reproducción de la marca",
            "ar": "صورة العلامة",
        },
    ),
    DocumentTypeSeed(
        code="GS",
        direction="in",
        visibility="public_after_publication",
        to_be_published=True,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "List of goods and services",
            "fr": "Liste des produits et services",
            "es": "Lista de productos y servicios",
            "ar": "قائمة السلع والخدمات",
        },
    ),
    DocumentTypeSeed(
        code="SPEC-USE",
        direction="in",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Specimen of use",
            "fr": "Spécimen d'usage",
            "es": "Muestra de uso",
            "ar": "عينة الاستعمال",
        },
    ),
    DocumentTypeSeed(
        code="DREP",
        direction="in",
        visibility="public_after_publication",
        to_be_published=True,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Design reproductions",
            "fr": "Reproductions du dessin ou modèle",
            "es": "Reproducciones del diseño",
            "ar": "صور التصميم",
        },
    ),
    DocumentTypeSeed(
        code="PRIO",
        direction="in",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Priority document",
            "fr": "Document de priorité",
            "es": "Documento de prioridad",
            "ar": "وثيقة الأولوية",
        },
    ),
    DocumentTypeSeed(
        code="PRIO-TR",
        direction="in",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Translation of the priority document",
            "fr": "Traduction du document de priorité",
            "es": "Traducción del documento de prioridad",
            "ar": "ترجمة وثيقة الأولوية",
        },
    ),
    DocumentTypeSeed(
        code="TRANS",
        direction="in",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Translation",
            "fr": "Traduction",
            "es": "Traducción",
            "ar": "الترجمة",
        },
    ),
    DocumentTypeSeed(
        code="POA",
        direction="in",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Power of attorney",
            "fr": "Pouvoir",
            "es": "Poder",
            "ar": "التوكيل",
        },
    ),
    DocumentTypeSeed(
        # A waived inventor designation is excluded per document, not by type default.
        code="INV",
        direction="in",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Designation of inventor",
            "fr": "Désignation de l'inventeur",
            "es": "Designación del inventor",
            "ar": "تعيين المخترع",
        },
    ),
    DocumentTypeSeed(
        code="ENTITLE",
        direction="in",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Assignment / entitlement",
            "fr": "Cession / justification du droit",
            "es": "Cesión / justificación del derecho",
            "ar": "التنازل / إثبات الحق",
        },
    ),
    DocumentTypeSeed(
        # Payment data (bank, card, account details) is never open to public inspection.
        code="FEE",
        direction="in",
        visibility="confidential",
        to_be_published=False,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Fee payment",
            "fr": "Paiement de taxes",
            "es": "Pago de tasas",
            "ar": "دفع الرسوم",
        },
    ),
    DocumentTypeSeed(
        code="NPH",
        direction="in",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "PCT national phase entry",
            "fr": "Ouverture de la phase nationale (PCT)",
            "es": "Entrada en la fase nacional (PCT)",
            "ar": "الدخول في المرحلة الوطنية (معاهدة التعاون بشأن البراءات)",
        },
    ),
    DocumentTypeSeed(
        code="FORMAL-R",
        direction="in",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Reply to formalities notice",
            "fr": "Réponse à la notification d'irrégularités de forme",
            "es": "Contestación al requerimiento de forma",
            "ar": "الرد على إخطار الفحص الشكلي",
        },
    ),
    DocumentTypeSeed(
        code="RESP",
        direction="in",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Response / arguments",
            "fr": "Réponse / observations",
            "es": "Contestación / alegaciones",
            "ar": "الرد / الحجج",
        },
    ),
    DocumentTypeSeed(
        code="AMD",
        direction="in",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Amendment",
            "fr": "Modification",
            "es": "Modificación",
            "ar": "التعديل",
        },
    ),
    DocumentTypeSeed(
        code="EXT",
        direction="in",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Request for extension of time",
            "fr": "Demande de prorogation de délai",
            "es": "Solicitud de prórroga de plazo",
            "ar": "طلب تمديد المهلة",
        },
    ),
    DocumentTypeSeed(
        code="EXAM-REQ",
        direction="in",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Request for examination",
            "fr": "Requête en examen",
            "es": "Petición de examen",
            "ar": "طلب الفحص",
        },
    ),
    DocumentTypeSeed(
        code="IDS",
        direction="in",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Applicant's citations",
            "fr": "Citations du demandeur",
            "es": "Citas del solicitante",
            "ar": "الاستشهادات المقدمة من مودع الطلب",
        },
    ),
    DocumentTypeSeed(
        code="OPPO",
        direction="in",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Opposition",
            "fr": "Opposition",
            "es": "Oposición",
            "ar": "الاعتراض",
        },
    ),
    DocumentTypeSeed(
        # Third-party observations are always open to public inspection.
        code="OBS-3P",
        direction="in",
        visibility="public",
        to_be_published=False,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Third-party observations",
            "fr": "Observations de tiers",
            "es": "Observaciones de terceros",
            "ar": "ملاحظات الغير",
        },
    ),
    DocumentTypeSeed(
        code="APPEAL",
        direction="in",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Appeal",
            "fr": "Recours",
            "es": "Recurso",
            "ar": "الطعن",
        },
    ),
    DocumentTypeSeed(
        code="PET",
        direction="in",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Petition",
            "fr": "Pétition",
            "es": "Petición",
            "ar": "الالتماس",
        },
    ),
    DocumentTypeSeed(
        code="RENEW",
        direction="in",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Renewal",
            "fr": "Renouvellement",
            "es": "Renovación",
            "ar": "التجديد",
        },
    ),
    DocumentTypeSeed(
        code="RECORDAL",
        direction="in",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Recordal (change of owner, name, licence)",
            "fr": "Inscription (changement de titulaire, de nom, licence)",
            "es": "Inscripción (cambio de titular, de nombre, licencia)",
            "ar": "قيد تغيير (المالك، الاسم، الترخيص)",
        },
    ),
    DocumentTypeSeed(
        code="LETTER",
        direction="in",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=True,
        paper_original_expected=True,
        labels={
            "en": "Correspondence (incoming)",
            "fr": "Correspondance (entrante)",
            "es": "Correspondencia (entrante)",
            "ar": "مراسلة واردة",
        },
    ),
    # ---- Outgoing -------------------------------------------------------------------------------
    DocumentTypeSeed(
        code="RCPT",
        direction="out",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=False,
        paper_original_expected=False,
        labels={
            "en": "Filing receipt",
            "fr": "Récépissé de dépôt",
            "es": "Acuse de recibo de la solicitud",
            "ar": "إيصال الإيداع",
        },
    ),
    DocumentTypeSeed(
        code="FORMAL",
        direction="out",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=False,
        paper_original_expected=False,
        labels={
            "en": "Formalities notice",
            "fr": "Notification d'irrégularités de forme",
            "es": "Requerimiento de forma",
            "ar": "إخطار الفحص الشكلي",
        },
    ),
    DocumentTypeSeed(
        code="SR",
        direction="out",
        visibility="public_after_publication",
        to_be_published=True,
        notify_registry=False,
        paper_original_expected=False,
        labels={
            "en": "Search report",
            "fr": "Rapport de recherche",
            "es": "Informe de búsqueda",
            "ar": "تقرير البحث",
        },
    ),
    DocumentTypeSeed(
        code="SO",
        direction="out",
        visibility="public_after_publication",
        to_be_published=True,
        notify_registry=False,
        paper_original_expected=False,
        labels={
            "en": "Search opinion",
            "fr": "Opinion écrite sur la recherche",
            "es": "Opinión escrita sobre la búsqueda",
            "ar": "الرأي المكتوب بشأن البحث",
        },
    ),
    DocumentTypeSeed(
        code="OA",
        direction="out",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=False,
        paper_original_expected=False,
        labels={
            "en": "Office action",
            "fr": "Notification d'examen",
            "es": "Notificación de examen",
            "ar": "تقرير الفحص",
        },
    ),
    DocumentTypeSeed(
        code="OA-F",
        direction="out",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=False,
        paper_original_expected=False,
        labels={
            "en": "Final rejection",
            "fr": "Rejet final",
            "es": "Rechazo final",
            "ar": "الرفض النهائي",
        },
    ),
    DocumentTypeSeed(
        code="UNITY",
        direction="out",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=False,
        paper_original_expected=False,
        labels={
            "en": "Lack of unity of invention",
            "fr": "Absence d'unité de l'invention",
            "es": "Falta de unidad de la invención",
            "ar": "عدم وحدة الاختراع",
        },
    ),
    DocumentTypeSeed(
        code="CIT",
        direction="out",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=False,
        paper_original_expected=False,
        labels={
            "en": "Citations",
            "fr": "Documents cités",
            "es": "Documentos citados",
            "ar": "الوثائق المستشهد بها",
        },
    ),
    DocumentTypeSeed(
        code="INTV",
        direction="out",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=False,
        paper_original_expected=False,
        labels={
            "en": "Interview record",
            "fr": "Compte rendu d'entretien",
            "es": "Acta de entrevista",
            "ar": "محضر المقابلة",
        },
    ),
    DocumentTypeSeed(
        code="ALLOW",
        direction="out",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=False,
        paper_original_expected=False,
        labels={
            "en": "Intention to grant",
            "fr": "Notification de l'intention de délivrer",
            "es": "Notificación de la intención de conceder",
            "ar": "إخطار بنية المنح",
        },
    ),
    DocumentTypeSeed(
        code="GRANT",
        direction="out",
        visibility="public_after_publication",
        to_be_published=True,
        notify_registry=False,
        paper_original_expected=False,
        labels={
            "en": "Decision to grant / register",
            "fr": "Décision de délivrance / d'enregistrement",
            "es": "Resolución de concesión / registro",
            "ar": "قرار المنح / التسجيل",
        },
    ),
    DocumentTypeSeed(
        code="REFUSE",
        direction="out",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=False,
        paper_original_expected=False,
        labels={
            "en": "Refusal",
            "fr": "Décision de rejet",
            "es": "Resolución de denegación",
            "ar": "قرار الرفض",
        },
    ),
    DocumentTypeSeed(
        code="PUBN",
        direction="out",
        visibility="public_after_publication",
        to_be_published=True,
        notify_registry=False,
        paper_original_expected=False,
        labels={
            "en": "Publication notice",
            "fr": "Avis de publication",
            "es": "Aviso de publicación",
            "ar": "إشعار النشر",
        },
    ),
    DocumentTypeSeed(
        code="CERT",
        direction="out",
        visibility="public_after_publication",
        to_be_published=True,
        notify_registry=False,
        paper_original_expected=False,
        labels={
            "en": "Registration certificate",
            "fr": "Certificat d'enregistrement",
            "es": "Certificado de registro",
            "ar": "شهادة التسجيل",
        },
    ),
    DocumentTypeSeed(
        code="LETTER-O",
        direction="out",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=False,
        paper_original_expected=False,
        labels={
            "en": "Correspondence (outgoing)",
            "fr": "Correspondance (sortante)",
            "es": "Correspondencia (saliente)",
            "ar": "مراسلة صادرة",
        },
    ),
    DocumentTypeSeed(
        code="ABAND",
        direction="out",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=False,
        paper_original_expected=False,
        labels={
            "en": "Abandonment",
            "fr": "Abandon",
            "es": "Abandono",
            "ar": "التخلي عن الطلب",
        },
    ),
    # ---- Either way (seeded as incoming; WIPO sends these electronically) ----------------------
    DocumentTypeSeed(
        code="MADRID",
        direction="in",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=True,
        paper_original_expected=False,
        labels={
            "en": "Madrid notification",
            "fr": "Notification (système de Madrid)",
            "es": "Notificación (sistema de Madrid)",
            "ar": "إخطار (نظام مدريد)",
        },
    ),
    DocumentTypeSeed(
        code="HAGUE",
        direction="in",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=True,
        paper_original_expected=False,
        labels={
            "en": "Hague notification",
            "fr": "Notification (système de La Haye)",
            "es": "Notificación (sistema de La Haya)",
            "ar": "إخطار (نظام لاهاي)",
        },
    ),
    DocumentTypeSeed(
        code="PCT-IB",
        direction="in",
        visibility="public_after_publication",
        to_be_published=False,
        notify_registry=True,
        paper_original_expected=False,
        labels={
            "en": "PCT notification (International Bureau)",
            "fr": "Notification PCT (Bureau international)",
            "es": "Notificación PCT (Oficina Internacional)",
            "ar": "إخطار معاهدة التعاون بشأن البراءات (المكتب الدولي)",
        },
    ),
    # ---- Internal -------------------------------------------------------------------------------
    DocumentTypeSeed(
        code="BIB",
        direction="internal",
        visibility="internal",
        to_be_published=False,
        notify_registry=False,
        paper_original_expected=False,
        labels={
            "en": "Bibliographic data sheet",
            "fr": "Fiche bibliographique",
            "es": "Hoja de datos bibliográficos",
            "ar": "صحيفة البيانات الببليوغرافية",
        },
    ),
    DocumentTypeSeed(
        # Internal by default; offices that publish search notes change this in the admin.
        code="SRCH-NOTE",
        direction="internal",
        visibility="internal",
        to_be_published=False,
        notify_registry=False,
        paper_original_expected=False,
        labels={
            "en": "Examiner search notes",
            "fr": "Notes de recherche de l'examinateur",
            "es": "Notas de búsqueda del examinador",
            "ar": "ملاحظات البحث الخاصة بالفاحص",
        },
    ),
    DocumentTypeSeed(
        code="DRAFT",
        direction="internal",
        visibility="internal",
        to_be_published=False,
        notify_registry=False,
        paper_original_expected=False,
        labels={
            "en": "Draft / internal memo",
            "fr": "Projet / note interne",
            "es": "Borrador / nota interna",
            "ar": "مسودة / مذكرة داخلية",
        },
    ),
    DocumentTypeSeed(
        # Excluded on a reasoned request (personal or commercial secrets, medical papers, recusal).
        code="EXCL",
        direction="internal",
        visibility="confidential",
        to_be_published=False,
        notify_registry=False,
        paper_original_expected=False,
        labels={
            "en": "Item excluded from file inspection",
            "fr": "Pièce exclue de l'inspection publique",
            "es": "Documento excluido de la consulta pública",
            "ar": "وثيقة مستبعدة من الاطلاع العام",
        },
    ),
    DocumentTypeSeed(
        code="ARTIFACT",
        direction="internal",
        visibility="internal",
        to_be_published=False,
        notify_registry=False,
        paper_original_expected=False,
        labels={
            "en": "Placeholder for an item that cannot be scanned",
            "fr": "Fiche de substitution pour pièce non numérisable",
            "es": "Hoja testigo de un elemento no digitalizable",
            "ar": "بطاقة بديلة لمادة يتعذر مسحها ضوئيا",
        },
    ),
    DocumentTypeSeed(
        code="UNIDENT",
        direction="internal",
        visibility="internal",
        to_be_published=False,
        notify_registry=False,
        paper_original_expected=False,
        labels={
            "en": "Not yet identified (awaiting indexing)",
            "fr": "Non identifié (en attente d'indexation)",
            "es": "No identificado (pendiente de indexación)",
            "ar": "غير محدد (بانتظار الفهرسة)",
        },
    ),
)
