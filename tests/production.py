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


def unit_environment(unit: Path, instance_name: str = "1") -> dict[str, str]:
    """The variables a unit's Environment= lines set (%i: the template's instance)."""
    variables = {}
    for line in unit.read_text(encoding="utf-8").splitlines():
        if line.startswith("Environment="):
            key, value = line[len("Environment="):].split("=", 1)
            variables[key] = value.replace("%i", instance_name)
    return variables


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
        # Each unit's own variables; its runtime directory (/run/knet-web…) becomes a directory beside the logs.
        self.unit_environments = {
            process.name: {name: value.replace("/run/", f"{logs}/run/", 1) if value.startswith("/run/") else value
                           for name, value in unit_environment(unit, instance_name).items()}
            for process, unit, instance_name in [(self.web, WEB_UNIT, "1")] + [
                (worker, WORKER_UNIT, str(number)) for number, worker in enumerate(self.workers, start=1)]}
        logs.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def processes(self) -> list[Process]:
        return [self.web, *self.workers]

    def _environ(self, process: Process) -> dict[str, str]:
        # As systemd gives it: the unit's variables, not this process's KNET_* ones (PYTHONPATH stays, so that
        # a checkout's code is what runs).
        environ = {key: value for key, value in os.environ.items() if not key.startswith("KNET_")}
        environ.update(self.environment)
        own = self.unit_environments.get(process.name, {})
        environ.update(own)
        for value in own.values():
            if value.startswith(f"{self.logs}/run/"):  # as systemd makes a unit's RuntimeDirectory
                Path(value).mkdir(parents=True, exist_ok=True)
        return environ

    def start(self, wait: bool = True) -> Production:
        """Start every process; with wait=False, return at once (call wait_ready() later), so that several
        nodes can start at the same time."""
        try:
            for process in self.workers:
                self.launch(process)
            self.launch(self.web)
            if wait:
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
            process.popen = subprocess.Popen(process.argv, cwd=ROOT, env=self._environ(process), stdin=subprocess.DEVNULL,
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

    def terminate(self, process: Process, seconds: float = STOP_SECONDS, signalled: bool = False) -> int:
        """SIGTERM to the process (systemd's KillSignal, to the main process; once, as systemd sends it: a
        second one could cut a Python process's own clean exit short) and its exit status."""
        if process.running():
            if not signalled:
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
        """SIGTERM every process at once, as `systemctl stop knet.target` does, and return each one's exit
        status once it has exited."""
        running = [process for process in [*self.workers, self.web] if process.running()]
        for process in running:
            process.popen.send_signal(signal.SIGTERM)
        return {process.name: self.terminate(process, signalled=process in running)
                for process in [*self.workers, self.web] if process.popen is not None}

    def close(self) -> None:
        """Make sure nothing is left running (after a failed test): SIGKILL whatever still runs."""
        for process in self.processes:
            self.kill(process)

    def __enter__(self) -> Production:
        if all(process.popen is None for process in self.processes):  # not started with start(wait=False)
            self.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


NGINX = "/usr/sbin/nginx"
NGINX_SITE = DEPLOY / "nginx-knet.conf"


def nginx_site(port: int, http_port: int, upstream_port: int, certificate: Path, key: Path, directory: Path) -> str:
    """deploy/nginx-knet.conf for a test: the same server blocks on loopback ports, with a throwaway certificate
    and the upstream gunicorn's port. Every line replaced must be there, so the file and the test stay one."""
    text = NGINX_SITE.read_text(encoding="utf-8")
    for old, new in (("listen [::]:80;", ""), ("listen [::]:443 ssl http2;", ""),
                     ("listen 80;", f"listen 127.0.0.1:{http_port};"),
                     ("listen 443 ssl http2;", f"listen 127.0.0.1:{port} ssl http2;"),
                     ("/etc/letsencrypt/live/knet.example.gr/fullchain.pem", str(certificate)),
                     ("/etc/letsencrypt/live/knet.example.gr/privkey.pem", str(key)),
                     ("root /var/www/html;", f"root {directory};"),
                     ("proxy_pass http://127.0.0.1:8000;", f"proxy_pass http://127.0.0.1:{upstream_port};")):
        if old not in text:
            raise LaunchError(f"{NGINX_SITE} no longer has {old!r}: update tests/production.py with it.")
        text = text.replace(old, new)
    return text


class Nginx:
    """nginx as an unprivileged process of its own (its configuration, logs and temporary files in
    `directory`), serving deploy/nginx-knet.conf over TLS on a loopback port in front of gunicorn."""

    def __init__(self, directory: Path, upstream_port: int, certificate: Path, key: Path) -> None:
        self.directory = directory
        self.port, self.http_port = free_port(), free_port()
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "site.conf").write_text(
            nginx_site(self.port, self.http_port, upstream_port, certificate, key, directory), encoding="utf-8")
        # As root, nginx would hand its workers to `nobody`, who cannot enter pytest's private directories.
        user = "user root root;\n" if os.geteuid() == 0 else ""
        (directory / "nginx.conf").write_text(
            f"{user}daemon off;\nworker_processes 1;\npid {directory}/nginx.pid;\nerror_log {directory}/error.log info;\n"
            "events { worker_connections 256; }\n"
            f"http {{\n  access_log {directory}/access.log;\n"
            + "".join(f"  {kind}_temp_path {directory}/{kind}-temp;\n"
                      for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
            + f"  include /etc/nginx/mime.types;\n  include {directory}/site.conf;\n}}\n", encoding="utf-8")
        self.popen: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> Nginx:
        command = [NGINX, "-p", str(self.directory), "-c", str(self.directory / "nginx.conf"),
                   "-e", str(self.directory / "error.log")]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
        if checked.returncode != 0:
            raise LaunchError(f"nginx refuses the configuration:\n{checked.stderr}")
        with (self.directory / "stderr.log").open("ab") as log:
            self.popen = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if self.popen.poll() is not None or time.monotonic() > deadline:
                    raise LaunchError("nginx did not start:\n" + (self.directory / "error.log").read_text(
                        errors="replace")[-3000:]) from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGQUIT)  # nginx's graceful stop
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)

    def __enter__(self) -> Nginx:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()
