"""Nodes as separate processes (`knet run`) on loopback ports, each with its own instance and database,
talking to each other over real HTTP."""
from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.conftest import copy_node
from tests.test_cli import KNET, knet

#: How long a node may take to start answering.
START_SECONDS = 30


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Node:
    name: str
    url: str
    instance: Path
    log: Path
    process: subprocess.Popen | None = None
    database: str | None = None
    extra: dict = field(default_factory=dict)
    #: Whether the node runs its worker (deliveries, pulls, indexing) as `knet run` does by default.
    worker: bool = False

    def knet(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        """Run a `knet` command on this node, as its administrator would (typing `stdin`)."""
        return knet(*args, "--instance", str(self.instance), stdin=stdin)

    def start(self) -> None:
        with self.log.open("ab") as log:  # the child keeps its own copy of the file
            self.process = subprocess.Popen(
                [str(KNET), "run", "--instance", str(self.instance), "--port", self.url.rsplit(":", 1)[1],
                 *([] if self.worker else ["--no-worker"])], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"{self.name} stopped at start:\n{self.log.read_text(errors='replace')[-3000:]}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        pytest.fail(f"{self.name} did not answer within {START_SECONDS} s:\n{self.log.read_text(errors='replace')[-3000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def node_maker(root: Path, node_template, postgres) -> Iterator:
    """make(name, worker=False, **settings) starts a node under `root` on a free port and returns it; every
    node made stops (and its PostgreSQL database is dropped) when the block ends."""
    made: list[Node] = []

    def make(name: str, worker: bool = False, **settings) -> Node:
        url = f"http://127.0.0.1:{free_port()}"
        path = root / f"node-{len(made) + 1}"
        node = Node(name, url, path, root / f"node-{len(made) + 1}.log", worker=worker)
        node.database = copy_node(node_template, postgres, path, name=name, url=url, **settings)
        made.append(node)
        node.start()
        return node

    try:
        yield make
    finally:
        for node in made:
            node.stop()
        for node in made:
            if node.database:
                postgres.drop_database(node.database)


@pytest.fixture
def make_node(tmp_path, node_template, postgres):
    """make_node("Δήμος Αθηναίων") starts a node on a free port and returns it; all stop after the test.
    With worker=True it runs its worker; `settings` go to its knet.toml (federation={"pull_seconds": 2})."""
    with node_maker(tmp_path, node_template, postgres) as make:
        yield make
