"""Settings per environment: development, test and production build on base.

Pick one with DJANGO_SETTINGS_MODULE; manage.py and asgi.py default to development.
"""
