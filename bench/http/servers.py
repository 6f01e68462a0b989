"""Starting, watching and stopping a peer's server process on loopback.

``ServerProcess`` runs one command (no shell, so its pid is the server's own), waits
until ``GET /healthz`` (or the peer's own ready path) answers, reads the process's CPU
time and peak RSS from ``/proc``, and stops it with SIGTERM (SIGKILL after a grace).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


class ServerFailed(Exception):
    """A server that did not come up; the message has the tail of its output."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """One server process; ``base_url`` is where it listens."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        port: int,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        log: Path,
        ready_path: str = "/healthz",
        ready_timeout: float = 60.0,
    ) -> None:
        self.name = name
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self._log_path = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log = log.open("wb")
        self._process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_ready(ready_path, ready_timeout)
        except BaseException:
            self.stop()
            raise

    @property
    def pid(self) -> int:
        return self._process.pid

    def _wait_ready(self, path: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ServerFailed(
                    f"{self.name} exited with {self._process.returncode}: {self.output_tail()}"
                )
            try:
                with urllib.request.urlopen(self.base_url + path, timeout=2):
                    return
            except urllib.error.HTTPError as exc:
                if exc.code < 500:  # it answers: a 4xx is the peer's own business
                    return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise ServerFailed(
            f"{self.name} did not answer {path} in {timeout:.0f} s: {self.output_tail()}"
        )

    def output_tail(self, chars: int = 2000) -> str:
        """The end of what the server printed."""
        self._log.flush()
        text = self._log_path.read_bytes()[-chars:].decode("utf-8", "replace")
        return text.strip() or "(no output)"

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far (all its threads)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        # After the command name: state is field 3, utime and stime are fields 14 and 15.
        return (int(fields[11]) + int(fields[12])) / _TICKS

    def peak_rss_bytes(self) -> int | None:
        """The process's peak resident set size (VmHWM) since start or the last reset."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return None

    def reset_peak_rss(self) -> bool:
        """Start VmHWM afresh from the current RSS (``clear_refs`` 5); False where not allowed."""
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True

    def alive(self) -> bool:
        return self._process.poll() is None

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM, then SIGKILL if it is still running after ``grace`` seconds."""
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(grace)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()
