"""HTTP benchmark of a knet node: a bare Flask ceiling, a rendered wiki page and the page API.

Run through bench/http. One run creates a throwaway node with `knet init`, fills it with pages,
serves it (and bench/ceiling_app.py) under gunicorn and measures each case with wrk. Every server
and temporary directory it made is removed at the end, also on failure or Ctrl+C.
"""
from __future__ import annotations

import argparse
import html
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
HOST = "127.0.0.1"


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""


# Options ----------------------------------------------------------------------------------------

def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/http", description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000, help="wiki pages to create (default 1000)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk load per case (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="open wrk connections (default 16)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--warmup", type=int, default=8,
                        help="seconds of unmeasured load before each case, long enough for both workers to have "
                             "seen every page of the rotation (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class: sync or gthread (default sync)")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker, for gthread (default 1)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds over all cases, alternating them; the median round is reported (default 1)")
    parser.add_argument("--knet-app", default="knet.app:create_app()",
                        help="gunicorn app spec for the node, to try a variant (default knet.app:create_app())")
    parser.add_argument("--app-path", type=Path, help="directory put on gunicorn's --pythonpath for --knet-app")
    parser.add_argument("--output", type=Path, default=RESULTS / "http.md",
                        help="where to write the Markdown table (default bench/results/http.md)")
    args = parser.parse_args(argv)
    for name in ("pages", "duration", "connections", "repeat", "wrk_threads", "workers", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.connections < args.wrk_threads:
        parser.error("--connections must be at least --wrk-threads (wrk gives each thread one connection or more)")
    return args


# Content ----------------------------------------------------------------------------------------

EL_TOPICS = ["Δημοτική Βιβλιοθήκη", "Κέντρο Υγείας", "Πολιτική Προστασία", "Ανακύκλωση", "Κοινωνικό Παντοπωλείο",
             "Δημοτικό Συμβούλιο", "Πολεοδομία", "Άδειες Λειτουργίας", "Σχολικές Καθαρίστριες", "Ύδρευση",
             "Αθλητικές Εγκαταστάσεις", "Δημοτολόγιο", "Πρόγραμμα Βοήθεια στο Σπίτι", "Παιδικοί Σταθμοί",
             "Τουριστική Προβολή", "Ηλεκτροφωτισμός", "Πράσινο και Πάρκα", "Δημοτική Αστυνομία", "ΚΕΠ",
             "Προμήθειες", "Μισθοδοσία", "Πρωτόκολλο", "Ψηφιακές Υπηρεσίες", "Πολιτιστικός Σύλλογος",
             "Οδοποιία"]
EN_TOPICS = ["Public Library", "Waste Collection", "Civil Protection", "Procurement Guide", "Open Data Portal",
             "Council Minutes", "Building Permits", "Street Lighting", "Water Supply", "Sports Facilities",
             "Help at Home Programme", "Nursery Schools", "Tourism Office", "Municipal Police", "Payroll",
             "Citizen Service Centre", "Parks and Green Spaces", "Digital Services", "Cultural Centre",
             "Records Office", "Road Maintenance", "Energy Savings", "Volunteer Network", "Beach Safety",
             "Social Grocery"]
PLACES = ["Καλαμάτας", "Τρίπολης", "Ναυπλίου", "Κορίνθου", "Πάτρας", "Ιωαννίνων", "Λάρισας", "Βόλου", "Σερρών",
          "Δράμας", "Καβάλας", "Ξάνθης", "Κομοτηνής", "Χανίων", "Ρεθύμνου", "Ηρακλείου", "Ρόδου", "Κω",
          "Σάμου", "Χίου", "Λέσβου", "Κέρκυρας", "Άρτας", "Πρέβεζας", "Αγρινίου", "Λαμίας", "Χαλκίδας",
          "Θήβας", "Λιβαδειάς", "Σπάρτης", "Πύργου", "Κοζάνης", "Φλώρινας", "Καστοριάς", "Βέροιας", "Έδεσσας",
          "Κιλκίς", "Πολυγύρου", "Κατερίνης", "Τρικάλων"]
EN_PLACES = ["Kalamata", "Tripoli", "Nafplio", "Corinth", "Patras", "Ioannina", "Larissa", "Volos", "Serres",
             "Drama", "Kavala", "Xanthi", "Komotini", "Chania", "Rethymno", "Heraklion", "Rhodes", "Kos",
             "Samos", "Chios", "Lesvos", "Corfu", "Arta", "Preveza", "Agrinio", "Lamia", "Chalkida", "Thebes",
             "Livadeia", "Sparta", "Pyrgos", "Kozani", "Florina", "Kastoria", "Veria", "Edessa", "Kilkis",
             "Polygyros", "Katerini", "Trikala"]
EL_SENTENCES = [
    "Η υπηρεσία λειτουργεί καθημερινά από τις 08:00 έως τις 15:00 και δέχεται το κοινό χωρίς ραντεβού.",
    "Οι αιτήσεις υποβάλλονται ηλεκτρονικά ή στο πρωτόκολλο του δήμου με τα απαραίτητα δικαιολογητικά.",
    "Για κάθε αλλαγή στη διαδικασία ενημερώνεται πρώτα ο αρμόδιος αντιδήμαρχος και μετά το προσωπικό.",
    "Το έγγραφο ελέγχεται από δύο υπαλλήλους πριν υπογραφεί από τον προϊστάμενο της διεύθυνσης.",
    "Οι πολίτες μπορούν να παρακολουθούν την πορεία του αιτήματός τους με τον αριθμό πρωτοκόλλου.",
    "Σε περίπτωση έκτακτης ανάγκης καλείτε το κέντρο επιχειρήσεων στο εσωτερικό τηλέφωνο 2100.",
    "Η προθεσμία για την υποβολή των προσφορών είναι δεκαπέντε εργάσιμες ημέρες από τη δημοσίευση.",
    "Τα στοιχεία του μητρώου ενημερώνονται κάθε μήνα και αρχειοθετούνται σύμφωνα με τον κανονισμό.",
    "Ο προϋπολογισμός του έργου εγκρίθηκε με απόφαση του δημοτικού συμβουλίου τον περασμένο Μάρτιο.",
    "Οι εθελοντές εκπαιδεύονται δύο φορές τον χρόνο σε πρώτες βοήθειες και σε χρήση πυροσβεστήρα.",
]
EN_SENTENCES = [
    "The office is open on weekdays from 08:00 to 15:00 and receives visitors without an appointment.",
    "Applications are submitted online or at the registry desk together with the supporting documents.",
    "Every change to the procedure is first approved by the deputy mayor and then announced to the staff.",
    "Two officers check each document before the head of the directorate signs it.",
    "Citizens can follow their request with the registry number printed on the receipt.",
    "In an emergency call the operations centre on internal line 2100.",
    "Tenders must be submitted within fifteen working days of the notice being published.",
    "The register is updated monthly and archived according to the retention schedule.",
    "The project budget was approved by the municipal council last March.",
    "Volunteers are trained twice a year in first aid and in the use of fire extinguishers.",
]
EL_HEADINGS = ["Περιγραφή", "Διαδικασία", "Δικαιολογητικά", "Αρμόδιοι", "Συχνές ερωτήσεις", "Ιστορικό"]
EN_HEADINGS = ["Overview", "Procedure", "Documents", "Contacts", "Frequently asked questions", "History"]
TAGS = ["διοίκηση", "πολίτες", "οικονομικά", "περιβάλλον", "πολιτισμός", "υγεία", "τεχνικά", "εκπαίδευση",
        "procurement", "open-data", "how-to", "emergency"]


@dataclass
class Seeded:
    slug: str
    title: str


def page_titles(count: int) -> list[tuple[str, str]]:
    """(title, language) of `count` distinct pages, half Greek and half English."""
    titles: list[tuple[str, str]] = []
    for i in range(count):
        if i % 2 == 0:
            n = i // 2
            title = f"{EL_TOPICS[n % len(EL_TOPICS)]} {PLACES[(n // len(EL_TOPICS)) % len(PLACES)]}"
            language = "el"
        else:
            n = i // 2
            title = f"{EN_TOPICS[n % len(EN_TOPICS)]} of {EN_PLACES[(n // len(EN_TOPICS)) % len(EN_PLACES)]}"
            language = "en"
        cycle = i // (2 * len(EL_TOPICS) * len(PLACES))
        titles.append((f"{title} {cycle + 1}" if cycle else title, language))
    return titles


def page_body(rng: random.Random, index: int, language: str, titles: list[tuple[str, str]]) -> str:
    """A Markdown body of a few KB: headings, lists, a table, [[wiki links]] and a summary in the other language."""
    greek = language == "el"
    sentences, other = (EL_SENTENCES, EN_SENTENCES) if greek else (EN_SENTENCES, EL_SENTENCES)
    headings = EL_HEADINGS if greek else EN_HEADINGS

    def paragraph(pool, n=4):
        return " ".join(rng.choice(pool) for _ in range(n))

    def link() -> str:
        # Mostly pages that exist already; one in five points ahead to a page created later.
        if index > 0 and rng.random() < 0.8:
            target = titles[rng.randrange(index)][0]
        else:
            target = titles[rng.randrange(len(titles))][0]
        return f"[[{target}]]" if rng.random() < 0.7 else f"[[{target}|{target.split()[0].lower()}]]"

    parts = [paragraph(sentences, 3) + f" {('Δείτε επίσης' if greek else 'See also')} {link()}.", ""]
    parts += [f"## {headings[0]}", "", paragraph(sentences), "", paragraph(sentences, 3) + f" {link()}", ""]
    parts += [f"## {headings[1]}", ""]
    parts += [f"{n}. {rng.choice(sentences)}" for n in range(1, 6)] + [""]
    parts += [f"### {headings[2]}", ""]
    parts += [f"- {rng.choice(sentences)[:60]} {link()}" for _ in range(4)] + [""]
    parts += [f"## {headings[3]}", ""]
    parts += ["| Ρόλος / Role | Όνομα / Name | Τηλέφωνο / Phone |", "|---|---|---:|"]
    parts += [f"| {rng.choice(headings)} | {rng.choice(EN_PLACES)} {rng.choice(PLACES)} | 27210-{rng.randrange(10000, 99999)} |"
              for _ in range(6)] + [""]
    parts += [f"## {headings[4]}", "", f"**{rng.choice(sentences)}** {paragraph(sentences, 2)}", "",
              f"> {rng.choice(sentences)} *{rng.choice(sentences)}*", ""]
    parts += [f"## {'Summary in English' if greek else 'Περίληψη στα ελληνικά'}", "", paragraph(other, 4),
              f" {link()}", ""]
    parts += [f"## {headings[5]}", "", paragraph(sentences, 5), ""]
    return "\n".join(parts)


# Processes --------------------------------------------------------------------------------------

class Cleanup:
    """Everything to undo at the end: servers (as process groups) and temporary directories."""

    def __init__(self) -> None:
        self.servers: list[subprocess.Popen] = []
        self.dirs: list[Path] = []

    def stop_server(self, proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=5)
        if proc in self.servers:
            self.servers.remove(proc)

    def run(self) -> None:
        for proc in list(self.servers):
            try:
                self.stop_server(proc)
            except Exception as exc:  # keep cleaning up the rest
                print(f"warning: could not stop gunicorn {proc.pid}: {exc}", file=sys.stderr)
        for path in self.dirs:
            shutil.rmtree(path, ignore_errors=True)


def _terminate(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def bin_tool(name: str) -> str:
    """A console script of this Python environment (knet, gunicorn)."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        raise BenchError(f"'{name}' is not installed in this Python environment ({sys.executable}).")
    return found


def knet_init(instance: Path, port: int) -> None:
    result = subprocess.run([bin_tool("knet"), "init", "--instance", str(instance), "--name", "Δήμος Μετρήσεων",
                             "--url", f"http://{HOST}:{port}"], capture_output=True, text=True)
    if result.returncode != 0:
        raise BenchError(f"knet init failed:\n{result.stdout}{result.stderr}")


def seed(instance: Path, count: int) -> list[Seeded]:
    """Create an admin and `count` public pages through the services, in this process."""
    os.environ["KNET_INSTANCE"] = str(instance)
    sys.path.insert(0, str(ROOT))
    from auth import services as auth_services
    from knet.app import create_app
    from knet.db import db
    from wiki import services as wiki_services
    from wiki.services import PageInput

    app = create_app(instance)
    rng = random.Random(20240601)
    titles = page_titles(count)
    seeded: list[Seeded] = []
    with app.app_context():
        limit = app.config["KNET"]["max_body_bytes"]
        admin = auth_services.create_local_user("bench-admin", "bench-password-" + os.urandom(8).hex(), role="admin")
        db.session.commit()
        for index, (title, language) in enumerate(titles):
            tags = rng.sample(TAGS, rng.randint(1, 3))
            page = wiki_services.create_page(admin, PageInput(title=title, body=page_body(rng, index, language, titles),
                                                              language=language, tags=tags, visibility="public",
                                                              licence="CC-BY-4.0"), limit)
            seeded.append(Seeded(page.slug, page.title))
            if index % 100 == 99:
                db.session.commit()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return seeded


@dataclass
class Server:
    name: str
    proc: subprocess.Popen
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"


def start_gunicorn(cleanup: Cleanup, name: str, app_spec: str, args: argparse.Namespace, workdir: Path,
                   env_extra: dict[str, str], pythonpath: Path | None = None, port: int | None = None) -> Server:
    port = port or free_port()
    log = workdir / f"{name}-gunicorn.log"
    command = [bin_tool("gunicorn"), "-w", str(args.workers), "-k", args.worker_class, "--threads", str(args.threads),
               "-b", f"{HOST}:{port}", "--error-logfile", str(log), "--log-level", "warning"]
    if pythonpath:
        command += ["--pythonpath", str(pythonpath)]
    command.append(app_spec)
    env = {**os.environ, **env_extra}
    proc = subprocess.Popen(command, env=env, cwd=workdir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    cleanup.servers.append(proc)
    server = Server(name, proc, port, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"gunicorn for {name} exited with status {proc.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(server.base + "/", timeout=2):
                return server
        except urllib.error.HTTPError:
            return server  # it answers; the checks below judge the answers
        except OSError:
            time.sleep(0.2)
    raise BenchError(f"gunicorn for {name} did not answer within 30 s:\n{_tail(log)}")


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", errors="replace")


# Checks -----------------------------------------------------------------------------------------

def check_ceiling(server: Server, paths: list[str]) -> None:
    status, body = fetch(server.base + paths[0])
    if status != 200 or "ceiling of the benchmark" not in body:
        raise BenchError(f"The ceiling app answered {status} on {paths[0]}:\n{body[:500]}")


def check_pages(server: Server, sample: list[Seeded]) -> None:
    for page in sample:
        path = "/wiki/" + quote(page.slug)
        status, body = fetch(server.base + path)
        if status != 200:
            raise BenchError(f"GET {path} answered {status}, not 200:\n{body[:800]}\n{_tail(server.log)}")
        if f"<h1>{html.escape(page.title)}</h1>" not in body:
            raise BenchError(f"GET {path} answered 200 but without the page title “{page.title}”:\n{body[:800]}")


def check_api(server: Server, sample: list[Seeded]) -> None:
    for page in sample:
        path = "/api/v1/pages/" + quote(page.slug)
        status, body = fetch(server.base + path)
        if status != 200:
            raise BenchError(f"GET {path} answered {status}, not 200:\n{body[:800]}\n{_tail(server.log)}")
        data = json.loads(body)
        if data.get("title") != page.title or not data.get("html"):
            raise BenchError(f"GET {path} answered 200 but not with the page “{page.title}”:\n{body[:800]}")


# wrk --------------------------------------------------------------------------------------------

LUA = """\
-- Generated by bench/http_bench.py: rotate over many paths and report percentiles from `done`.
local paths = {%(paths)s}
local counter = 0
local thread_number = 0

function setup(thread)
  thread_number = thread_number + 1
  thread:set("offset", thread_number * 7919)
end

function init(args)
  counter = tonumber(offset) or 0
end

function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end

function done(summary, latency, requests)
  io.write(string.format(
    "BENCH requests=%%d duration_us=%%d p50_us=%%d p95_us=%%d p99_us=%%d status_errors=%%d " ..
    "connect_errors=%%d read_errors=%%d write_errors=%%d timeouts=%%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout))
end
"""


def write_lua(path: Path, paths: list[str]) -> Path:
    path.write_text(LUA % {"paths": ", ".join(json.dumps(p) for p in paths)}, encoding="utf-8")
    return path


@dataclass
class Result:
    case: str
    requests_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    requests: int
    errors: dict[str, int]
    #: CPU time the server (gunicorn master and workers) spent per request: unlike requests/s,
    #: it hardly moves when other programs load the machine.
    cpu_ms: float


def run_wrk(base: str, lua: Path, duration: int, args: argparse.Namespace) -> dict[str, int]:
    command = ["wrk", f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{duration}s", "--latency",
               "--timeout", "5s", "-s", str(lua), base + "/"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    if result.returncode != 0:
        raise BenchError(f"wrk failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    match = re.search(r"^BENCH (.*)$", result.stdout, re.MULTILINE)
    if not match:
        raise BenchError(f"wrk printed no BENCH line:\n{result.stdout}{result.stderr}")
    return {key: int(value) for key, value in (item.split("=") for item in match.group(1).split())}


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children (the gunicorn master and its workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, pending, seen = 0.0, [pid], set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue  # a worker that just ended
    return total


def median_run(runs: list[Result]) -> Result:
    """The run with the median requests/s (its latencies come with it)."""
    return sorted(runs, key=lambda r: r.requests_per_s)[len(runs) // 2]


class Invalidator(threading.Thread):
    """Bumps the node's content generation every few milliseconds, as a commit does, so that no
    cached page view is ever reused: the node renders every view, as it does for signed-in staff."""

    def __init__(self, instance: Path) -> None:
        super().__init__(daemon=True)
        self.path = instance / "content-generation"
        self.stopped = threading.Event()

    def run(self) -> None:
        temporary = self.path.with_name(".bench-generation")
        while not self.stopped.wait(0.002):
            temporary.write_bytes(os.urandom(8).hex().encode())
            os.replace(temporary, self.path)


def measure(case: str, server: Server, lua: Path, args: argparse.Namespace, invalidate: Path | None = None) -> Result:
    invalidator = Invalidator(invalidate) if invalidate else None
    if invalidator:
        invalidator.start()
    try:
        return _measure(case, server, lua, args)
    finally:
        if invalidator:
            invalidator.stopped.set()
            invalidator.join()


def _measure(case: str, server: Server, lua: Path, args: argparse.Namespace) -> Result:
    if args.warmup:
        run_wrk(server.base, lua, args.warmup, args)
    cpu_before = tree_cpu_seconds(server.proc.pid)
    numbers = run_wrk(server.base, lua, args.duration, args)
    cpu_ms = (tree_cpu_seconds(server.proc.pid) - cpu_before) * 1000 / max(numbers["requests"], 1)
    if server.proc.poll() is not None:
        raise BenchError(f"gunicorn for {server.name} died during the measurement:\n{_tail(server.log)}")
    errors = {k: numbers[k] for k in ("status_errors", "connect_errors", "read_errors", "write_errors", "timeouts")}
    return Result(case=case, requests_per_s=numbers["requests"] / (numbers["duration_us"] / 1e6),
                  p50_ms=numbers["p50_us"] / 1000, p95_ms=numbers["p95_us"] / 1000, p99_ms=numbers["p99_us"] / 1000,
                  requests=numbers["requests"], errors=errors, cpu_ms=cpu_ms)


# Report -----------------------------------------------------------------------------------------

def table(results: list[Result]) -> str:
    ceiling = results[0].requests_per_s
    lines = ["| case | requests/s | % of ceiling | p50 ms | p95 ms | server CPU ms/request |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r.case} | {r.requests_per_s:,.0f} | {100 * r.requests_per_s / ceiling:.0f} % "
                     f"| {r.p50_ms:.1f} | {r.p95_ms:.1f} | {r.cpu_ms:.2f} |")
    return "\n".join(lines)


def settings_line(args: argparse.Namespace, pages: int) -> str:
    threads = f", {args.threads} threads" if args.worker_class == "gthread" or args.threads > 1 else ""
    app = "" if args.knet_app == "knet.app:create_app()" else f"node app {args.knet_app}; "
    return (app + f"gunicorn -w {args.workers} -k {args.worker_class}{threads}; "
            f"wrk -t{args.wrk_threads} -c{args.connections} -d{args.duration}s --latency (after {args.warmup} s warm-up)"
            + (f", median of {args.repeat} alternating rounds; " if args.repeat > 1 else "; ") +
            f"{pages} public pages, SQLite; {os.cpu_count()} CPUs; "
            f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; commit {_commit()}")


def _commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return out.stdout.strip() + (" (with uncommitted changes)" if dirty else "") if out.returncode == 0 else "?"
    except OSError:
        return "?"


# Main -------------------------------------------------------------------------------------------

def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 1
    cleanup = Cleanup()
    # SIGINT too: a shell without job control starts background commands with SIGINT ignored.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _terminate)
    try:
        workdir = Path(tempfile.mkdtemp(prefix="knet-bench-http-"))
        cleanup.dirs.append(workdir)
        instance = workdir / "instance"
        port_hint = free_port()
        load_before = os.getloadavg()[0]

        started = time.monotonic()
        knet_init(instance, port_hint)
        print(f"Creating {args.pages} pages in {instance} …", flush=True)
        pages = seed(instance, args.pages)
        print(f"  done in {time.monotonic() - started:.1f} s", flush=True)

        rng = random.Random(7)
        rotation = pages if len(pages) <= 1000 else rng.sample(pages, 1000)
        paths = ["/wiki/" + quote(p.slug) for p in rotation]
        api_paths = ["/api/v1/pages/" + quote(p.slug) for p in rotation]
        sample = [pages[0], pages[-1], *rng.sample(pages, min(len(pages), 8))]
        page_lua = write_lua(workdir / "pages.lua", paths)
        api_lua = write_lua(workdir / "api.lua", api_paths)

        env = {"KNET_INSTANCE": str(instance)}
        ceiling = start_gunicorn(cleanup, "ceiling", "ceiling_app:app", args, workdir, {}, pythonpath=BENCH)
        knet = start_gunicorn(cleanup, "knet", args.knet_app, args, workdir, env, pythonpath=args.app_path,
                              port=port_hint)
        # (case, server, wrk script, check before each measurement); an idle server costs nothing, so both
        # stay up and the cases alternate: a change in background load then hits every case alike.
        cases = [
            ("bare Flask (ceiling)", ceiling, page_lua, lambda: check_ceiling(ceiling, paths), None),
            ("page view GET /wiki/<slug>", knet, page_lua, lambda: check_pages(knet, sample), None),
            ("page view, every view rendered", knet, page_lua, lambda: check_pages(knet, sample), instance),
            ("API GET /api/v1/pages/<slug>", knet, api_lua, lambda: check_api(knet, sample), None),
        ]
        runs: dict[str, list[Result]] = {case: [] for case, *_ in cases}
        for round_number in range(1, args.repeat + 1):
            for case, server, lua, check, invalidate in cases:
                print(f"Measuring {case}" + (f" (round {round_number}/{args.repeat})" if args.repeat > 1 else "")
                      + " …", flush=True)
                check()
                runs[case].append(measure(case, server, lua, args, invalidate))
        check_pages(knet, sample[:2])  # still healthy after the load
        results = [median_run(runs[case]) for case, *_ in cases]
        if args.repeat > 1:
            for case, measured in runs.items():
                print(f"  {case}: " + ", ".join(f"{r.requests_per_s:,.0f}" for r in measured) + " requests/s; "
                      + ", ".join(f"{r.cpu_ms:.2f}" for r in measured) + " server CPU ms/request")
        report = table(results)
        note = settings_line(args, len(pages)) + f"; load average before the run {load_before:.2f}"
        print()
        print(report)
        print()
        print(note)
        problems = [f"{r.case}: {k}={v}" for r in results for k, v in r.errors.items() if v]
        for problem in problems:
            print(f"warning: {problem}", file=sys.stderr)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(f"# HTTP benchmark\n\n{report}\n\n{note}\n"
                               + "".join(f"\nwarning: {p}" for p in problems) + "\n", encoding="utf-8")
        print(f"\nWritten to {args.output}")
        return 2 if any(r.errors["status_errors"] for r in results) else 0
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        print(f"\nInterrupted ({exc or 'Ctrl+C'}); cleaning up.", file=sys.stderr)
        return 130
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        cleanup.run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
