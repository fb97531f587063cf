"""`knet demo`, run as a person runs it: three municipalities, each its own process on 127.0.0.1, peered with
each other, finding each other's public pages, and stopped together (the demo uses SQLite by design, also
when the suite runs on PostgreSQL)."""
from __future__ import annotations

import errno
import os
import queue
import random
import re
import signal
import socket
import subprocess
import threading
import time
import tomllib
from pathlib import Path

import pytest
import requests

from tests.federation.network import eventually
from tests.test_cli import KNET, assert_one_sentence_failure, knet, knet_all

TOWNS = (("athina", "Δήμος Αθηναίων"), ("thessaloniki", "Δήμος Θεσσαλονίκης"), ("irakleio", "Δήμος Ηρακλείου"))
#: A town as the demo announces it: name, URL, and its administrator's sign-in.
ANNOUNCED = re.compile(r"^\s+(\S.*?)\s+(http://127\.0\.0\.1:\d+)/\s+sign in as '([^']+)' with the password '([^']+)'")
#: Thessaloniki's public English page, which the other towns should find in a network search.
SHOPS_PAGE = "Door-to-door recycling for shops"

#: The demo is SQLite by design: the PostgreSQL run of the suite leaves it out.
pytestmark = pytest.mark.sqlite_only


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            assert exc.errno == errno.EADDRINUSE, exc
            return False
    return True


def three_free_ports() -> int:
    """A port P such that P, P+1 and P+2 are free on 127.0.0.1, below the kernel's ephemeral range: the
    ports it hands out (to the other tests' servers running beside this one, and as the source port of
    every connection) never land there, so none can take P+1 between this choice and the demo's start."""
    lowest_ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(100):
        first = random.randrange(max(1024, lowest_ephemeral - 12_000), lowest_ephemeral - 2)
        if all(port_is_free(first + offset) for offset in range(3)):
            return first
    pytest.fail("No three consecutive free ports on 127.0.0.1.")


def alive(pid: int) -> bool:
    """Whether the process runs (a zombie has exited)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


class Demo:
    """`knet demo` running in the background; what it prints is read as it comes."""

    def __init__(self, instance: Path, port: int) -> None:
        environment = {key: value for key, value in os.environ.items() if not key.startswith("KNET_")}
        self.process = subprocess.Popen([str(KNET), "demo", "--instance", str(instance), "--port", str(port)],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment)
        self.output: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        #: The towns' processes, once announced.
        self.children: dict[str, int] = {}

    def _read(self) -> None:
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    @property
    def printed(self) -> str:
        return "".join(self.output)

    def towns(self, seconds: float = 120) -> list[tuple[str, str, str, str]]:
        """Name, URL, username and password of each town, once the demo announces them."""
        deadline, announced = time.monotonic() + seconds, []
        while len(announced) < len(TOWNS):
            try:
                line = self._lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                pytest.fail(f"knet demo announced no towns within {seconds:.0f} s:\n{self.printed}")
            if line is None:
                pytest.fail(f"knet demo stopped (status {self.process.wait()}):\n{self.printed}")
            self.output.append(line)
            if found := ANNOUNCED.match(line):
                announced.append(found.groups())
        self.children = self._children()
        return announced

    def _children(self) -> dict[str, int]:
        """The demo's child processes, by the name of the instance directory each was given."""
        found = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
                args = [os.fsdecode(arg) for arg in (stat.parent / "cmdline").read_bytes().split(b"\0")]
            except (OSError, IndexError, ValueError):
                continue
            if parent == self.process.pid and "--instance" in args:
                found[Path(args[args.index("--instance") + 1]).name] = int(stat.parent.name)
        return found

    def finish(self, seconds: float) -> int:
        """Wait for the demo to end, read the rest of its output, and return its exit status."""
        status = self.process.wait(timeout=seconds)
        while (line := self._lines.get(timeout=5)) is not None:
            self.output.append(line)
        self._reader.join()
        self.process.stdout.close()
        return status

    def stop(self) -> None:
        """Whatever a failed test left running: the demo (which stops its towns), then any town left over."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in self.children.values():
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        self._reader.join(5)
        self.process.stdout.close()


@pytest.fixture
def start_demo():
    """start_demo(instance, port) runs `knet demo`; anything still running is stopped after the test."""
    started: list[Demo] = []

    def start(instance: Path, port: int) -> Demo:
        started.append(Demo(instance, port))
        return started[-1]

    yield start
    for demo in started:
        demo.stop()


def active_peers(instance: Path) -> list[set[str]]:
    """What `knet peer list` shows as active at each town."""
    listings = knet_all([["peer", "list", "--instance", str(instance / slug)] for slug, _name in TOWNS])
    for listing in listings:
        assert listing.returncode == 0, listing.stderr
    return [{line.split()[0] for line in listing.stdout.splitlines() if "  active  " in line}
            for listing in listings]


def network_search(url: str, words: str, scope: str = "network") -> list[dict]:
    answer = requests.get(f"{url}/api/v1/search", params={"q": words, "scope": scope}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]


def assert_stopped(demo: Demo, port: int) -> None:
    assert sorted(demo.children) == sorted(slug for slug, _name in TOWNS), demo.children
    assert demo.finish(15) == 0, demo.printed
    assert not [slug for slug, pid in demo.children.items() if alive(pid)], demo.printed
    assert all(port_is_free(port + offset) for offset in range(3))


def test_three_peered_towns_find_each_others_pages_stop_together_and_start_again(tmp_path, start_demo):
    instance, port = tmp_path / "demo", three_free_ports()
    demo = start_demo(instance, port)
    towns = demo.towns()
    assert [(name, url) for name, url, _user, _password in towns] == [
        (name, f"http://127.0.0.1:{port + number}") for number, (_slug, name) in enumerate(TOWNS)]
    urls = [url for _name, url, _user, _password in towns]
    for name, url, _user, _password in towns:
        assert requests.get(f"{url}/healthz", timeout=10).status_code == 200
        actor = requests.get(f"{url}/federation/actor", headers={"Accept": "application/activity+json"}, timeout=10)
        assert actor.json()["name"] == name
    assert active_peers(instance) == [set(urls) - {url} for url in urls]

    athens, thessaloniki = urls[0], urls[1]
    assert network_search(athens, "cardboard", scope="local") == []
    found = eventually(lambda: [hit for hit in network_search(athens, "cardboard") if hit["title"] == SHOPS_PAGE],
                       f"Athens finds Thessaloniki's page «{SHOPS_PAGE}» in a network search", seconds=30)
    assert [hit["home"].rstrip("/") for hit in found] == [thessaloniki]

    configs = {slug: (instance / slug / "knet.toml").read_bytes() for slug, _name in TOWNS}
    demo.process.send_signal(signal.SIGINT)
    assert_stopped(demo, port)

    again = start_demo(instance, port)
    assert again.towns() == towns
    assert "Created the node" not in again.printed and "Peering" not in again.printed, again.printed
    assert {slug: (instance / slug / "knet.toml").read_bytes() for slug, _name in TOWNS} == configs
    again.process.send_signal(signal.SIGTERM)
    assert_stopped(again, port)


def test_a_town_that_dies_stops_the_others_and_the_demo_says_which_and_why(tmp_path, start_demo):
    instance, port = tmp_path / "demo", three_free_ports()
    demo = start_demo(instance, port)
    demo.towns()
    os.kill(demo.children["thessaloniki"], signal.SIGKILL)
    assert demo.finish(20) == 1
    assert f"Δήμος Θεσσαλονίκης (http://127.0.0.1:{port + 1}) stopped unexpectedly (killed by SIGKILL)" \
           in demo.printed, demo.printed
    assert str(instance / "thessaloniki" / "knet.log") in demo.printed
    assert "Traceback" not in demo.printed
    assert not [slug for slug, pid in demo.children.items() if alive(pid)]
    assert all(port_is_free(port + offset) for offset in range(3))


def test_no_serve_prepares_the_three_towns_which_keep_their_ports(tmp_path):
    instance = tmp_path / "demo"
    prepared = knet("demo", "--instance", str(instance), "--port", "6100", "--no-serve")
    assert prepared.returncode == 0, prepared.stderr
    for number, (slug, name) in enumerate(TOWNS):
        settings = tomllib.loads((instance / slug / "knet.toml").read_text(encoding="utf-8"))
        assert (settings["name"], settings["url"]) == (name, f"http://127.0.0.1:{6100 + number}")
        assert re.search(rf"{name}\s+{re.escape(str(instance / slug))}\s+sign in as 'admin' with the password '\S+'", prepared.stdout)
    for listing in knet_all([["peer", "list", "--instance", str(instance / slug)] for slug, _name in TOWNS]):
        assert "no peers yet" in listing.stdout

    moved = knet("demo", "--instance", str(instance), "--port", str(three_free_ports()))
    sentence = assert_one_sentence_failure(moved)
    assert moved.returncode == 1 and "http://127.0.0.1:6100" in sentence and "--port" in sentence


def test_a_port_in_use_stops_the_demo_with_one_sentence(tmp_path):
    port = three_free_ports()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", port + 1))
        busy.listen()
        result = knet("demo", "--instance", str(tmp_path / "demo"), "--port", str(port))
    sentence = assert_one_sentence_failure(result)
    assert result.returncode == 1 and f"Port {port + 1} of 127.0.0.1 is in use" in sentence
    assert not (tmp_path / "demo").exists()


def test_an_instance_directory_that_cannot_be_made_stops_the_demo_with_one_sentence(tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("not a directory", encoding="utf-8")
    result = knet("demo", "--instance", str(blocker / "demo"), "--no-serve")
    sentence = assert_one_sentence_failure(result)
    assert result.returncode == 1 and "Δήμος Αθηναίων" in sentence and "Not a directory" in sentence
