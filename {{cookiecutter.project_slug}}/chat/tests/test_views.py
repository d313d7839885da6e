import pytest

from chat.consumers import GUEST_NAME_SESSION_KEY

pytestmark = pytest.mark.django_db


def test_room_page_points_at_its_socket_and_names_the_guest(client):
    response = client.get("/chat/café/")

    assert response.status_code == 200
    assert b'"ws://testserver/ws/chat/caf%C3%A9/"' in response.content
    guest_name = client.session[GUEST_NAME_SESSION_KEY]
    assert guest_name.startswith("guest-")
    assert f'<strong id="your-name">{guest_name}</strong>' in response.content.decode()


def test_room_page_names_a_logged_in_user_by_their_username(client, django_user_model):
    client.force_login(django_user_model.objects.create(username="ada"))

    response = client.get("/chat/lobby/")

    assert response.context["your_name"] == "ada"


def test_unusable_room_name_gets_a_page_saying_why(client):
    response = client.get("/chat/" + "r" * 65 + "/")

    assert response.status_code == 400
    assert b"at most 64 characters" in response.content


def test_members_only_room_sends_anonymous_visitors_to_log_in(client, django_user_model):
    assert client.get("/chat/members-club/").url == "/accounts/login/?next=/chat/members-club/"
    client.force_login(django_user_model.objects.create(username="member"))
    assert client.get("/chat/members-club/").status_code == 200


@pytest.mark.parametrize("typed", ["lobby", "café au lait", "50% off", "what?", "#1", "a+b", "..."])
def test_a_usable_room_name_typed_on_the_index_page_opens_its_room(client, typed):
    response = client.get("/chat/", {"room": typed}, follow=True)

    assert response.status_code == 200
    assert response.context["room_name"] == typed


@pytest.mark.parametrize(
    "typed, reason",
    [
        ("a/b", b"cannot hold a slash"),
        ("..", b"are not room names"),
        (".", b"are not room names"),
        ("   ", b"at least one visible character"),
        ("", b"at least one visible character"),
        ("r" * 65, b"at most 64 characters"),
        ("bell\x07", b"control or invisible"),
    ],
)
def test_an_unusable_room_name_typed_on_the_index_page_gets_the_page_saying_why(
    client, typed, reason
):
    response = client.get("/chat/", {"room": typed})

    assert response.status_code == 400
    assert reason in response.content


def test_a_room_has_one_address(client):
    response = client.get("/chat/ｌｏｂｂｙ/")

    assert response.status_code == 302
    assert response.url == "/chat/lobby/"


def test_a_lookalike_of_a_members_only_room_is_members_only(client):
    assert client.get("/chat/m\u0435mbers-secret/").status_code == 302
    assert client.get("/chat/m\u0435mbers-secret/").url.startswith("/accounts/login/")
