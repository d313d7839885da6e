from django.conf import settings


def project(request):
    """The project's name, for every page's title."""
    return {"project_name": settings.PROJECT_NAME}
