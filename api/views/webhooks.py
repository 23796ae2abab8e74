"""Webhook endpoints: a caller manages its own webhooks and sees their deliveries.

Who may: the roles that may read the change feed (a webhook delivers what the feed shows its
owner). Views validate, check the role through `dossier.access`, call one operation of the
`webhooks` app (`webhooks.actions`, `webhooks.deliveries`), and render.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import IdempotentMixin
from api.models import ApiKey
from api.permissions import require
from api.problems import Problem
from api.schema import IDEMPOTENCY_HEADER, problems
from dossier import access
from dossier.audit import actor_of
from dossier.models import EventKind
from webhooks import actions, deliveries
from webhooks.models import DeliveryState, Webhook, WebhookDelivery

RECENT_DELIVERIES = 100

# --- Serializers ----------------------------------------------------------------------------


class WebhookSerializer(serializers.ModelSerializer):
    url = serializers.CharField(max_length=2000, help_text="https:// (or http://) receiver.")
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=EventKind.choices),
        required=False,
        help_text="Event kinds to deliver; empty or absent: all.",
    )
    dossier_prefix = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="Only events of dossiers whose file number starts so, e.g. `BG/P/`.",
    )

    class Meta:
        model = Webhook
        fields = ["id", "url", "kinds", "dossier_prefix", "description", "active", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_url(self, url: str) -> str:
        if problem := actions.url_problem(url):
            raise serializers.ValidationError(problem)
        return url


class WebhookSecretSerializer(serializers.Serializer):
    secret = serializers.CharField(
        help_text="Signs every delivery (X-Edms-Signature). Shown only now: store it."
    )


class NewWebhookSerializer(WebhookSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="Signs every delivery (X-Edms-Signature). Shown only now: store it.",
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]


class DeliverySerializer(serializers.ModelSerializer):
    event = serializers.CharField(
        source="event_id", allow_null=True, help_text="The event's feed cursor; null: a ping."
    )

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "kind",
            "state",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "last_attempt_at",
            "delivered_at",
            "created_at",
        ]
        read_only_fields = fields


# --- Views ----------------------------------------------------------------------------------


def _require_webhooks(request, what: str) -> None:
    require(access.can_read_event_feed(request.user), what, request.user)


def _own_webhook(request, webhook_id: int) -> Webhook:
    """The caller's webhook; another's is as unknown as one that does not exist."""
    _require_webhooks(request, "manage webhooks")
    webhook = Webhook.objects.filter(pk=webhook_id, owner=request.user).first()
    if webhook is None:
        raise Problem("not-found", f"no webhook {webhook_id}")
    return webhook


class WebhookListView(IdempotentMixin, APIView):
    """The caller's webhooks: each is told of the events the caller could read from the feed."""

    parser_classes = [JSONParser]

    @extend_schema(
        summary="Your webhooks",
        operation_id="webhooks_list",
        responses={200: WebhookSerializer(many=True), **problems(403)},
    )
    def get(self, request):
        _require_webhooks(request, "manage webhooks")
        mine = Webhook.objects.filter(owner=request.user)
        return Response(WebhookSerializer(mine, many=True).data)

    @extend_schema(
        summary="Create a webhook: events are POSTed to its URL, signed with its secret",
        description="The response holds the secret, shown this once.",
        request=WebhookSerializer,
        responses={201: NewWebhookSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request):
        _require_webhooks(request, "manage webhooks")
        body = WebhookSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        webhook = actions.create_webhook(
            owner=request.user,
            # Acting with the key's role, and only while it stands (see webhooks.models).
            api_key=request.auth if isinstance(request.auth, ApiKey) else None,
            url=data["url"],
            kinds=data.get("kinds", []),
            dossier_prefix=data.get("dossier_prefix", ""),
            description=data.get("description", ""),
            active=data.get("active", True),
            actor=actor_of(request),
        )
        headers = {"Location": reverse("api:webhook-detail", args=[webhook.pk])}
        return Response(NewWebhookSerializer(webhook).data, status=201, headers=headers)


class WebhookDetailView(IdempotentMixin, APIView):
    """One webhook of the caller's (another's is answered 404, as one that does not exist)."""

    parser_classes = [JSONParser]

    @extend_schema(
        summary="One of your webhooks", responses={200: WebhookSerializer, **problems(403)}
    )
    def get(self, request, webhook_id):
        return Response(WebhookSerializer(_own_webhook(request, webhook_id)).data)

    @extend_schema(
        summary="Change a webhook (URL, kinds, dossier prefix, description, active)",
        request=WebhookSerializer(partial=True),
        responses={200: WebhookSerializer, **problems(403)},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def patch(self, request, webhook_id):
        webhook = _own_webhook(request, webhook_id)
        body = WebhookSerializer(webhook, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        webhook = actions.update_webhook(
            webhook, dict(body.validated_data), actor=actor_of(request)
        )
        return Response(WebhookSerializer(webhook).data)

    @extend_schema(
        summary="Delete a webhook and its deliveries", responses={204: None, **problems(403)}
    )
    def delete(self, request, webhook_id):
        actions.delete_webhook(_own_webhook(request, webhook_id), actor=actor_of(request))
        return Response(status=204)


class WebhookSecretView(APIView):
    @extend_schema(
        summary="Draw a new secret for the webhook (the old one stops signing at once)",
        request=None,
        responses={200: WebhookSecretSerializer, **problems(403)},
    )
    def post(self, request, webhook_id):
        webhook = _own_webhook(request, webhook_id)
        webhook = actions.update_webhook(webhook, {}, actor=actor_of(request), rotate_secret=True)
        return Response({"secret": webhook.secret})


class WebhookDeliveriesView(APIView):
    @extend_schema(
        summary="The webhook's recent deliveries, newest first: state, attempts, last error",
        parameters=[
            OpenApiParameter("state", str, enum=DeliveryState.values, description="Only these.")
        ],
        responses={200: DeliverySerializer(many=True), **problems(400, 403)},
    )
    def get(self, request, webhook_id):
        webhook = _own_webhook(request, webhook_id)
        listed = webhook.deliveries.all()
        if state := request.query_params.get("state"):
            if state not in DeliveryState.values:
                raise Problem(
                    "validation-error",
                    f"state must be one of {DeliveryState.values}",
                    field="state",
                )
            listed = listed.filter(state=state)
        recent = listed.order_by("-created_at", "-event_id")[:RECENT_DELIVERIES]
        return Response(DeliverySerializer(recent, many=True).data)


class WebhookRedeliverView(APIView):
    @extend_schema(
        summary="Send a delivery again now, with a fresh series of attempts",
        request=None,
        responses={202: DeliverySerializer, **problems(403, 409)},
    )
    def post(self, request, webhook_id, delivery_id):
        webhook = _own_webhook(request, webhook_id)
        delivery = webhook.deliveries.filter(pk=delivery_id).first()
        if delivery is None:
            raise Problem("not-found", f"no delivery {delivery_id} of webhook {webhook_id}")
        try:
            delivery = deliveries.redeliver(delivery)
        except deliveries.DeliveryInProgress as exc:
            raise Problem("delivery-in-progress", str(exc)) from None
        return Response(DeliverySerializer(delivery).data, status=202)


class WebhookPingView(APIView):
    @extend_schema(
        summary="Send a `ping` to the webhook's URL (see its deliveries for the answer)",
        request=None,
        responses={202: DeliverySerializer, **problems(403)},
    )
    def post(self, request, webhook_id):
        delivery = deliveries.ping(_own_webhook(request, webhook_id))
        return Response(DeliverySerializer(delivery).data, status=202)
