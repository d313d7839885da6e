"""Who a client is, for the limits per client."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import override_settings

from ..limits import client_address, client_key


def scope(peer="10.0.0.9", forwarded=(), **extra):
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return {"client": (peer, 5000), "headers": headers, **extra}


@pytest.mark.parametrize(
    "proxies, forwarded, address",
    [
        (0, ["203.0.113.5"], "10.0.0.9"),  # no proxy: the header is the client's own
        (1, ["203.0.113.5"], "203.0.113.5"),
        (1, ["6.6.6.6, 203.0.113.5"], "203.0.113.5"),  # a forged entry before the proxy's
        (1, ["6.6.6.6", "203.0.113.5"], "203.0.113.5"),  # headers repeated
        (2, ["6.6.6.6, 198.51.100.1, 203.0.113.5"], "198.51.100.1"),
        (2, ["203.0.113.5"], "10.0.0.9"),  # fewer entries than proxies
    ],
)
def test_the_client_address_is_what_the_trusted_proxies_saw(proxies, forwarded, address):
    with override_settings(TRUSTED_PROXY_COUNT=proxies):
        assert client_address(scope(forwarded=forwarded)) == address


class Session(dict):
    session_key = "abc"


def test_a_client_is_its_user_else_its_session_else_its_address(django_user_model):
    user = django_user_model(pk=7, username="alice")

    assert client_key(scope(user=user, session=Session())) == "user.7"
    assert client_key(scope(user=AnonymousUser(), session=Session())).startswith("session.")
    assert client_key(scope(user=AnonymousUser())) == "address:10.0.0.9"
