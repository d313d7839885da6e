"""Error reports to Sentry, where settings/production.py turned it on (SENTRY_DSN).

Sentry's Django integration reports the exceptions of Django's views, named by their
URL pattern ("/pages/{number}/"). Consumers run outside Django's handler:
report_errors() wraps the ASGI application so that their exceptions are reported too,
and the router names each connection's reports after the route it reached, as
`manage.py routes` prints it ("/ws/chat/<str:room_name>/").
https://docs.sentry.io/platforms/python/integrations/asgi/
"""

import sentry_sdk
from sentry_sdk.integrations.asgi import SentryAsgiMiddleware


def report_errors(application):
    """application, its exceptions reported to Sentry when Sentry is on."""
    if not sentry_sdk.is_initialized():
        return application
    return SentryAsgiMiddleware(application)


def name_transaction(route):
    """Name this connection's reports after its route pattern."""
    if sentry_sdk.is_initialized():
        sentry_sdk.get_current_scope().set_transaction_name(f"/{route}", source="route")
