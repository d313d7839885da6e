"""The Procfile's web command running several daphne processes on one port
(realtime.serve with DAPHNE_PROCESSES): what happens when one of them, or the process
that runs them, is killed or stopped."""

import asyncio
import os
import signal
import socket
import time
from pathlib import Path

from clients import ChatClient
from servers import UNLIMITED_CLIENTS, process_tree


def daphnes(site, count=2, gone=(), timeout=30):
    """The pids of the web command's daphne processes, once there are count of them and
    none of gone (until reaped, a dead one is still listed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = process_tree(site.daphne.process.pid)[1:]
        if len(children) == count and not set(children) & set(gone):
            return children
        time.sleep(0.1)
    raise TimeoutError(f"not {count} daphne processes after {timeout} s: {children}")


def serving_process(client, server_pids, port):
    """Which of server_pids holds the server side of client's websocket."""
    client_port = client.socket.local_address[1]
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        remote_port = int(fields[2].split(":")[1], 16)
        if (local_port, remote_port) == (port, client_port):
            inode = fields[9]
    for pid in server_pids:
        for descriptor in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if descriptor.readlink().name == f"socket:[{inode}]":
                    return pid
            except FileNotFoundError:  # closed as we looked
                pass
    raise LookupError(f"no daphne holds the socket from port {client_port}")


def refuses_connections(port, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except ConnectionRefusedError:
            return True
        time.sleep(0.1)
    return False


def test_a_killed_daphne_is_replaced_and_its_clients_miss_nothing(production):
    site = production(DAPHNE_PROCESSES="2", **UNLIMITED_CLIENTS)
    first, second = daphnes(site)

    async def scenario():
        clients = [await ChatClient.join(site.url, "lobby") for _ in range(16)]
        holder = {client: serving_process(client, (first, second), site.port) for client in clients}
        victim = max((first, second), key=list(holder.values()).count)
        doomed = [client for client in clients if holder[client] == victim]
        survivors = [client for client in clients if holder[client] != victim]
        assert survivors, "both daphnes accept connections on the shared port"
        await survivors[0].send("before the crash")
        last_seen = [(await client.next("message"))["id"] for client in clients][-1]

        os.kill(victim, signal.SIGKILL)  # no goodbye, as from the OOM killer
        codes = [await client.until_closed() for client in doomed]
        await survivors[0].send("while they were away")
        heard = [(await client.next("message"))["text"] for client in survivors]

        replacement = await asyncio.to_thread(daphnes, site, gone=[victim])
        back = [await ChatClient.join(site.url, "lobby", after=last_seen) for _ in doomed]
        missed = [[message["text"] for message in client.history["messages"]] for client in back]
        for client in survivors + back:
            await client.close()
        return victim, len(doomed), len(survivors), codes, heard, replacement, missed

    victim, doomed, survivors, codes, heard, replacement, missed = asyncio.run(scenario())

    print(f"16 sockets over two daphnes: {doomed} on the killed one, {survivors} on the other")
    assert codes == [1006] * doomed  # dropped, no close frame
    assert heard == ["while they were away"] * survivors
    assert set(replacement) - {first, second}  # a new daphne beside the survivor
    assert "starting another" in site.daphne.output()
    assert missed == [["while they were away"]] * doomed


def test_sigterm_stops_every_daphne_and_frees_the_port(production):
    site = production(DAPHNE_PROCESSES="2")
    pids = daphnes(site)

    site.daphne.process.send_signal(signal.SIGTERM)

    assert site.daphne.process.wait(timeout=30) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)
    assert refuses_connections(site.port)


def test_daphnes_stop_when_the_process_that_runs_them_is_killed(production):
    site = production(DAPHNE_PROCESSES="2")
    pids = daphnes(site)

    site.daphne.process.kill()

    # Nothing keeps serving, and holding the port, after the web command is gone.
    assert refuses_connections(site.port)
    deadline = time.monotonic() + 15
    while any(Path(f"/proc/{pid}").exists() for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)
