from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import tickets


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
