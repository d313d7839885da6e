"""Messages to a user wherever they are connected, and sockets that end with the
user's login.

Every websocket of a logged-in user (a MessageConsumer) joins the user's group, so
send_to_user() reaches all of their tabs and devices. Deactivating a user,
deleting them or changing their password closes their sockets with
realtime.sessions.CLOSE_UNAUTHENTICATED and an
error frame, once the change is committed; a socket
then has to log in again, and the old session or ticket no longer lets it.

Saves through the ORM are seen (the admin, set_password(), forms); a bulk
QuerySet.update() sends no signal: call end_user_sockets() after one.
"""

import asyncio

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_init, post_save
from django.dispatch import receiver

from .frames import encode
from .layers import group_send_from_sync
from .sessions import end_login


def user_group_name(pk):
    return f"user.{pk}"


def send_to_user(user, frame):
    """Send frame (a dict with its "type") to every websocket of user (a user or its pk).

    The one call for async and sync code: `await send_to_user(user, frame)` on an
    event loop (a consumer); a plain `send_to_user(user, frame)` in sync code (a
    view, a signal receiver, a worker's handler), which returns once it is sent.
    Raises one of realtime.layers.LAYER_ERRORS if Redis cannot be reached.
    """
    group = user_group_name(getattr(user, "pk", user))
    event = {"type": "user.frame", "frame": encode(frame)}
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return group_send_from_sync(group, event)
    layer = get_channel_layer()
    assert layer is not None  # the settings always configure the default layer
    return layer.group_send(group, event)


def end_user_sockets(pk, code, message):
    """Close every websocket of the user with primary key pk (sync code)."""
    end_login(user_group_name(pk), code, message)


def credentials(user):
    # From __dict__: a deferred field must not cost a query on every load.
    return user.__dict__.get("password"), user.__dict__.get("is_active", True)


@receiver(post_init, sender=settings.AUTH_USER_MODEL)
def remember_credentials(sender, instance, **kwargs):
    instance._realtime_credentials = credentials(instance)


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def end_sockets_of_changed_user(sender, instance, created, **kwargs):
    (old_password, was_active), now = instance._realtime_credentials, credentials(instance)
    instance._realtime_credentials = now
    password, active = now
    if created:
        return
    if was_active and not active:
        ended = ("account_disabled", "Your account has been deactivated.")
    elif old_password is not None and password is not None and password != old_password:
        ended = ("password_changed", "Your password was changed.")
    else:
        return
    # After the commit: a socket reconnecting sooner would find the user unchanged.
    transaction.on_commit(lambda: end_user_sockets(instance.pk, *ended))


@receiver(post_delete, sender=settings.AUTH_USER_MODEL)
def end_sockets_of_deleted_user(sender, instance, **kwargs):
    pk = instance.pk
    transaction.on_commit(
        lambda: end_user_sockets(pk, "account_deleted", "Your account was deleted.")
    )
