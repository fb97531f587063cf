"""Staff writing to a deployed node over real HTTP while something fails under it, and what they were told.

Each simulated person writes pages and questions and answers through /api/v1 with a token of their own; every
write the node acknowledged (201 with the new item) is kept, to be read back afterwards. Connection errors (a
process was killed) are counted, not failures; a 500 is always a failure."""
from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

from tests.test_cli import PASSWORD, TOKEN, knet, knet_all


@dataclass
class Deployed:
    instance: Path
    url: str
    tokens: list[str]


def deploy(instance: Path, url: str, database: str, people: int) -> Deployed:
    """`knet init` on `database`, as docs/deploy.md says, `people` editors and a write token each."""
    created = knet("init", "--instance", str(instance), "--name", "Δήμος Αντοχής", "--url", url,
                   "--database", database)
    assert created.returncode == 0, created.stderr
    admin = knet("user", "create-admin", "--instance", str(instance), "--username", "admin", "--password-stdin",
                 stdin=PASSWORD + "\n")
    assert admin.returncode == 0, admin.stderr
    # One token each, all the admin's (the tokens are what tell the writers apart here), issued at once.
    issued = knet_all([["user", "token", "--instance", str(instance), "--username", "admin", "--scope", "write"]]
                      * people)
    assert all(done.returncode == 0 for done in issued), [done.stderr for done in issued]
    return Deployed(instance, url, [TOKEN.search(done.stdout).group(0) for done in issued])


@dataclass
class Acknowledged:
    """A write the node answered 201 to: where to read it back and what it must say."""

    kind: str  # "page", "question" or "answer"
    path: str
    text: str


@dataclass
class Tally:
    acknowledged: list[Acknowledged] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    connection_errors: int = 0
    #: Responses that must never happen (a 500, or an answer that is not what the API promises).
    failures: list[str] = field(default_factory=list)
    #: The 503 problems' sentences (what people were told while a resource was missing).
    unavailable: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Writer(threading.Thread):
    """One member of staff: writes a page, a question or an answer to one of their questions, again and again,
    until `stop` is set."""

    def __init__(self, node: Deployed, token: str, number: int, tally: Tally, stop: threading.Event,
                 seed: int, pause: float = 0.05) -> None:
        super().__init__(name=f"staff-{number}", daemon=True)
        self.url, self.number, self.tally, self.stop, self.pause = node.url, number, tally, stop, pause
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.random = random.Random(seed * 1000 + number)
        self.questions: list[str] = []
        self.count = 0

    def run(self) -> None:
        while not self.stop.is_set():
            self.count += 1
            text = f"Γραφή {self.number}-{self.count} {self.random.randrange(10**9)}"
            choice = self.random.random()
            if choice < 0.4:
                self.write("page", "/api/v1/pages", {"title": f"Σελίδα {self.number}-{self.count}", "body": text})
            elif choice < 0.7 or not self.questions:
                self.write("question", "/api/v1/questions",
                           {"title": f"Ερώτηση {self.number}-{self.count}", "body": text})
            else:
                question = self.random.choice(self.questions)
                self.write("answer", f"{question}/answers", {"body": text})
            time.sleep(self.pause)

    def write(self, kind: str, path: str, body: dict) -> None:
        try:
            answer = self.http.post(self.url + path, json=body, timeout=20)
        except requests.RequestException:
            with self.tally.lock:
                self.tally.connection_errors += 1
            return
        with self.tally.lock:
            self.tally.statuses[answer.status_code] += 1
            if answer.status_code == 201:
                location = urlsplit(answer.headers["Location"]).path
                self.tally.acknowledged.append(Acknowledged(kind, location, body["body"]))
                if kind == "question":
                    self.questions.append(location)
            elif answer.status_code == 503 and answer.headers.get("Content-Type", "").startswith(
                    "application/problem+json"):
                self.tally.unavailable[answer.json()["detail"]] += 1
            else:
                self.tally.failures.append(f"{kind} {path}: {answer.status_code} {answer.text[:300]}")


def read_back(url: str, token: str, tally: Tally) -> list[str]:
    """Every acknowledged write, read through the API: the list of those missing or changed."""
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    wrong = []
    for write in tally.acknowledged:
        answer = http.get(url + write.path, timeout=20)
        if answer.status_code != 200 or answer.json().get("body") != write.text:
            wrong.append(f"{write.kind} {write.path}: {answer.status_code} {answer.text[:200]}")
    return wrong
