"""A throwaway Redis server for the rate-limit tests: ``redis-server`` in a temp dir,
listening on a unix socket only (no TCP port), no persistence; stopped and removed
afterwards.

The binary comes from ``REDIS_SERVER`` if set, else ``redis-server`` on ``PATH`` (Debian's
``redis-server`` package puts it in /usr/bin).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

START_TIMEOUT = 30.0


def find_redis_server() -> str | None:
    """The ``redis-server`` binary, or None when Redis is not installed."""
    configured = os.environ.get("REDIS_SERVER", "").strip()
    if configured and os.access(configured, os.X_OK):
        return configured
    return shutil.which("redis-server")


class RedisServer:
    def __init__(self) -> None:
        binary = find_redis_server()
        if binary is None:
            raise RuntimeError(
                "redis-server not found (set REDIS_SERVER or put it on PATH). Run "
                "scripts/ensure-system-packages.sh as root, or apt-get install redis-server."
            )
        self.binary = binary
        # A unix socket path must stay under ~100 bytes: use /tmp, not a long TMPDIR.
        parent = "/tmp" if os.path.isdir("/tmp") else None
        self.base = Path(tempfile.mkdtemp(prefix="tagwright-redis-", dir=parent))
        self.socket = self.base / "redis.sock"
        self.log = self.base / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The storage URI of Flask-Limiter (``limits``) for this server."""
        return f"redis+unix://{self.socket}"

    def _log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def _answers(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(1.0)
                sock.connect(str(self.socket))
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> str:
        command = [self.binary, "--port", "0", "--unixsocket", str(self.socket),
                   "--unixsocketperm", "700", "--dir", str(self.base), "--save", "",
                   "--appendonly", "no", "--logfile", str(self.log)]
        self.process = subprocess.Popen(command, cwd=self.base, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + START_TIMEOUT
        while not self._answers():
            if self.process.poll() is not None:
                stderr = self.process.stderr.read().decode(errors="replace") \
                    if self.process.stderr else ""
                raise RuntimeError(f"{' '.join(command)} exited with code "
                                   f"{self.process.returncode}\n--- stderr ---\n{stderr}\n"
                                   f"--- server.log ---\n{self._log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not answer on {self.socket} within "
                                   f"{START_TIMEOUT:.0f} s\n--- server.log ---\n"
                                   f"{self._log_tail()}")
            time.sleep(0.05)
        return self.url

    def stop(self) -> None:
        try:
            if self.process is not None and self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            if self.process is not None and self.process.stderr:
                self.process.stderr.close()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
