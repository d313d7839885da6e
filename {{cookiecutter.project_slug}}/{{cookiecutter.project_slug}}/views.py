from django.apps import apps
from django.shortcuts import render


def index(request):
    """Home page, linking to the sample apps this project was baked with."""
    return render(request, "index.html", {"has_chat": apps.is_installed("chat")})
