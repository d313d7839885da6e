from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("public/<slug:stream>/", views.public_stream, name="public_stream"),
    path("private/", views.private_stream, name="private_stream"),
]
