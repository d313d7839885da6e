import pytest
from django.core.management import CommandError, call_command


def test_runworker_refuses_the_in_memory_layer(settings):
    settings.CHANNEL_LAYERS = {"workers": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

    with pytest.raises(CommandError, match="in-memory channel layer"):
        call_command("runworker", "thumbnails-generate")
