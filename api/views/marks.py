"""`POST /api/v1/marks/similar`: the marks and designs most like an uploaded image, among the
dossiers the caller may see (`similarity.marks`). The upload is decoded in the sandbox
(`ingest.uploaded_images`), never in the web process."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers as s
from api.problems import Problem
from api.schema import problems
from ingest import uploaded_images
from similarity import marks


class SimilarMarksView(APIView):
    # Multipart: the image streams to a temporary file (FILE_UPLOAD_MAX_MEMORY_SIZE = 0).
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="Marks and designs most similar to an image",
        description="Compares the figure (its shape, whatever its colours, size, a small "
        "rotation, a crop of a tenth, words added) with every mark representation (`MARK`) and "
        "design reproduction (`DREP`) of the dossiers the caller may see; best first; "
        "filtered by IP type, the dossier's status and Vienna codes or prefixes (each result "
        "lists its dossier's codes; `400` problem for a malformed one). A file that is not a "
        "readable image (decoded in the sandbox: a decompression bomb, a truncated or damaged "
        "file, more than 40 megapixels), or a blank one: `400 bad-image`; larger than "
        "`EDMS_MARK_QUERY_MAX_BYTES`: `413 file-too-large`.",
        operation_id="marks_similar",
        request={"multipart/form-data": s.SimilarMarksQuerySerializer},
        responses={200: s.SimilarMarksSerializer, **problems(400, 401, 413)},
    )
    def post(self, request):
        body = s.SimilarMarksQuerySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        image = body.validated_data["image"]
        limit = settings.EDMS_MARK_QUERY_MAX_BYTES
        if image.size > limit:
            raise Problem(
                "file-too-large",
                f"the image exceeds {limit} bytes",
                field="image",
                extra={"limit": limit},
            )
        try:
            query = marks.query_features(uploaded_images.bounded_png(image))
        except (uploaded_images.UnreadableImage, marks.BadImage) as exc:
            raise Problem("bad-image", str(exc), field="image") from None
        found = marks.similar_marks(
            query,
            request.user,
            limit=body.validated_data["limit"],
            ip_types=sorted(body.validated_data.get("ip_type", ())),
            statuses=body.validated_data.get("status", ()),
            vienna_prefixes=body.validated_data.get("vienna", ()),
        )
        return Response(s.SimilarMarksSerializer({"results": found}).data)
