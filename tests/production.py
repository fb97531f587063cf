"""A node run as docs/deploy.md runs it: gunicorn and `knet worker` processes started from the ExecStart lines
of deploy/knet-web.service and deploy/knet-worker@.service, with deploy/knet.env, so that the document's
units and what the tests and benchmarks run cannot drift apart.

Used by tests/deploy (the deployment smoke test, the proxy test) and bench/load_bench.py; a crash test can
SIGKILL one process and start it again.
"""
from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
WEB_UNIT = DEPLOY / "knet-web.service"
WORKER_UNIT = DEPLOY / "knet-worker@.service"
ENV_FILE = DEPLOY / "knet.env"
#: Where the units expect the code and its virtual environment (scripts/install.sh in /opt/knet).
UNIT_CODE = "/opt/knet"
UNIT_VENV_BIN = "/opt/knet/.venv/bin/"
#: How long gunicorn may take to answer /healthz after it starts.
START_SECONDS = 40
#: How long a process may take to exit after SIGTERM (the units' TimeoutStopSec is longer).
STOP_SECONDS = 30


class LaunchError(Exception):
    """A process of the node did not start or stop as it should; the message has its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unit_settings(unit: Path) -> dict[str, str]:
    """The [Service] settings of a unit file (the last value of each key)."""
    settings: dict[str, str] = {}
    for line in unit.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            key, value = line.split("=", 1)
            settings[key.strip()] = value.strip()
    return settings


def environment_file(path: Path = ENV_FILE) -> dict[str, str]:
    """The variables of a systemd EnvironmentFile (KEY=VALUE lines; # comments)."""
    variables = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, value = line.split("=", 1)
            variables[key.strip()] = value.strip().strip('"')
    return variables


def exec_start(unit: Path, environment: dict[str, str], instance_name: str = "1") -> list[str]:
    """The unit's ExecStart as systemd runs it: ${NAME} from `environment`, %i the template's instance, and
    the unit's /opt/knet/.venv/bin/ programs taken from this Python's environment."""
    line = unit_settings(unit)["ExecStart"].replace("%i", instance_name)

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in environment:
            raise LaunchError(f"{unit.name} uses ${{{name}}}, which {ENV_FILE.name} does not set.")
        return environment[name]

    argv = shlex.split(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", value, line))
    bin_dir = str(Path(sys.executable).parent) + "/"
    return [bin_dir + arg[len(UNIT_VENV_BIN):] if arg.startswith(UNIT_VENV_BIN) else arg for arg in argv]


@dataclass
class Process:
    """One process of the node (gunicorn's master, or a worker) and its log."""

    name: str
    argv: list[str]
    log: Path
    popen: subprocess.Popen | None = None
    #: Exit statuses of the earlier runs of this process (after a kill and a restart).
    exits: list[int] = field(default_factory=list)

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


class Production:
    """gunicorn with `web_workers` workers and `workers` `knet worker` processes for an instance directory,
    started as the systemd units start them, in the repository as their working directory.

    `environment` overrides deploy/knet.env (the instance directory, the port and worker count are set
    here); each process logs to `logs`/<name>.log."""

    def __init__(self, instance: Path, logs: Path, web_workers: int = 2, workers: int = 2, port: int | None = None,
                 environment: dict[str, str] | None = None) -> None:
        self.instance, self.logs = instance, logs
        self.port = port or free_port()
        self.environment = {**environment_file(), "KNET_INSTANCE": str(instance),
                            "KNET_WEB_BIND": f"127.0.0.1:{self.port}", "KNET_WEB_WORKERS": str(web_workers),
                            **(environment or {})}
        self.web = Process("web", exec_start(WEB_UNIT, self.environment), logs / "web.log")
        self.workers = [Process(f"worker-{number}", exec_start(WORKER_UNIT, self.environment, str(number)),
                                logs / f"worker-{number}.log") for number in range(1, workers + 1)]
        logs.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def processes(self) -> list[Process]:
        return [self.web, *self.workers]

    def _environ(self) -> dict[str, str]:
        # As systemd gives it: the unit's variables, not this process's KNET_* ones (PYTHONPATH stays, so that
        # a checkout's code is what runs).
        environ = {key: value for key, value in os.environ.items() if not key.startswith("KNET_")}
        environ.update(self.environment)
        return environ

    def start(self) -> Production:
        try:
            for process in self.workers:
                self.launch(process)
            self.launch(self.web)
            self.wait_ready()
        except BaseException:
            self.close()
            raise
        return self

    def launch(self, process: Process) -> None:
        if process.running():
            raise LaunchError(f"{process.name} is running already.")
        if process.popen is not None:
            process.exits.append(process.popen.returncode)
        with process.log.open("ab") as log:  # the child keeps its own copy of the descriptor
            process.popen = subprocess.Popen(process.argv, cwd=ROOT, env=self._environ(), stdin=subprocess.DEVNULL,
                                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, seconds: float = START_SECONDS) -> None:
        """Wait until gunicorn answers /healthz (and every worker is still running)."""
        deadline = time.monotonic() + seconds
        while True:
            for process in self.processes:
                if not process.running():
                    raise LaunchError(f"{process.name} exited with status {process.popen.returncode} at start:\n"
                                      f"{process.log_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise LaunchError(f"gunicorn did not answer {self.url}/healthz within {seconds:.0f} s:\n"
                                  f"{self.web.log_text()[-3000:]}")
            time.sleep(0.1)

    def terminate(self, process: Process, seconds: float = STOP_SECONDS) -> int:
        """SIGTERM to the process (systemd's KillSignal, to the main process) and its exit status."""
        if process.running():
            process.popen.send_signal(signal.SIGTERM)
            try:
                process.popen.wait(seconds)
            except subprocess.TimeoutExpired:
                self.kill(process)
                raise LaunchError(f"{process.name} did not exit within {seconds:.0f} s of SIGTERM:\n"
                                  f"{process.log_text()[-3000:]}") from None
        return process.popen.returncode

    def kill(self, process: Process) -> None:
        """SIGKILL the process and everything it started (what a crash or systemd's last resort does)."""
        if process.popen is not None and process.popen.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.popen.wait(10)

    def restart(self, process: Process) -> None:
        """Start a stopped or killed process again (systemd's Restart=always)."""
        self.launch(process)
        if process is self.web:
            self.wait_ready()

    def stop(self) -> dict[str, int]:
        """SIGTERM every process, workers first, and return each one's exit status."""
        statuses = {}
        for process in [*self.workers, self.web]:
            if process.popen is not None:
                statuses[process.name] = self.terminate(process)
        return statuses

    def close(self) -> None:
        """Make sure nothing is left running (after a failed test): SIGKILL whatever still runs."""
        for process in self.processes:
            self.kill(process)

    def __enter__(self) -> Production:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.close()
