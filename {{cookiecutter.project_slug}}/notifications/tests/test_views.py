import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import User

from notifications.streams import private, public, publish

pytestmark = pytest.mark.django_db(transaction=True)


def test_public_stream_page_shows_recent_notifications_and_polls_from_the_last_one(client):
    latest = async_to_sync(publish)(public("news"), {"title": "hello"})

    response = client.get("/notifications/public/news/")

    assert response.status_code == 200
    assert b'"/notifications/public/news/poll/"' in response.content
    assert response.context["last_id"] == latest["id"]
    assert response.context["notifications"] == [latest]


def test_stream_page_says_how_to_publish_to_it(client):
    response = client.get("/notifications/public/news/")

    assert b"publish_from_sync(public('news'), " in response.content


def test_the_private_page_shows_only_the_users_own_notifications(client):
    alice = User.objects.create_user("alice")
    bob = User.objects.create_user("bob")
    for_alice = async_to_sync(publish)(private(f"user-{alice.pk}"), {"text": "for alice"})
    async_to_sync(publish)(private(f"user-{bob.pk}"), {"text": "for bob"})
    async_to_sync(publish)(public("news"), {"text": "for everyone"})
    client.force_login(alice)

    response = client.get("/notifications/private/")

    assert response.context["notifications"] == [for_alice]
    assert b'"/notifications/private/poll/"' in response.content


def test_the_private_page_asks_guests_to_log_in(client):
    response = client.get("/notifications/private/")

    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
