"""The home page, the liveness check the Dockerfile's HEALTHCHECK asks for, and the
readiness check."""

import socket

import pytest
from django.contrib.staticfiles import finders
from django.db import OperationalError
from django.urls import reverse

from {{ cookiecutter.project_slug }} import views


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


@pytest.fixture
def redis_layers(settings):
    """settings.CHANNEL_LAYERS with both layers on the Redis servers given."""

    def use(*urls):
        hosts = [{"address": url} for url in urls]
        backend = "channels_redis.pubsub.RedisPubSubChannelLayer"
        settings.CHANNEL_LAYERS = {
            "default": {"BACKEND": backend, "CONFIG": {"hosts": hosts}},
            "workers": {"BACKEND": "realtime.jobs.JobChannelLayer", "CONFIG": {"hosts": hosts}},
        }

    return use


@pytest.mark.django_db
def test_readyz_answers_ok_while_the_database_and_redis_answer(client, redis_layers, redis_url):
    redis_layers(redis_url)

    response = client.get(reverse("readyz"))

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "redis": "ok"}


@pytest.mark.django_db
def test_readyz_without_redis_layers_checks_the_database_only(client):
    response = client.get(reverse("readyz"))

    assert response.status_code == 200
    assert response.json() == {"database": "ok"}


@pytest.mark.django_db
def test_readyz_answers_503_naming_a_redis_server_that_does_not_answer(
    client, redis_layers, redis_url, caplog
):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nobody = f"redis://127.0.0.1:{closed.getsockname()[1]}/0"
    redis_layers(redis_url, nobody)  # two shards, one gone

    response = client.get(reverse("readyz"))

    assert response.status_code == 503
    assert response.json() == {"database": "ok", "redis": "unavailable"}
    assert "Connection refused" in caplog.text  # the reason is logged, not answered
    assert "refused" not in response.content.decode()


def test_readyz_answers_503_when_the_database_does_not_answer(client, monkeypatch):
    def database_down():
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(views, "database_answers", database_down)

    response = client.get(reverse("readyz"))

    assert response.status_code == 503
    assert response.json() == {"database": "unavailable"}
