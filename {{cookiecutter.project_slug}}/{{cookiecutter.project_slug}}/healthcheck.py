"""The container's health check (the Dockerfile's HEALTHCHECK): exits 0 when daphne on
this machine answers /healthz/ with "ok", 1 otherwise.

It asks as the TLS proxy in front of daphne would: with a Host from ALLOWED_HOSTS, or
Django answers 400, and with X-Forwarded-Proto: https, or SECURE_SSL_REDIRECT answers 301.
"""

import os
import sys
import urllib.request

from django.conf import settings


def daphne_is_healthy():
    host = settings.ALLOWED_HOSTS[0].lstrip(".").replace("*", "localhost")
    port = os.environ.get("PORT", "8000")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz/",
        headers={"Host": host, "X-Forwarded-Proto": "https"},
    )
    with urllib.request.urlopen(request, timeout=4) as response:
        return response.read() == b"ok"


if __name__ == "__main__":
    sys.exit(0 if daphne_is_healthy() else 1)
