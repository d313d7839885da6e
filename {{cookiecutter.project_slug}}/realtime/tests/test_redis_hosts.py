"""REDIS_URL and REDIS_SENTINELS, read into channels-redis host entries."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from ..redis_hosts import DEFAULT_URL, connection_options, redis_hosts

OPTIONS = connection_options(max_connections=10)


def test_each_url_is_a_shard_in_the_order_given():
    urls = ["redis://a:6379/0", "redis://b:6379/0"]

    hosts = redis_hosts(urls, [], ["mymaster"], OPTIONS)

    assert [host["address"] for host in hosts] == urls
    assert all(host["max_connections"] == 10 for host in hosts)
    assert all(host["socket_timeout"] is None for host in hosts)


def test_no_url_means_the_local_default():
    hosts = redis_hosts([], [], ["mymaster"], OPTIONS)

    assert [host["address"] for host in hosts] == [DEFAULT_URL]


def test_sentinels_find_each_master_named():
    hosts = redis_hosts([], ["s1:26379", "[::1]:26380"], ["one", "two"], OPTIONS)

    assert [host["master_name"] for host in hosts] == ["one", "two"]
    assert hosts[0]["sentinels"] == [("s1", 26379), ("[::1]", 26380)]
    assert "address" not in hosts[0]


@pytest.mark.parametrize(
    "urls, sentinels, message",
    [
        (["redis://a:6379/0"], ["s1:26379"], "Both REDIS_URL and REDIS_SENTINELS are set"),
        ([], ["s1"], "REDIS_SENTINELS entry 's1' is not host:port"),
        ([], ["s1:port"], "REDIS_SENTINELS entry 's1:port' is not host:port"),
        ([], [":26379"], "REDIS_SENTINELS entry ':26379' is not host:port"),
        ([], ["s1:²"], "REDIS_SENTINELS entry 's1:²' is not host:port"),
    ],
)
def test_a_bad_setting_is_refused_with_what_to_fix(urls, sentinels, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        redis_hosts(urls, sentinels, ["mymaster"], OPTIONS)
