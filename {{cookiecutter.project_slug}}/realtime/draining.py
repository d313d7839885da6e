"""Draining: on SIGTERM daphne hands its clients to the other servers, then exits.

daphne stops at once on SIGTERM or SIGINT: its websockets drop without a close frame
and its requests in flight fail (django/daphne#177). drain_daphne(), called by asgi.py
before daphne starts, makes every daphne that serves the project instead:

1. stop accepting connections, so that the proxy (or the kernel, between the daphnes
   of realtime.serve) gives new ones to the other servers;
2. close each websocket with 1001 (going away) and the reason "server restarting":
   clients reconnect, and ask for what they missed (?after= in the chat);
3. answer the long-polls that are waiting (until_drain()) at once, so that their
   clients poll again, elsewhere;
4. let the requests in flight finish, closing each keep-alive connection once it is
   idle, so that the proxy sends nothing more down it;
5. exit once no connection is left, or DAPHNE_DRAIN_TIMEOUT seconds after the
   signal, whichever comes first; daphne then cancels what is still running.
"""

import asyncio
import logging
import time

from daphne import server as daphne_server
from daphne.ws_protocol import WebSocketProtocol
from django.conf import settings
from twisted.internet import defer, reactor, task

logger = logging.getLogger(__name__)

CLOSE_GOING_AWAY = 1001
GOING_AWAY_REASON = b"server restarting"
# Seconds between two looks at the connections while draining.
TICK = 0.05

draining = False
# Futures of the long-polls waiting in until_drain(), resolved when draining starts.
waiting: set[asyncio.Future[None]] = set()


async def until_drain(seconds):
    """Sleep for seconds, or until this process starts draining, whichever is first."""
    if draining:
        return
    drained = asyncio.get_running_loop().create_future()
    waiting.add(drained)
    try:
        await asyncio.wait_for(drained, seconds)
    except TimeoutError:
        pass
    finally:
        waiting.discard(drained)


def start_draining():
    global draining
    draining = True
    for drained in waiting:
        if not drained.done():
            drained.set_result(None)


def hand_over(connections):
    """Close what can close now: open websockets (1001) and idle HTTP connections; mark
    busy ones to close after their response. Returns how many connections are left.

    connections are the transports of daphne's HTTP factory (realtime.server's), each
    wrapping an HTTP protocol or, once upgraded, a WebSocketProtocol.
    """
    for connection in list(connections):
        protocol = connection.wrappedProtocol
        if isinstance(protocol, WebSocketProtocol):
            if protocol.state == protocol.STATE_OPEN:
                # Not sendClose(), which allows applications 1000 and 3000-4999 only:
                # 1001 is the code for a server going away (RFC 6455, 7.4.1).
                protocol.sendCloseFrame(code=CLOSE_GOING_AWAY, reasonUtf8=GOING_AWAY_REASON)
            continue
        # Twisted's HTTP protocol holds the HTTPChannel that parses the requests.
        channel = getattr(protocol, "_channel", protocol)
        if channel.requests:
            # Closed once its response is sent, not kept alive for the proxy's next one.
            channel.persistent = False
        else:
            connection.loseConnection()
    return len(connections)


def drain(connections):
    """A Deferred that fires once connections have closed, or at the drain timeout."""
    deadline = time.monotonic() + settings.DAPHNE_DRAIN_TIMEOUT
    logger.info("Draining %s connections", len(connections))

    @defer.inlineCallbacks
    def wait():
        while hand_over(connections) and time.monotonic() < deadline:
            yield task.deferLater(reactor, TICK, lambda: None)
        if connections:
            logger.warning("Drain timeout: %s connections left", len(connections))

    return wait()


def drain_daphne():
    """Make the daphne that imports the application drain on SIGTERM, as above.

    Works on the connections of realtime.server's HTTP factory: call limit_daphne() too.
    """
    server_class = daphne_server.Server
    if getattr(server_class, "drains", False):
        return
    listen_success = server_class.listen_success
    kill_all_applications = server_class.kill_all_applications

    def keep_port(server, port):
        server.drain_ports = [*getattr(server, "drain_ports", ()), port]
        return listen_success(server, port)

    def drain_then_kill(server):
        # daphne calls this before the reactor shuts down, and waits for its Deferred.
        start_draining()
        for port in getattr(server, "drain_ports", ()):
            port.stopListening()
        drained = drain(server.http_factory.protocols)
        # Whatever happened while draining, daphne still stops.
        drained.addErrback(lambda failure: logger.error("Drain failed: %s", failure.getTraceback()))
        drained.addCallback(lambda _: kill_all_applications(server))
        return drained

    server_class.listen_success = keep_port
    server_class.kill_all_applications = drain_then_kill
    server_class.drains = True
