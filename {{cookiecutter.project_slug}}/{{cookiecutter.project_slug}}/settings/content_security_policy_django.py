"""Content-Security-Policy, by Django's own middleware (6.0 and later).

https://docs.djangoproject.com/en/{{ cookiecutter.django_version }}/ref/csp/
"""

from django.utils.csp import CSP

CSP_MIDDLEWARE = "django.middleware.csp.ContentSecurityPolicyMiddleware"

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    # 'self' covers the site's own ws:// and wss:// addresses too.
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
