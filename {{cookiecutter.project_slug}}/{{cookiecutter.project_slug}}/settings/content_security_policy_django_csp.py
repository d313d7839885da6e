"""Content-Security-Policy, by django-csp: Django 5.2 has none of its own (6.0 has).

https://django-csp.readthedocs.io/en/latest/configuration.html
"""

from csp.constants import NONE, SELF

CSP_MIDDLEWARE = "csp.middleware.CSPMiddleware"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        # 'self' covers the site's own ws:// and wss:// addresses too.
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
