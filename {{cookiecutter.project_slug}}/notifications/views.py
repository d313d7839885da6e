from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from realtime.sessions import identity_of

from .streams import last_id, private, public, recent


def public_stream(request, stream):
    """A page showing a public stream's notifications live, through its long-poll route."""
    return render_stream(request, public(stream), {"stream": stream})


@login_required
def private_stream(request):
    """A page showing the logged-in user's private notifications live."""
    return render_stream(request, private(identity_of(request)), {"private": True})


def render_stream(request, stream, context):
    context = {**context, "notifications": recent(stream), "last_id": last_id(stream)}
    return render(request, "notifications/stream.html", context)
