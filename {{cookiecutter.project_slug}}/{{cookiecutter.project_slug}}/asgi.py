"""The ASGI application: `daphne {{ cookiecutter.project_slug }}.asgi:application`.

https://channels.readthedocs.io/en/latest/deploying.html
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{{ cookiecutter.project_slug }}.settings.development")
# Set Django up before anything below imports models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack
from channels.routing import ChannelNameRouter, ProtocolTypeRouter

from realtime.draining import drain_daphne
from realtime.errors import report_errors
from realtime.http import BodyLimit, DjangoChecks
from realtime.limits import SocketLimit
from realtime.paths import path, re_path
from realtime.routing import URLRouter
from realtime.security import AllowedHostsOriginValidator
from realtime.server import limit_daphne

from . import routings

# daphne reads whole request bodies into memory and waits hours for slow clients:
# bound both (realtime/server.py).
limit_daphne()
# On SIGTERM, daphne hands its clients over before it exits (realtime/draining.py).
drain_daphne()

# Exceptions go to Sentry where SENTRY_DSN is set (realtime/errors.py).
application = report_errors(
    ProtocolTypeRouter(
        {
            "http": BodyLimit(
                URLRouter(
                    [
                        # HTTP consumers get the checks and headers Django's views get
                        # from its middleware; what they do not route goes to Django.
                        path("", DjangoChecks(URLRouter(routings.http_urlpatterns))),
                        re_path(r"^", django_asgi_app),
                    ]
                )
            ),
            # Websockets have no CSRF protection: checking Origin against
            # ALLOWED_HOSTS is the defence.
            "websocket": AllowedHostsOriginValidator(
                AuthMiddlewareStack(SocketLimit(URLRouter(routings.websocket_urlpatterns)))
            ),
            "channel": ChannelNameRouter(routings.channel_routes),
        }
    )
)
