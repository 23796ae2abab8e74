"""Saved searches, watched dossiers and notifications: each caller manages their own.

Any signed-in caller may (an API key acts as its user); the public may not. Views validate,
call one `watch.actions` function and render; the rules (names, the query's validity, the cap
on watched dossiers) are the action's, refused as problem documents.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from api.idempotency import IdempotentMixin
from api.permissions import require
from api.problems import Problem
from api.schema import IDEMPOTENCY_HEADER, PAGE_PARAMETERS, problems
from dossier import access
from dossier.roles import Role, role_of
from watch import actions
from watch.inbox import notifications_for
from watch.models import DossierWatch, Notification, Reason, SavedSearch
from watch.wording import display_key, headline

# --- Serializers ----------------------------------------------------------------------------


class SavedSearchSerializer(serializers.ModelSerializer):
    name = serializers.CharField(max_length=100)
    params = serializers.CharField(
        max_length=2000,
        help_text=(
            "The query string of `GET /api/v1/search` (`q=sprocket&type=CLM`): the query and "
            "its filters. Page, page size and sort are dropped."
        ),
    )

    class Meta:
        model = SavedSearch
        fields = ["id", "name", "params", "created_at"]
        read_only_fields = ["id", "created_at"]


class WatchSerializer(serializers.ModelSerializer):
    dossier = serializers.CharField(
        max_length=128, help_text="The dossier's file number (any form: `BG/P/2024/123`)."
    )

    class Meta:
        model = DossierWatch
        fields = ["id", "dossier", "created_at"]
        read_only_fields = ["id", "created_at"]

    def to_representation(self, instance):
        return {
            "id": instance.pk,
            "dossier": display_key(instance.dossier.key),
            "created_at": serializers.DateTimeField().to_representation(instance.created_at),
        }


class NotificationSerializer(serializers.ModelSerializer):
    reason = serializers.ChoiceField(choices=Reason.choices, read_only=True)
    kind = serializers.CharField(
        read_only=True, help_text="The event's kind for a dossier change; empty for a match."
    )
    dossier = serializers.SerializerMethodField()
    text = serializers.SerializerMethodField(help_text="What happened, in the caller's language.")

    class Meta:
        model = Notification
        fields = [
            "id",
            "reason",
            "kind",
            "dossier",
            "document_id",
            "version",
            "saved_search",
            "text",
            "created_at",
            "read_at",
        ]
        read_only_fields = fields

    def get_dossier(self, notification: Notification) -> str:
        return display_key(notification.dossier_key)

    def get_text(self, notification: Notification) -> str:
        return headline(notification)


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=1000,
        help_text="The notifications to mark read; absent: all of yours.",
    )


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many were unread and are read now.")


# --- Views ----------------------------------------------------------------------------------


def _require_user(request) -> None:
    require(role_of(request.user) != Role.PUBLIC, "save searches or watch dossiers", request.user)


class SavedSearchListView(IdempotentMixin, GenericAPIView):
    parser_classes = [JSONParser]
    serializer_class = SavedSearchSerializer

    @extend_schema(
        summary="Your saved searches",
        operation_id="saved_searches_list",
        parameters=PAGE_PARAMETERS,
        responses={200: SavedSearchSerializer(many=True), **problems(401, 404)},
    )
    def get(self, request):
        _require_user(request)
        page = self.paginate_queryset(SavedSearch.objects.filter(owner=request.user))
        return self.get_paginated_response(SavedSearchSerializer(page, many=True).data)

    @extend_schema(
        summary="Save a search: you are told of new documents it finds",
        description=(
            "Each document filed afterwards is checked once it is searchable (its text too), "
            "as you would search: only documents you may read are ever notified."
        ),
        operation_id="saved_searches_create",
        request=SavedSearchSerializer,
        responses={201: SavedSearchSerializer, **problems(400, 401)},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request):
        _require_user(request)
        body = SavedSearchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        saved = actions.save_search(request.user, **body.validated_data)
        headers = {"Location": reverse("api:saved-search-detail", args=[saved.pk])}
        return Response(SavedSearchSerializer(saved).data, status=201, headers=headers)


class SavedSearchDetailView(GenericAPIView):
    serializer_class = SavedSearchSerializer

    def _own(self, request, search_id: int) -> SavedSearch:
        _require_user(request)
        saved = SavedSearch.objects.filter(pk=search_id, owner=request.user).first()
        if saved is None:
            raise Problem("not-found", f"no saved search {search_id}")
        return saved

    @extend_schema(
        summary="One of your saved searches",
        responses={200: SavedSearchSerializer, **problems(401, 404)},
    )
    def get(self, request, search_id):
        return Response(SavedSearchSerializer(self._own(request, search_id)).data)

    @extend_schema(
        summary="Delete a saved search (and what it notified)",
        responses={204: None, **problems(401, 404)},
    )
    def delete(self, request, search_id):
        actions.delete_search(self._own(request, search_id))
        return Response(status=204)


class WatchListView(IdempotentMixin, GenericAPIView):
    parser_classes = [JSONParser]
    serializer_class = WatchSerializer

    @extend_schema(
        summary="The dossiers you watch",
        operation_id="watches_list",
        parameters=PAGE_PARAMETERS,
        responses={200: WatchSerializer(many=True), **problems(401, 404)},
    )
    def get(self, request):
        _require_user(request)
        watches = DossierWatch.objects.filter(owner=request.user).select_related("dossier")
        page = self.paginate_queryset(watches)
        return self.get_paginated_response(WatchSerializer(page, many=True).data)

    @extend_schema(
        summary="Watch a dossier: you are told of its new documents, versions and case events",
        description=(
            "Watching a dossier you watch already answers it again. At most "
            "`EDMS_WATCH_MAX_DOSSIERS` dossiers per person (200 unless the office set "
            "another number): beyond, 400 `invalid-change`."
        ),
        operation_id="watches_create",
        request=WatchSerializer,
        responses={201: WatchSerializer, **problems(400, 401, 404)},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request):
        _require_user(request)
        body = WatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        dossier = access.get_dossier_for(request.user, body.validated_data["dossier"])
        watch = actions.watch_dossier(request.user, dossier)
        headers = {"Location": reverse("api:watch-detail", args=[watch.pk])}
        return Response(WatchSerializer(watch).data, status=201, headers=headers)


class WatchDetailView(GenericAPIView):
    serializer_class = WatchSerializer

    @extend_schema(summary="Stop watching a dossier", responses={204: None, **problems(401, 404)})
    def delete(self, request, watch_id):
        _require_user(request)
        watch = DossierWatch.objects.filter(pk=watch_id, owner=request.user).first()
        if watch is None:
            raise Problem("not-found", f"no watch {watch_id}")
        watch.delete()
        return Response(status=204)


class NotificationListView(GenericAPIView):
    serializer_class = NotificationSerializer

    @extend_schema(
        summary="Your notifications, newest first",
        operation_id="notifications_list",
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter("unread", bool, description="Only those not read yet."),
        ],
        responses={200: NotificationSerializer(many=True), **problems(401, 404)},
    )
    def get(self, request):
        _require_user(request)
        mine = notifications_for(request.user).select_related("saved_search")
        if request.query_params.get("unread", "").lower() in ("1", "true", "yes"):
            mine = mine.filter(read_at__isnull=True)
        page = self.paginate_queryset(mine)
        return self.get_paginated_response(NotificationSerializer(page, many=True).data)


class NotificationReadView(GenericAPIView):
    parser_classes = [JSONParser]
    serializer_class = MarkReadSerializer

    @extend_schema(
        summary="Mark notifications read (those named, or all)",
        operation_id="notifications_mark_read",
        request=MarkReadSerializer,
        responses={200: MarkedSerializer, **problems(400, 401)},
    )
    def post(self, request):
        _require_user(request)
        body = MarkReadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        marked = actions.mark_read(request.user, body.validated_data.get("ids"))
        return Response({"marked": marked})


class NotificationDetailView(GenericAPIView):
    serializer_class = NotificationSerializer

    @extend_schema(summary="Delete a notification", responses={204: None, **problems(401, 404)})
    def delete(self, request, notification_id):
        _require_user(request)
        deleted, _rows = Notification.objects.filter(pk=notification_id, user=request.user).delete()
        if not deleted:
            raise Problem("not-found", f"no notification {notification_id}")
        return Response(status=204)
