from django.urls import path

from . import views

app_name = "realtime"

urlpatterns = [
    path("ticket/", views.ticket, name="ticket"),
]
