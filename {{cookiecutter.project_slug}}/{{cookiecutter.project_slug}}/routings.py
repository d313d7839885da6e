"""Every app's Channels routes, by protocol, joined with Django's include() as in urls.py.

asgi.py serves these through realtime.routing.URLRouter, which understands include().
"""

from typing import TYPE_CHECKING
{%- if cookiecutter.use_chat or cookiecutter.use_notifications %}

from django.urls import include, path
{%- endif %}
{%- if cookiecutter.use_thumbnails %}

from thumbnails.routings import channel_routes as thumbnails_channel_routes
{%- endif %}

if TYPE_CHECKING:
    # The apps Channels' ChannelNameRouter takes (a name of types-channels' stubs).
    from channels.utils import _ChannelApplication
    from django.urls import URLPattern, URLResolver

websocket_urlpatterns: "list[URLPattern | URLResolver]" = [
    # One include() per app, each app keeping its own routings.py.
{%- if cookiecutter.use_chat %}
    path("ws/chat/", include("chat.routings")),
{%- endif %}
]

# Served before Django's views; anything else goes to Django.
http_urlpatterns: "list[URLPattern | URLResolver]" = [
    # One include() per app, each app keeping its own routings.py.
{%- if cookiecutter.use_notifications %}
    path("notifications/", include("notifications.routings")),
{%- endif %}
]

# Channel names that `manage.py runworker` listens on, mapped to worker consumers.
channel_routes: "dict[str, _ChannelApplication]" = {
    # Each worker app adds its own channel_routes.
{%- if cookiecutter.use_thumbnails %}
    **thumbnails_channel_routes,
{%- endif %}
}
