from django.apps import apps
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from realtime.jobs import owner_of

from .consumers import NOTIFICATION_STREAM
from .forms import UploadForm
from .jobs import request_deletion, request_thumbnail
from .models import Image


def index(request):
    """Upload form and the uploaded images; a thumbnail appears when the worker is done."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        image = form.save(commit=False)
        image.owner = owner_of(request)
        image.save()
        request_thumbnail(image)
        announce(image)
        return redirect("thumbnails:index")
    context = {"form": form, "images": Image.objects.order_by("-id")[:50]}
    if apps.is_installed("notifications"):
        from notifications.streams import last_id

        # The page follows the worker's reports from here on, missing none.
        context["live_after"] = last_id(NOTIFICATION_STREAM)
    return render(request, "thumbnails/index.html", context, status=400 if form.errors else 200)


@require_POST
def delete(request, pk):
    image = get_object_or_404(Image, pk=pk)
    request_deletion(image)
    return redirect("thumbnails:index")


def announce(image):
    """Tell the pages open in other tabs about the new upload."""
    if apps.is_installed("notifications"):
        from notifications.streams import publish_from_sync

        publish_from_sync(NOTIFICATION_STREAM, {"image": image.as_dict()})
