"""The home page, and the health check page that the Dockerfile's HEALTHCHECK asks for."""

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse


@pytest.mark.django_db
def test_the_home_page_is_named_after_the_project(client, settings):
    settings.PROJECT_NAME = "Pied Piper"

    response = client.get(reverse("index"))

    assert b"<title>Pied Piper</title>" in response.content
    assert b"<h1>Pied Piper</h1>" in response.content


def test_the_icon_and_stylesheet_every_page_links_exist():
    assert finders.find("favicon.svg") and finders.find("site.css")


def test_healthz_answers_ok_without_the_database(client):
    # No django_db mark: pytest-django fails the test if the view touches the database.
    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain"
    assert response.content == b"ok"


def test_healthz_needs_the_forwarded_proto_header_under_production_security(client, settings):
    """Why the HEALTHCHECK sends X-Forwarded-Proto and an allowed Host over plain http."""
    settings.ALLOWED_HOSTS = ["example.com"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    url = reverse("healthz")

    plain = client.get(url, headers={"host": "example.com"})
    unknown_host = client.get(url, headers={"host": "127.0.0.1", "x-forwarded-proto": "https"})
    as_the_check_asks = client.get(
        url, headers={"host": "example.com", "x-forwarded-proto": "https"}
    )

    assert plain.status_code == 301
    assert unknown_host.status_code == 400
    assert as_the_check_asks.status_code == 200
