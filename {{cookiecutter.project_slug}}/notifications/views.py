from django.shortcuts import render

from .models import Notification
from .streams import BATCH_SIZE, last_id


def stream(request, stream):
    """A page showing a stream's notifications live, through the long-poll route."""
    recent = Notification.objects.filter(stream=stream).order_by("-id")[:BATCH_SIZE]
    return render(
        request,
        "notifications/stream.html",
        {
            "stream": stream,
            "notifications": [notification.as_dict() for notification in reversed(recent)],
            "last_id": last_id(stream),
        },
    )
