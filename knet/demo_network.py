"""The demonstration network's processes: three towns, each a `knet run` of its own on 127.0.0.1, peered with
each other through `knet peer add`, watched, and stopped together.

Everything here goes through the `knet` console script, as an administrator would: knet itself never
imports federation.
"""
from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click

HOST = "127.0.0.1"
#: The towns, in order: the first listens on the chosen port, the others on the next ones.
TOWNS = (("athina", "Δήμος Αθηναίων"), ("thessaloniki", "Δήμος Θεσσαλονίκης"), ("irakleio", "Δήμος Ηρακλείου"))
#: Each town's output, in its instance directory.
LOG = "knet.log"
#: Seconds a town may take to start listening.
START_SECONDS = 60
#: Seconds the towns get to stop before they are killed.
STOP_SECONDS = 10
#: Seconds a `knet peer` command may take.
COMMAND_SECONDS = 60
#: Lines of a town's log shown when it fails.
TAIL_LINES = 15
#: What stops the network (SIGHUP: the terminal was closed).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: The console script of this installation, beside its interpreter.
KNET = str(Path(sys.executable).parent / "knet")


@dataclass
class Town:
    """One municipality of the network and, once started, its process."""

    name: str
    instance: Path
    port: int
    #: Whether this run created it (so it has no peers yet).
    new: bool = False
    process: subprocess.Popen | None = None
    #: Where this run's output starts in the log.
    log_start: int = 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def log(self) -> Path:
        return self.instance / LOG


def towns(directory: Path, port: int) -> list[Town]:
    """The three towns, with their instance directories under `directory` and consecutive ports from `port`."""
    return [Town(name, directory / slug, port + number) for number, (slug, name) in enumerate(TOWNS)]


def check_ports(network: list[Town]) -> None:
    """Stop with one sentence if a town's port cannot be listened on."""
    for town in network:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            # As the server will: a port left in TIME_WAIT by a previous run is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((HOST, town.port))
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise click.ClickException(
                        f"Port {town.port} of {HOST} is in use, and the demonstration needs ports {network[0].port} "
                        f"to {network[-1].port}: stop what uses it or choose other ports with --port.") from None
                raise click.ClickException(f"Cannot listen on port {town.port} of {HOST}: {exc.strerror}.") from None


def serve(network: list[Town], announce: Callable[[], None]) -> None:
    """Start the towns, peer them, `announce` them, and keep them running until Ctrl+C, SIGTERM or SIGHUP
    (then return) or until one of them stops (then raise); in every case stop them all."""
    # SIGINT too: a demo started in the background by a shell would otherwise inherit it ignored.
    previous = {signum: signal.signal(signum, _interrupt) for signum in STOP_SIGNALS}
    try:
        _launch(network)
        # Reading each town's peers needs only its database, so it runs while the towns start.
        active = _active_peers([town for town in network if not town.new])
        _wait_until_listening(network)
        _peer(network, active)
        announce()
        _watch(network)
    except KeyboardInterrupt:
        click.echo("Stopping the towns...")
    finally:
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
        _stop(network)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _launch(network: list[Town]) -> None:
    click.echo(f"Starting the towns (each writes its output to {LOG} in its instance directory)...")
    for town in network:
        try:
            log = town.log.open("ab")
        except OSError as exc:
            raise click.ClickException(f"Cannot write the log of {town.name}, {town.log}: {exc.strerror}.") from None
        with log:  # the child keeps its own copy of the file
            town.log_start = log.tell()
            # A process group of its own: the terminal's Ctrl+C reaches the demo alone, which stops the towns
            # in order.
            town.process = subprocess.Popen(
                [KNET, "run", "--instance", str(town.instance), "--port", str(town.port)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, process_group=0)


def _wait_until_listening(network: list[Town]) -> None:
    deadline = time.monotonic() + START_SECONDS
    waiting = list(network)
    while waiting:
        for town in list(waiting):
            if town.process.poll() is not None:
                raise _failure(town, f"stopped while starting ({_exit(town.process.returncode)})")
            if _listening(town.port):
                waiting.remove(town)
        if waiting and time.monotonic() > deadline:
            raise _failure(waiting[0], f"did not start listening on port {waiting[0].port} "
                                       f"within {START_SECONDS} seconds")
        time.sleep(0.1)


def _listening(port: int) -> bool:
    try:
        socket.create_connection((HOST, port), timeout=1).close()
    except OSError:
        return False
    return True


def _active_peers(network: list[Town]) -> dict[str, set[str]]:
    """The addresses each town's `knet peer list` shows as active peers, by the town's address."""
    active: dict[str, set[str]] = {}
    listings = _knet_all([["peer", "list", "--instance", str(town.instance)] for town in network], "list the peers")
    for town, listing in zip(network, listings):
        if listing.returncode != 0:
            raise click.ClickException(f"Could not list the peers of {town.name}: "
                                       f"{_last_line(listing.stderr or listing.stdout)}")
        active[town.url] = {line.split()[0] for line in listing.stdout.splitlines()
                            if line.startswith("http") and "  active  " in line}
    return active


def _peer(network: list[Town], active: dict[str, set[str]]) -> None:
    """Each town adds every other that it does not have as an active peer yet, then checks that every
    agreement is active. In round k each town adds the town k places after it: with three towns no two add
    each other in the same round, so each handshake meets a side that has either committed its own addition
    or not started it."""
    rounds = [[(town, network[(number + step) % len(network)]) for number, town in enumerate(network)]
              for step in range(1, len(network))]
    rounds = [[(town, other) for town, other in pairs if other.url not in active.get(town.url, ())]
              for pairs in rounds]
    if not any(rounds):
        return
    click.echo("Peering the towns with each other...")
    for pairs in rounds:
        results = _knet_all([["peer", "add", other.url, "--yes", "--instance", str(town.instance)]
                             for town, other in pairs], "add a peer")
        for (town, other), result in zip(pairs, results):
            if result.returncode != 0:
                raise click.ClickException(f"{town.name} could not add {other.name} as a peer: "
                                           f"{_last_line(result.stderr or result.stdout)}")
    active = _active_peers(network)
    for town in network:
        for other in network:
            if other is not town and other.url not in active[town.url]:
                raise click.ClickException(f"The agreement of {town.name} with {other.name} is not active; "
                                           f"'knet peer list --instance {town.instance}' says why.")


def _knet_all(commands: list[list[str]], what: str) -> list[subprocess.CompletedProcess]:
    """Run `knet` commands side by side (each start costs a second of imports) and wait for them all."""
    processes = [subprocess.Popen([KNET, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, process_group=0) for args in commands]
    try:
        results = []
        for args, process in zip(commands, processes):
            try:
                stdout, stderr = process.communicate(timeout=COMMAND_SECONDS)
            except subprocess.TimeoutExpired:
                raise click.ClickException(f"Could not {what}: 'knet {' '.join(args)}' did not finish within "
                                           f"{COMMAND_SECONDS} seconds.") from None
            results.append(subprocess.CompletedProcess(args, process.returncode, stdout, stderr))
        return results
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.communicate()


def _watch(network: list[Town]) -> None:
    while True:
        for town in network:
            if town.process.poll() is not None:
                raise _failure(town, f"stopped unexpectedly ({_exit(town.process.returncode)})")
        time.sleep(0.5)


def _stop(network: list[Town]) -> None:
    """Terminate every town still running, wait for each, and kill those that do not stop in time."""
    running = [town.process for town in network if town.process is not None and town.process.poll() is None]
    for process in running:
        process.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for process in running:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _failure(town: Town, what: str) -> click.ClickException:
    """One sentence saying which town failed and how, followed by the end of its log."""
    return click.ClickException(f"{town.name} ({town.url}) {what}; the end of its log {town.log}:\n"
                                f"{_tail(town)}")


def _tail(town: Town) -> str:
    try:
        with town.log.open("rb") as log:
            log.seek(town.log_start)
            lines = log.read().decode("utf-8", errors="replace").splitlines()[-TAIL_LINES:]
    except OSError as exc:
        return f"    (could not read it: {exc.strerror})"
    return "\n".join(f"    {line}" for line in lines) or "    (empty)"


def _exit(returncode: int) -> str:
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    return f"exit status {returncode}"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "it gave no reason."


def without_overrides() -> list[str]:
    """Drop KNET_* variables but KNET_INSTANCE from this process's environment (its towns inherit it): a
    KNET_DATABASE or KNET_URL would give the three towns one database or one address. Returns their names."""
    dropped = sorted(name for name in os.environ if name.startswith("KNET_") and name != "KNET_INSTANCE")
    for name in dropped:
        del os.environ[name]
    return dropped
