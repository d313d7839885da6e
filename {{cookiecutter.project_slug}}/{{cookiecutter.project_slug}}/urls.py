"""Django's URL configuration for pages; websocket and long-poll routes live in routings.py."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from realtime import views as realtime_views

from . import views

urlpatterns = [
    path("", views.index, name="index"),
    path("admin/", admin.site.urls),
    # Ordinary users log in here (members-only chat rooms, for one); accounts are
    # made in the admin. django-axes throttles failed attempts (settings/base.py).
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz/", views.healthz, name="healthz"),
    path("readyz/", views.readyz, name="readyz"),
    # Prometheus metrics, for a scraper holding METRICS_TOKEN (realtime/metrics.py).
    path("metrics/", realtime_views.metrics, name="metrics"),
    # Tickets for websockets without the session cookie (realtime/tickets.py).
    path("realtime/", include("realtime.urls")),
{%- if cookiecutter.use_chat %}
    path("chat/", include("chat.urls")),
{%- endif %}
{%- if cookiecutter.use_notifications %}
    path("notifications/", include("notifications.urls")),
{%- endif %}
{%- if cookiecutter.use_thumbnails %}
    path("thumbnails/", include("thumbnails.urls")),
{%- endif %}
] + static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
