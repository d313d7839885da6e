"""Routing benchmark: bakes the default project and times its router against Channels'
URLRouter on two shapes of the same routes, flat and through three levels of include()
(routing_workload.py), printing a table with the ratios.

Run from the template repository: .venv/bin/python -m bench.routing [rounds]
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.bakery import bake, generated_python


def main():
    rounds = sys.argv[1] if len(sys.argv) > 1 else "2000"
    with tempfile.TemporaryDirectory() as workdir:
        python = generated_python(bake(Path(workdir) / "full", database="postgresql"))
        project = bake(Path(workdir) / "default")
        workload = Path(__file__).with_name("routing_workload.py")
        router = "realtime.routing.URLRouter"  # the project's, as its code imports it
        env = {**os.environ, "PYTHONPATH": "."}
        subprocess.run([python, workload, router, rounds], cwd=project, env=env, check=True)


if __name__ == "__main__":
    main()
