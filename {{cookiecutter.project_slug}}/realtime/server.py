"""Limits on what one HTTP client can make daphne hold, which daphne has no options for.

daphne reads a request's whole body before the application sees it, and hands it
over all at once, to memory: three 300 MiB uploads to any URL cost a gigabyte. And
twisted, under it, waits 12 hours for a request that trickles in a byte at a time
(slowloris), so a few hundred such connections exhaust the file descriptors.
limit_daphne(), called by asgi.py before daphne starts listening, makes every daphne
that serves the project (`daphne`, and `manage.py runserver`):

- answer 413 as soon as a body's declared length, or the bytes received so far,
  pass HTTP_MAX_BODY_BYTES, and keep none of it;
- close a connection whose request head (request line and headers) has not all
  arrived HTTP_HEADER_TIMEOUT seconds after the server started waiting for it
  (connection opened, or the previous response sent): this also ends idle
  keep-alive connections;
- close a connection whose body arrives slower than HTTP_BODY_MIN_RATE bytes per
  second, measured over windows of HTTP_HEADER_TIMEOUT seconds;
- raise the process's soft limit on open files to the hard limit.

Websockets, once upgraded, and long-polls waiting for their answer are not affected.
Put nginx in front as well (deploy/nginx.conf): it buffers slow clients itself.
"""

import logging
import resource

from daphne import http_protocol
from daphne import server as daphne_server
from django.conf import settings
from twisted.internet import reactor
from twisted.internet.protocol import connectionDone
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory

logger = logging.getLogger(__name__)

TOO_LARGE = (
    b"HTTP/1.1 413 Content Too Large\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 24\r\n"
    b"Connection: close\r\n"
    b"\r\n"
    b"Request body too large.\n"
)
# Seconds a closed connection may still take to flush what it was sent before it is
# dropped: a client that reads nothing does not keep its socket.
FLUSH_TIMEOUT = 30


class HeadDeadline(ProtocolWrapper):
    """Closes the connection when a request head is slower than HTTP_HEADER_TIMEOUT."""

    timer = None
    abort_call = None

    def connectionMade(self):
        super().connectionMade()
        self.await_head()

    def await_head(self):
        self.cancel()
        self.timer = reactor.callLater(settings.HTTP_HEADER_TIMEOUT, self.too_slow, "head")

    def cancel(self):
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        self.timer = None

    def too_slow(self, part):
        peer = self.getPeer()
        logger.warning("Closed a connection from %s: request %s too slow", peer.host, part)
        self.drop()

    def drop(self):
        self.cancel()
        self.loseConnection()
        if self.abort_call is None:
            self.abort_call = reactor.callLater(FLUSH_TIMEOUT, self.abortConnection)

    # With the default Twisted's Protocol declares (Twisted always passes a reason).
    def connectionLost(self, reason=connectionDone):
        self.cancel()
        if self.abort_call is not None and self.abort_call.active():
            self.abort_call.cancel()
        super().connectionLost(reason)


class LimitedRequest(http_protocol.WebRequest):
    """daphne's request, refusing large bodies and slow ones as they arrive."""

    received = 0
    window_start = 0
    refused = False
    body_timer = None

    @property
    def connection(self):
        """The connection's HeadDeadline (None once daphne has handed it to a websocket)."""
        transport = self.channel.transport if self.channel is not None else None
        return transport if isinstance(transport, HeadDeadline) else None

    def gotLength(self, length):
        super().gotLength(length)
        if self.connection is not None:
            self.connection.cancel()
        if length is not None and length > settings.HTTP_MAX_BODY_BYTES:
            self.refuse_body(length)
        elif length != 0:
            self.body_timer = reactor.callLater(settings.HTTP_HEADER_TIMEOUT, self.check_rate)

    def handleContentChunk(self, data):
        if self.refused:
            return
        self.received += len(data)
        if self.received > settings.HTTP_MAX_BODY_BYTES:
            self.refuse_body(self.received)
            return
        super().handleContentChunk(data)

    def refuse_body(self, size):
        client = self.getClientAddress().host
        logger.warning("Refused a request body of %s bytes or more from %s", size, client)
        self.refused = True
        self.stop_body_timer()
        # The body never reaches the application, nor memory: answer and close.
        self.channel.transport.write(TOO_LARGE)
        if self.connection is not None:
            self.connection.drop()
        else:
            self.channel.transport.loseConnection()

    def check_rate(self):
        window = settings.HTTP_HEADER_TIMEOUT
        if self.received - self.window_start < settings.HTTP_BODY_MIN_RATE * window:
            self.body_timer = None
            if self.connection is not None:
                self.connection.too_slow("body")
            return
        self.window_start = self.received
        self.body_timer = reactor.callLater(window, self.check_rate)

    def stop_body_timer(self):
        if self.body_timer is not None and self.body_timer.active():
            self.body_timer.cancel()
        self.body_timer = None

    def requestReceived(self, command, path, version):
        self.stop_body_timer()
        if self.refused:
            return
        super().requestReceived(command, path, version)

    def finish(self):
        connection = self.connection
        super().finish()
        # Keep-alive: the next request's head has the same time to arrive.
        if connection is not None:
            connection.await_head()

    def connectionLost(self, reason):
        self.stop_body_timer()
        super().connectionLost(reason)


class LimitedHTTPFactory(http_protocol.HTTPFactory):
    def buildProtocol(self, addr):
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = LimitedRequest
        return protocol


class LimitedConnections(WrappingFactory):
    protocol = HeadDeadline


def limited_http_factory(server):
    return LimitedConnections(LimitedHTTPFactory(server))


def limit_daphne():
    """Make the daphne that imports the application apply the limits above."""
    # The factory daphne's Server.run() builds its HTTP connections with.
    daphne_server.HTTPFactory = limited_http_factory
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError) as error:
            logger.warning("Open files limit left at %s: %s", soft, error)
