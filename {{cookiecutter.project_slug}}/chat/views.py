import secrets

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render

from .consumers import GUEST_NAME_SESSION_KEY
from .rooms import InvalidRoomName, canonical_room_name, is_members_only


def enter(request):
    """The index page's form: the room typed, or the page saying why it cannot be used."""
    try:
        room_name = canonical_room_name(request.GET.get("room", ""))
    except InvalidRoomName as error:
        return bad_room(request, error)
    return redirect("chat:room", room_name=room_name)


def room(request, room_name):
    try:
        canonical = canonical_room_name(room_name)
    except InvalidRoomName as error:
        return bad_room(request, error)
    if canonical != room_name:
        # One address per room: "ｌｏｂｂｙ" is "lobby".
        return redirect("chat:room", room_name=canonical)
    if is_members_only(room_name) and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    # The socket reads this from the session: a guest keeps one name across reconnects.
    guest_name = request.session.setdefault(GUEST_NAME_SESSION_KEY, f"guest-{secrets.token_hex(3)}")
    your_name = request.user.username if request.user.is_authenticated else guest_name
    return render(request, "chat/room.html", {"room_name": room_name, "your_name": your_name})


def bad_room(request, error):
    return render(request, "chat/bad_room.html", {"reason": str(error)}, status=400)
