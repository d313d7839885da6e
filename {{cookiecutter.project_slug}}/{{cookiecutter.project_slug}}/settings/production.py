"""Settings for production: everything from the environment, HTTPS only.

https://docs.djangoproject.com/en/{{ cookiecutter.django_version }}/howto/deployment/checklist/
"""

import sentry_sdk

from .base import *

if env.bool("DJANGO_DEBUG", default=False):
    raise ImproperlyConfigured("DJANGO_DEBUG is on: production settings never run with DEBUG.")

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY is not set: production never runs without one.")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["{{ cookiecutter.domain_name }}"])
# Other origins whose pages may post forms or open websockets here, such as
# https://admin.example.com (realtime/security.py).
# https://docs.djangoproject.com/en/{{ cookiecutter.django_version }}/ref/settings/#csrf-trusted-origins
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# `manage.py collectstatic` gathers static files here; whitenoise serves them.
STATIC_ROOT = BASE_DIR / "staticfiles"

# TLS ends at the proxy in front of daphne, which says so in X-Forwarded-Proto, and
# gives the client's address in X-Forwarded-For.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Prometheus scrapes daphne directly, inside the network, with its token.
SECURE_REDIRECT_EXEMPT = [r"^metrics/$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# Start short and raise once HTTPS is known to work on every subdomain.
# https://docs.djangoproject.com/en/{{ cookiecutter.django_version }}/ref/middleware/#http-strict-transport-security
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True

LOGGING["handlers"]["console"]["formatter"] = "json"

# Error reports go to Sentry where SENTRY_DSN is set, and nowhere otherwise.
# https://docs.sentry.io/platforms/python/integrations/django/
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        # Tracing sends one event per request: off unless asked for.
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        # No cookies, user names or addresses in the reports.
        send_default_pii=False,
    )
