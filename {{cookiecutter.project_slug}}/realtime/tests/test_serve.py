import subprocess
import sys

from django.conf import settings

# Asks daphne's command line for its help, then names the class of the loop daphne
# made when it was imported.
LOOP_OF_DAPHNE = """
import sys
sys.argv = ["serve", "--help"]
from realtime import serve
try:
    serve.main()
except SystemExit:
    pass
from daphne import server
print(type(server.twisted_loop).__module__)
"""


def test_the_procfiles_daphne_runs_on_uvloop():
    result = subprocess.run(
        [sys.executable, "-c", LOOP_OF_DAPHNE],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )

    assert "--websocket_connect_timeout" in result.stdout  # daphne's own options
    assert result.stdout.splitlines()[-1].startswith("uvloop")
