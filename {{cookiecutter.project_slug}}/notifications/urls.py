from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("<slug:stream>/", views.stream, name="stream"),
]
