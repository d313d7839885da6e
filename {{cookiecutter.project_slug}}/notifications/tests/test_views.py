import pytest
from asgiref.sync import async_to_sync

from notifications.streams import publish

pytestmark = pytest.mark.django_db(transaction=True)


def test_stream_page_shows_recent_notifications_and_polls_from_the_last_one(client):
    latest = async_to_sync(publish)("news", {"title": "hello"})

    response = client.get("/notifications/news/")

    assert response.status_code == 200
    assert b'"/notifications/news/poll/"' in response.content
    assert response.context["last_id"] == latest["id"]
    assert response.context["notifications"] == [latest]


def test_stream_page_says_how_to_publish_to_it(client):
    response = client.get("/notifications/news/")

    assert b"async_to_sync(publish)('news', " in response.content
