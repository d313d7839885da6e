from django.apps import apps
from django.shortcuts import render


def index(request):
    """Home page, linking to the sample apps this project was baked with."""
    samples = {app: apps.is_installed(app) for app in ("chat", "notifications", "thumbnails")}
    return render(request, "index.html", samples)
