from django.apps import apps
from django.http import HttpResponse
from django.shortcuts import render


def index(request):
    """Home page, linking to the sample apps this project was baked with."""
    samples = {app: apps.is_installed(app) for app in ("chat", "notifications", "thumbnails")}
    return render(request, "index.html", samples)


def healthz(request):
    """The container's health check (see Dockerfile): "ok" means this process serves HTTP.

    It reads neither the database nor Redis, whose outages are not this process's fault.
    """
    return HttpResponse("ok", content_type="text/plain")
