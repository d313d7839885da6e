import asyncio

from channels.layers import get_channel_layer
from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from prometheus_client import CONTENT_TYPE_LATEST

from . import tickets
from .jobs import JobChannelLayer
from .layers import LAYER_ERRORS
from .metrics import exposition
from .resolvers import iter_routes


@never_cache
@require_POST
def ticket(request):
    """POST /realtime/ticket/: a ticket for a websocket of the logged-in user.

    Answers {"ticket": ..., "expires_in": seconds}, or 401 {"error": ...} to a client
    that is not logged in. A POST with Django's CSRF check: a page on another site
    cannot have one issued to its visitor, and could not read it if it did.
    """
    if not request.user.is_authenticated:
        return JsonResponse({"error": "Log in to get a ticket."}, status=401)
    ticket = tickets.Ticket(
        ticket=tickets.issue(request.user, request.session.session_key),
        expires_in=settings.WEBSOCKET_TICKET_MAX_AGE,
    )
    return JsonResponse(ticket.model_dump())


@never_cache
@require_GET
async def metrics(request):
    """GET /metrics/: Prometheus metrics (realtime/metrics.py) for a scraper that sends
    `Authorization: Bearer <METRICS_TOKEN>`; 404 to anyone else, and to everyone while
    METRICS_TOKEN is unset."""
    expected = f"Bearer {settings.METRICS_TOKEN}"
    if not settings.METRICS_TOKEN or not constant_time_compare(
        request.headers.get("Authorization", ""), expected
    ):
        raise Http404
    return HttpResponse(exposition(await job_stats()), content_type=CONTENT_TYPE_LATEST)


async def job_stats():
    """{worker channel: its job stats}, or {} where jobs are not queued or Redis is away."""
    layer = get_channel_layer(settings.WORKER_CHANNEL_LAYER)
    if not isinstance(layer, JobChannelLayer):
        return {}
    channels = [route.pattern for route in iter_routes("channel")]
    try:
        stats = await asyncio.gather(*(layer.stats(channel) for channel in channels))
    except LAYER_ERRORS:
        return {}
    return dict(zip(channels, stats, strict=True))
