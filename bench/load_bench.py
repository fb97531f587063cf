"""Load benchmark: simulated staff at work on a node deployed as docs/deploy.md says, against a bare Flask ceiling.

Run through bench/load. One run starts a throwaway PostgreSQL, makes a node on it with `knet init`, fills it
(wiki pages, questions, the sample course with its quiz, one account per staff member), starts gunicorn and
`knet worker` processes from the ExecStart lines of deploy/*.service (tests/production.py), and lets a separate
client process play the staff: each signed in with a session of their own, browsing pages, searching, editing
a page through its form, asking and answering questions and taking the quiz, with a pause between actions.
The same client then plays the same number of people reading pages of bench/ceiling_app.py under the same
gunicorn command. Everything started is stopped and removed at the end, also on errors and Ctrl+C.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from html import unescape
from pathlib import Path

import psycopg
import requests

from http_bench import RESULTS, ROOT, BenchError, _commit, _terminate, page_body, page_titles, tree_cpu_seconds

sys.path.insert(0, str(ROOT))  # the feature packages and tests/ (the launcher, PostgreSQL) come from the checkout

from sqlalchemy import select  # noqa: E402

from auth import services as auth_services  # noqa: E402
from knet.app import create_app  # noqa: E402
from knet.db import db  # noqa: E402
from learning import demo_content as course_content  # noqa: E402
from learning.models import Course  # noqa: E402
from qa import services as qa_services  # noqa: E402
from tests.production import WEB_UNIT, Production, environment_file, exec_start, free_port  # noqa: E402
from tests.services import PostgresServer  # noqa: E402
from wiki import services as wiki_services  # noqa: E402
from wiki.services import PageInput  # noqa: E402

PASSWORD = "staff password 2026"
#: What a staff member does, and how often (weights): each action is one or two requests.
MIX = {"browse": 40, "search": 25, "edit": 10, "ask": 5, "answer": 10, "quiz": 10}
WORDS = ["υπηρεσία", "πρωτόκολλο", "προϋπολογισμός", "εθελοντές", "αιτήσεις", "Procurement", "register", "budget",
         "volunteers", "Ανακύκλωση", "Library", "προθεσμία"]
GOAL_P95_MS = 300


# Options ----------------------------------------------------------------------------------------

def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/load", description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, default=50, help="simulated staff members, each a session (default 50)")
    parser.add_argument("--seconds", type=int, default=60, help="seconds of measured work (default 60)")
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean pause between one person's actions, in seconds, exponentially distributed "
                             "(default 1.0: each person acts about every second and a half)")
    parser.add_argument("--pages", type=int, default=300, help="wiki pages on the node (default 300)")
    parser.add_argument("--questions", type=int, default=60, help="questions on the node (default 60)")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="`knet worker` processes (default 2)")
    parser.add_argument("--reference-seconds", type=int, default=20,
                        help="seconds of the same staff reading the bare Flask ceiling (default 20)")
    parser.add_argument("--profile", action="store_true",
                        help="after the run, profile the GET requests of the actions in this process (cProfile) "
                             "and print where their time goes")
    parser.add_argument("--output", type=Path, default=RESULTS / "load.md",
                        help="where to write the Markdown table (default bench/results/load.md)")
    parser.add_argument("--client", help=argparse.SUPPRESS)  # the client process's JSON job
    args = parser.parse_args(argv)
    for name in ("staff", "seconds", "pages", "questions", "web_workers", "workers", "reference_seconds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


# The node ---------------------------------------------------------------------------------------

def make_database(server: PostgresServer) -> str:
    """A role and its database, as docs/deploy.md makes them; the URL over the server's socket."""
    with psycopg.connect(f"host=127.0.0.1 port={server.port} user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute('CREATE ROLE "knet" LOGIN')
        conn.execute('CREATE DATABASE "knet" OWNER "knet"')
    return f"postgresql+psycopg://knet@/knet?host={server.dir}&port={server.port}"


def knet(*argv: str) -> str:
    command = [str(Path(sys.executable).parent / "knet"), *argv]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise BenchError(f"{' '.join(argv[:2])} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def seed(instance: Path, args: argparse.Namespace) -> dict:
    """Accounts, pages, questions and the sample course, through the services in this process. Returns what
    the client needs: user names, each one's page to edit, every page's slug, the questions and the course."""
    app = create_app(instance)
    rng = random.Random(20261126)
    with app.app_context():
        limit = app.config["KNET"]["max_body_bytes"]
        admin = auth_services.create_local_user("bench-admin", PASSWORD, role="admin")
        staff = [auth_services.create_local_user(f"staff{number:03d}", PASSWORD, role="editor",
                                                 display_name=f"Υπάλληλος {number}")
                 for number in range(1, args.staff + 1)]
        db.session.commit()
        titles = page_titles(args.pages)
        slugs = []
        for index, (title, language) in enumerate(titles):
            page = wiki_services.create_page(admin, PageInput(
                title=title, body=page_body(rng, index, language, titles), language=language,
                tags=[rng.choice(["διοίκηση", "πολίτες", "procurement", "how-to"])], visibility="internal",
                licence="CC-BY-4.0"), limit)
            slugs.append(page.slug)
            if index % 100 == 99:
                db.session.commit()
        questions = []
        for number in range(args.questions):
            asker = staff[number % len(staff)]
            question = qa_services.ask(asker, qa_services.QuestionInput(
                title=f"Πώς γίνεται η διαδικασία {number + 1} στο {rng.choice(WORDS)};",
                body=" ".join(rng.sample(WORDS, 5)), tags=["διαδικασίες"]))
            questions.append(question.id)
        course_content(admin, limit, 0)
        db.session.commit()
        course_id = db.session.scalar(select(Course.id))
        users = [user.username for user in staff]
        db.session.remove()
        db.engine.dispose()
    return {"users": users, "slugs": slugs, "questions": questions, "course": course_id}


def wait_for_jobs(database: str, seconds: float = 600) -> None:
    """Until the workers have run every job that is due (the index holds every page and question)."""
    conninfo = database.replace("postgresql+psycopg://", "postgresql://")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with psycopg.connect(conninfo) as conn:
            due = conn.execute("SELECT count(*) FROM jobs WHERE state = 'pending' AND run_after <= now() "
                               "AT TIME ZONE 'UTC'").fetchone()[0]
        if not due:
            return
        time.sleep(1)
    raise BenchError(f"the workers did not run the queued jobs within {seconds:.0f} s")


# The client (a separate process) ----------------------------------------------------------------

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
_INPUT = re.compile(r"<input([^>]*)>", re.S)
_TEXTAREA = re.compile(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', re.S)
_SELECT = re.compile(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', re.S)
_ATTRIBUTE = re.compile(r'([a-z_-]+)="([^"]*)"')


def csrf(html: str) -> str:
    match = _CSRF.search(html)
    if not match:
        raise ValueError("no CSRF token on the page")
    return match.group(1) or match.group(2)


def form_fields(html: str) -> dict[str, object]:
    """The values a browser would send from the page's forms (text, hidden, checked boxes, selects, text areas);
    radio buttons and checkboxes of one name are gathered as lists."""
    fields: dict[str, object] = {}
    for raw in _INPUT.findall(html):
        attributes = dict(_ATTRIBUTE.findall(raw))
        name, kind = attributes.get("name"), attributes.get("type", "text")
        if not name or kind in ("submit", "button", "file"):
            continue
        if kind in ("checkbox", "radio"):
            fields.setdefault(name, [])
            if "checked" in raw:
                fields[name].append(unescape(attributes.get("value", "on")))
        else:
            fields[name] = unescape(attributes.get("value", ""))
    for name, text in _TEXTAREA.findall(html):
        fields[name] = unescape(text.lstrip("\n"))
    for name, options in _SELECT.findall(html):
        chosen = re.search(r'<option[^>]*value="([^"]*)"[^>]*selected', options) or re.search(
            r'<option[^>]*value="([^"]*)"', options)
        fields[name] = unescape(chosen.group(1)) if chosen else ""
    return fields


@dataclass
class Sample:
    action: str
    ms: float
    ok: bool


class Staff(threading.Thread):
    """One person: signs in, enrols in the course, then acts until the deadline."""

    def __init__(self, number: int, job: dict, start_gate: threading.Barrier, clock: dict, samples: list,
                 lock: threading.Lock):
        super().__init__(daemon=True)
        self.number, self.job, self.gate, self.clock = number, job, start_gate, clock
        self.samples, self.lock = samples, lock
        self.base = job["url"]
        self.session = requests.Session()
        self.rng = random.Random(number)
        self.failures: list[str] = []

    def request(self, action: str, method: str, path: str, expect: tuple[int, ...] = (200,), **kwargs):
        started = time.perf_counter()
        try:
            answer = self.session.request(method, self.base + path, timeout=30, allow_redirects=False, **kwargs)
            ok = answer.status_code in expect
        except requests.RequestException as exc:
            answer, ok = None, False
            self.note(f"{action} {path}: {type(exc).__name__}")
        elapsed = (time.perf_counter() - started) * 1000
        if answer is not None and not ok:
            self.note(f"{action} {method} {path}: {answer.status_code} {answer.text[:200]!r}")
        if self.measuring:
            with self.lock:
                self.samples.append(Sample(action, elapsed, ok))
        return answer if ok else None

    def note(self, failure: str) -> None:
        if len(self.failures) < 5:
            self.failures.append(failure)

    def run(self) -> None:
        self.measuring, self.ready = False, True
        try:
            if self.job["mode"] == "knet":
                self.prepare()
        except Exception as exc:  # noqa: BLE001 - reported as this person's failure, counted as an error
            self.ready = False
            self.note(f"{self.job['user']} could not start: {exc}")
        finally:
            self.gate.wait()
        if not self.ready:
            return
        self.measuring = True
        deadline = self.clock["deadline"]
        actions, weights = zip(*(MIX.items() if self.job["mode"] == "knet" else [("reference", 1)]))
        time.sleep(self.rng.expovariate(1 / self.job["think"]))  # people do not all start at once
        while time.time() < deadline:
            getattr(self, "do_" + self.rng.choices(actions, weights)[0])()
            time.sleep(self.rng.expovariate(1 / self.job["think"]))

    def prepare(self) -> None:
        page = self.session.get(self.base + "/login", timeout=30).text
        signed = self.session.post(self.base + "/login", timeout=60, allow_redirects=False, data={
            "username": self.job["user"], "password": PASSWORD, "next": "", "csrf_token": csrf(page)})
        if signed.status_code != 302:
            raise RuntimeError(f"{self.job['user']} could not sign in: {signed.status_code}")
        course = f"/learning/courses/{self.job['course']}"
        page = self.session.get(self.base + course, timeout=30).text
        self.session.post(self.base + course + "/enrol", data={"csrf_token": csrf(page)}, timeout=30)
        page = self.session.get(self.base + course, timeout=30).text
        self.quiz = None
        for step in dict.fromkeys(re.findall(rf'href="({course}/steps/[^"]+)"', page)):  # the quiz's step links it
            found = re.search(rf'href="({course}/quizzes/[^"]+)"', self.session.get(self.base + unescape(step),
                                                                                     timeout=30).text)
            if found:
                self.quiz = unescape(found.group(1))
                break

    # Actions --------------------------------------------------------------------------------

    def do_reference(self) -> None:
        self.request("reference: bare Flask page", "GET", "/wiki/" + self.rng.choice(self.job["slugs"]))

    def do_browse(self) -> None:
        self.request("browse a page", "GET", "/wiki/" + self.rng.choice(self.job["slugs"]))

    def do_search(self) -> None:
        self.request("search", "GET", "/search", params={"q": self.rng.choice(WORDS)})

    def do_edit(self) -> None:
        path = f"/wiki/{self.job['own_page']}/edit"
        form = self.request("edit: open the form", "GET", path)
        if form is None:
            return
        fields = form_fields(form.text)
        fields["body"] = str(fields.get("body", "")) + f"\n\nΣημείωση {self.rng.randrange(10**6)}."
        fields["summary"] = "Προσθήκη σημείωσης"
        fields["save"] = "Save"
        self.request("edit: save", "POST", path, expect=(302, 303), data=fields)

    def do_ask(self) -> None:
        form = self.request("ask: open the form", "GET", "/questions/ask")
        if form is None:
            return
        fields = form_fields(form.text)
        fields.update(title=f"Ερώτηση {self.number}-{self.rng.randrange(10**6)} για {self.rng.choice(WORDS)};",
                      body=" ".join(self.rng.sample(WORDS, 4)), tags="διαδικασίες")
        self.request("ask: post", "POST", "/questions/ask", expect=(302, 303), data=fields)

    def do_answer(self) -> None:
        question = self.rng.choice(self.job["questions"])
        page = self.request("answer: open the question", "GET", f"/questions/{question}")
        if page is None:
            return
        self.request("answer: post", "POST", f"/questions/{question}/answers", expect=(302, 303),
                     data={"csrf_token": csrf(page.text), "body": "Δείτε το " + self.rng.choice(WORDS) + ".",
                           "save": "x"})

    def do_quiz(self) -> None:
        if not self.quiz:
            self.note("no quiz link on the course page")
            return
        page = self.request("quiz: open", "GET", self.quiz)
        if page is None:
            return
        fields = form_fields(page.text)
        for name in [name for name in fields if name.startswith("q-")]:
            choices = re.findall(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', page.text)
            fields[name] = [self.rng.choice(choices)] if choices else "1"
        self.request("quiz: submit", "POST", self.quiz, expect=(302, 303), data=fields)


def client(job_file: str) -> int:
    """The client process: runs the staff threads of a job and prints its samples as JSON."""
    job = json.loads(Path(job_file).read_text(encoding="utf-8"))
    samples: list[Sample] = []
    lock = threading.Lock()
    clock: dict[str, float] = {}

    def begin() -> None:  # run once, when everyone has signed in and enrolled: the measured time starts
        clock["started"] = time.time()
        clock["deadline"] = clock["started"] + job["seconds"]
        print("measuring", flush=True)  # the driver starts and stops its CPU counters on these lines

    gate = threading.Barrier(job["staff"], action=begin)
    people = []
    for number in range(job["staff"]):
        person_job = {**job, "user": job["users"][number % len(job["users"])] if job["users"] else "",
                      "own_page": job["slugs"][number % len(job["slugs"])]}
        people.append(Staff(number, person_job, gate, clock, samples, lock))
    for person in people:
        person.start()
    for person in people:
        person.join(job["seconds"] + 600)
    elapsed = job["seconds"]  # actions start until the deadline: the rate is per second of that window
    print("measured", flush=True)
    samples += [Sample("sign in and enrol", 0.0, False) for person in people if not person.ready]
    print(json.dumps({"elapsed": elapsed, "samples": [[s.action, s.ms, s.ok] for s in samples],
                      "failures": [f for person in people for f in person.failures][:20]}))
    return 0


def run_client(workdir: Path, name: str, job: dict, on_start=lambda: None, on_end=lambda: None) -> dict:
    """Run a job in a client process; `on_start` and `on_end` are called when its measured time starts and ends
    (after every person has signed in; before the answers are gathered)."""
    path = workdir / f"{name}-job.json"
    path.write_text(json.dumps(job), encoding="utf-8")
    errors = workdir / f"{name}-client.log"
    with errors.open("wb") as log:
        process = subprocess.Popen([sys.executable, __file__, "--client", str(path)], stdout=subprocess.PIPE,
                                   stderr=log, text=True)
    lines = []
    for line in process.stdout:
        if line.strip() == "measuring":
            on_start()
        elif line.strip() == "measured":
            on_end()
        else:
            lines.append(line)
    if process.wait() != 0 or not lines:
        raise BenchError(f"the client process failed:\n{errors.read_text(errors='replace')[-3000:]}")
    return json.loads(lines[-1])


# Report -----------------------------------------------------------------------------------------

def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))] if ordered else 0.0


def table(runs: list[dict]) -> tuple[str, list[str]]:
    lines = ["| action | requests | per second | p50 ms | p95 ms | p99 ms | errors |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    misses = []
    for run in runs:
        by_action: dict[str, list] = defaultdict(list)
        for action, ms, ok in run["samples"]:
            by_action[action].append((ms, ok))
        total = sum(len(v) for v in by_action.values())
        for action in sorted(by_action, key=lambda a: (a.startswith("reference"), a)):
            times = [ms for ms, _ok in by_action[action]]
            errors = sum(1 for _ms, ok in by_action[action] if not ok)
            p95 = percentile(times, 0.95)
            if not action.startswith("reference") and (p95 >= GOAL_P95_MS or errors):
                misses.append(f"{action}: p95 {p95:.0f} ms, {errors} errors")
            lines.append(f"| {action} | {len(times)} | {len(times) / run['elapsed']:.1f} | "
                         f"{percentile(times, 0.5):.0f} | {p95:.0f} | {percentile(times, 0.99):.0f} | {errors} |")
        all_errors = sum(1 for _a, _ms, ok in run["samples"] if not ok)
        lines.append(f"| **{run['name']}: all** | {total} | {total / run['elapsed']:.1f} | "
                     f"{percentile([s[1] for s in run['samples']], 0.5):.0f} | "
                     f"{percentile([s[1] for s in run['samples']], 0.95):.0f} | "
                     f"{percentile([s[1] for s in run['samples']], 0.99):.0f} | {all_errors} |")
    return "\n".join(lines), misses


# Main -------------------------------------------------------------------------------------------

def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.client:
        return client(args.client)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _terminate)
    workdir = Path(tempfile.mkdtemp(prefix="knet-bench-load-"))
    server = node = ceiling = None
    try:
        load_before = os.getloadavg()[0]
        print("Starting PostgreSQL …", flush=True)
        server = PostgresServer().start()
        database = make_database(server)
        port = free_port()
        instance = workdir / "srv-knet"
        knet("init", "--instance", str(instance), "--name", "Δήμος Φόρτου", "--url", f"http://127.0.0.1:{port}",
             "--database", database)
        started = time.monotonic()
        print(f"Creating {args.staff} accounts, {args.pages} pages, {args.questions} questions and a course …",
              flush=True)
        content = seed(instance, args)
        print(f"  done in {time.monotonic() - started:.0f} s; starting gunicorn (-w {args.web_workers}) and "
              f"{args.workers} workers …", flush=True)
        node = Production(instance, workdir / "logs", web_workers=args.web_workers, workers=args.workers, port=port)
        node.start()
        wait_for_jobs(database)
        print(f"  the workers have indexed everything ({time.monotonic() - started:.0f} s)", flush=True)

        job = {"mode": "knet", "url": node.url, "staff": args.staff, "seconds": args.seconds, "think": args.think,
               **content}
        print(f"{args.staff} staff at work for {args.seconds} s …", flush=True)
        counters: dict[str, dict[str, float]] = {}
        measured = run_client(workdir, "knet", job, on_start=lambda: counters.update(start=cpu_split(node, server)),
                              on_end=lambda: counters.update(end=cpu_split(node, server)))
        cpu = {name: seconds - counters["start"][name] for name, seconds in counters["end"].items()}
        window = cpu.pop("wall")  # the measured time and the last answers after it
        measured["name"] = "knet"
        if not all(process.running() for process in node.processes):
            raise BenchError("a process of the node died during the run:\n"
                             + "\n".join(p.log_text()[-2000:] for p in node.processes if not p.running()))
        rss = _worker_rss_mb(node.web.pid)
        tracebacks = _tracebacks(node.web.log_text())
        node.stop()
        node = None

        if args.profile:
            profile(instance, content)

        ceiling_port = free_port()
        command = exec_start(WEB_UNIT, {**environment_file(), "KNET_WEB_BIND": f"127.0.0.1:{ceiling_port}",
                                        "KNET_WEB_WORKERS": str(args.web_workers)})
        command = [*command[:-1], "--pythonpath", str(Path(__file__).parent), "ceiling_app:app"]
        ceiling = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        _wait_http(f"http://127.0.0.1:{ceiling_port}/")
        print(f"The same {args.staff} people reading the bare Flask ceiling for {args.reference_seconds} s …",
              flush=True)
        reference = run_client(workdir, "ceiling", {"mode": "reference", "url": f"http://127.0.0.1:{ceiling_port}",
                                                    "staff": args.staff, "seconds": args.reference_seconds,
                                                    "think": args.think, "users": [], "slugs": content["slugs"],
                                                    "questions": [], "course": 0})
        reference["name"] = "bare Flask"
        report, misses = table([measured, reference])
        requests_count = len(measured["samples"])
        note = (f"{args.staff} staff, {args.seconds} s, mean pause {args.think} s between one person's actions "
                f"(mix {', '.join(f'{k} {v}' for k, v in MIX.items())}); gunicorn -w {args.web_workers} sync + "
                f"{args.workers} knet workers, PostgreSQL on the same machine; {args.pages} pages, {args.questions} "
                f"questions; web CPU {1000 * cpu['web'] / max(requests_count, 1):.1f} ms/request; gunicorn workers' "
                f"memory {rss}; CPU seconds used in those {window:.0f} s: "
                + ", ".join(f"{name} {seconds:.0f}" for name, seconds in cpu.items())
                + f" (of {os.cpu_count() * window:.0f} available); load average before {load_before:.2f}; "
                f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; commit {_commit()}")
        print()
        print(report)
        print()
        print(note)
        for failure in measured["failures"] + reference["failures"]:
            print(f"warning: {failure}", file=sys.stderr)
        if tracebacks:
            print(f"The web processes logged {len(tracebacks)} errors; the first:\n{tracebacks[0]}", file=sys.stderr)
        verdict = ("goal met: no errors and p95 under 300 ms for every action" if not misses else
                   "goal missed: " + "; ".join(misses))
        print(verdict)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(f"# Load benchmark\n\n{report}\n\n{note}\n\n{verdict}\n", encoding="utf-8")
        print(f"\nWritten to {args.output}")
        return 2 if any(not ok for _a, _ms, ok in measured["samples"]) else 0
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        print(f"\nInterrupted ({exc or 'Ctrl+C'}); cleaning up.", file=sys.stderr)
        return 130
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        if node is not None:
            node.close()
        if ceiling is not None and ceiling.poll() is None:
            os.killpg(ceiling.pid, signal.SIGKILL)
            ceiling.wait()
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_http(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise BenchError(f"{url} did not answer within {seconds:.0f} s")


def profile(instance: Path, content: dict, repeat: int = 30) -> None:
    """Where the time of each kind of page goes, with the node's database and index, in this process (one
    request at a time, nothing else running): cProfile's ten most expensive functions by cumulative time."""
    app = create_app(instance)
    with app.app_context():
        browser = app.test_client()
        page = browser.get("/login").get_data(as_text=True)
        browser.post("/login", data={"username": content["users"][0], "password": PASSWORD, "next": "",
                                     "csrf_token": csrf(page)})
        rng = random.Random(1)
        paths = {"browse a page": lambda: "/wiki/" + rng.choice(content["slugs"]),
                 "search": lambda: "/search?q=" + rng.choice(WORDS),
                 "answer: open the question": lambda: f"/questions/{rng.choice(content['questions'])}",
                 "edit: open the form": lambda: f"/wiki/{rng.choice(content['slugs'])}/edit"}
        for action, path in paths.items():
            # A content change empties the page cache, as the staff's edits did during the run.
            profiler, started = cProfile.Profile(), time.perf_counter()
            for _ in range(repeat):
                (instance / "content-generation").write_text(str(time.time_ns()), encoding="utf-8")
                address = path()
                profiler.enable()
                status = browser.get(address).status_code
                profiler.disable()
                if status != 200:
                    raise BenchError(f"profiling {action}: {address} answered {status}")
            elapsed = (time.perf_counter() - started) * 1000 / repeat
            print(f"\nProfile of {action} ({elapsed:.0f} ms a request, alone):")
            for order, restriction, what in (("cumulative", str(ROOT), "knet's functions by cumulative time"),
                                             ("tottime", "", "all functions by their own time")):
                out = io.StringIO()
                stats = pstats.Stats(profiler, stream=out).sort_stats(order)
                stats.print_stats(restriction, 10) if restriction else stats.print_stats(8)
                lines = [line for line in out.getvalue().splitlines() if re.match(r"\s+\d", line)]
                print(f"  {what}:\n    ncalls tottime percall cumtime percall function")
                print("\n".join("  " + line.replace(str(ROOT) + "/", "").replace(
                    str(Path(pstats.__file__).parent), "") for line in lines))
        db.session.remove()
        db.engine.dispose()


def cpu_split(node: Production, server: PostgresServer) -> dict[str, float]:
    """CPU seconds used so far by each part: gunicorn, the knet workers, PostgreSQL, the client process (the
    newest child of this one) and the whole machine (every process, from /proc/stat)."""
    postmaster = int((server.dir / "data" / "postmaster.pid").read_text().split()[0])
    clients = [int(pid) for task in Path(f"/proc/{os.getpid()}/task").iterdir()
               for pid in (task / "children").read_text().split()]
    busy = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return {"web": tree_cpu_seconds(node.web.pid),
            "knet workers": sum(tree_cpu_seconds(worker.pid) for worker in node.workers),
            "PostgreSQL": tree_cpu_seconds(postmaster),
            "client": tree_cpu_seconds(max(clients)) if clients else 0.0,
            "whole machine": sum(busy[i] for i in (0, 1, 2, 5, 6, 7)) / os.sysconf("SC_CLK_TCK"),
            "wall": time.monotonic()}


def _tracebacks(log: str) -> list[str]:
    """The tracebacks in a log, each with the line that introduced it."""
    found, lines = [], log.splitlines()
    for number, line in enumerate(lines):
        if line.startswith("Traceback"):
            end = number + 1
            while end < len(lines) and (lines[end].startswith((" ", "\t")) or not lines[end].strip()):
                end += 1
            found.append("\n".join(lines[max(0, number - 1):end + 1]))
    return found


def _worker_rss_mb(master: int) -> str:
    """Resident memory of gunicorn's workers, from /proc."""
    sizes = []
    for task in Path(f"/proc/{master}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                status = Path(f"/proc/{child}/status").read_text()
                sizes.append(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) // 1024)
            except (OSError, AttributeError):
                continue
    return ", ".join(f"{size} MB" for size in sizes) or "?"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
