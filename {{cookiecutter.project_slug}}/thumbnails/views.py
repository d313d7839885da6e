from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from realtime.jobs import owner_of
from realtime.sessions import identities_of, identity_of

from .consumers import NOTIFICATION_STREAM
from .forms import UploadForm
from .jobs import request_deletion, request_thumbnail
from .models import Image

# Where the uploader's private stream stood when they uploaded (see index()).
PRIVATE_POSITION_SESSION_KEY = "thumbnails_private_position"


def index(request):
    """Upload form and the uploaded images; a thumbnail appears when the worker is done."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        image = form.save(commit=False)
        image.owner = owner_of(request)
        image.uploader = identity_of(request)
        # Before the job can be sent: its report must come after this position.
        remember_private_position(request, image.uploader)
        image.save()
        request_thumbnail(image)
        announce(image)
        return redirect("thumbnails:index")
    images = Image.objects.order_by("-id")[:50]
    for image in images:
        image.deletable = may_delete(request, image)
    context = {"form": form, "images": images}
    if apps.is_installed("notifications"):
        from notifications.streams import last_id, private, public

        # The page follows the worker's reports from here on, missing none: on the
        # public stream every image's, on the visitor's private one their own.
        context["live_after"] = last_id(public(NOTIFICATION_STREAM))
        identity = identity_of(request, create=False)
        if identity is not None:
            # After an upload, from where the private stream stood before it: the
            # worker may be done before the page after the redirect is served.
            after = request.session.pop(PRIVATE_POSITION_SESSION_KEY, None)
            context["yours_after"] = last_id(private(identity)) if after is None else after
    return render(request, "thumbnails/index.html", context, status=400 if form.errors else 200)


@require_POST
def delete(request, pk):
    image = get_object_or_404(Image, pk=pk)
    if not may_delete(request, image):
        raise PermissionDenied("Only whoever uploaded an image, or staff, may delete it.")
    request_deletion(image)
    return redirect("thumbnails:index")


def remember_private_position(request, identity):
    if apps.is_installed("notifications"):
        from notifications.streams import last_id, private

        request.session[PRIVATE_POSITION_SESSION_KEY] = last_id(private(identity))


def announce(image):
    """Tell the pages open in other tabs about the new upload."""
    if apps.is_installed("notifications"):
        from notifications.streams import public, publish_from_sync

        publish_from_sync(public(NOTIFICATION_STREAM), {"image": image.as_dict()})


def may_delete(request, image):
    """Staff may delete any image; anyone else those they uploaded, as the user they
    are logged in as or as a guest in this browser session."""
    if request.user.is_staff:
        return True
    return bool(image.uploader) and image.uploader in identities_of(request)
