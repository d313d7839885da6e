"""daphne on uvloop: `python -m realtime.serve` with daphne's own arguments.

daphne creates its event loop when it is imported, before it reads asgi.py, so
the project cannot choose the loop from there. This sets uvloop's policy first
(when uvloop is installed; it has no Windows build), then runs daphne's command
line unchanged. In the template's benchmark, uvloop delivered a fifth to a quarter
more chat messages per second than asyncio's own loop. `daphne ...` still serves
the project, on asyncio's loop.
"""

import asyncio
import sys


def main():
    try:
        import uvloop
    except ImportError:
        pass
    else:
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    # Imported only now: importing daphne's server creates the loop it runs on.
    from daphne.cli import CommandLineInterface

    sys.argv[0] = "daphne"
    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
