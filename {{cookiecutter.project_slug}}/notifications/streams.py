from channels.layers import get_channel_layer

# Channel layers refuse group names of 100 characters or more.
MAX_STREAM_NAME_LENGTH = 64


def stream_group_name(stream):
    return f"notifications.{stream}"


async def publish(stream, notification):
    """Wake every client polling stream with notification (any JSON-serialisable value)."""
    await get_channel_layer().group_send(
        stream_group_name(stream), {"type": "notification", "notification": notification}
    )
