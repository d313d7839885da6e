"""Template tags that reverse Channels routes, so pages never hard-code socket paths.

{% load realtime %}
{% ws_url "chat:room" room_name=room_name as socket_url %}
{% http_route_url "notifications:public_poll" stream="news" %}
"""

from django import template

from ..resolvers import reverse

register = template.Library()


@register.simple_tag(takes_context=True)
def ws_url(context, viewname, *args, **kwargs):
    """Absolute ws:// (or wss:// behind HTTPS) URL of a websocket route, for new WebSocket()."""
    path = reverse(viewname, protocol="websocket", args=args or None, kwargs=kwargs or None)
    request = context.get("request")
    if request is None:
        return path
    scheme = "wss" if request.is_secure() else "ws"
    return f"{scheme}://{request.get_host()}{path}"


@register.simple_tag
def http_route_url(viewname, *args, **kwargs):
    """Path of an http route served by a consumer, such as a long-poll."""
    return reverse(viewname, protocol="http", args=args or None, kwargs=kwargs or None)
