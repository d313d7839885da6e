"""Ordinary users log in and out on the site's own pages; guessing is throttled."""

import secrets

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

RIGHT_PASSWORD = secrets.token_urlsafe(12)


@pytest.fixture
def member(django_user_model):
    return django_user_model.objects.create_user(username="member", password=RIGHT_PASSWORD)


def log_in(client, password, username="member"):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_a_user_logs_in_and_out_on_the_site(client, member):
    assert log_in(client, RIGHT_PASSWORD).status_code == 302
    assert b"Log out member" in client.get("/").content
    assert client.post("/accounts/logout/").status_code == 302
    assert b"Log in" in client.get("/").content


def test_after_five_wrong_passwords_the_username_is_locked_even_for_the_right_one(client, member):
    wrong = [log_in(Client(), f"guess-{n}").status_code for n in range(5)]
    locked = log_in(client, RIGHT_PASSWORD)

    # The form again with its error four times; the fifth failure locks the username.
    assert wrong == [200, 200, 200, 200, 429]
    assert locked.status_code == 429
    assert b"Too many failed attempts" in locked.content
