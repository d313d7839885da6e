"""The test helpers themselves."""

import sys
from pathlib import Path

import pytest

from ..testing import redis_server_binary


def test_redis_server_is_found_beside_python_when_it_is_not_on_path(monkeypatch, tmp_path):
    python = tmp_path / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    (python.parent / "redis-server").touch()
    monkeypatch.setattr(sys, "executable", str(python))
    monkeypatch.setenv("PATH", str(tmp_path / "elsewhere"))

    assert Path(redis_server_binary()) == python.parent / "redis-server"


def test_without_redis_server_the_error_says_how_to_get_one(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(FileNotFoundError, match="set REDIS_URL"):
        redis_server_binary()
