"""/metrics: the node's figures in Prometheus' text format, right however many gunicorn workers serve it.

Requests and searches are counted by prometheus_client in multiprocess mode: each process writes its
counts to files in one directory (PROMETHEUS_MULTIPROC_DIR, or ``<instance>/metrics`` when the variable is
not set) and /metrics adds up the files of every process. Figures that live in the database (the job
queue, and whatever features register with `register_collector`, such as federation's lag per peer) are
read at each scrape instead, so every worker answers the same.

Only this module imports prometheus_client."""
from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from knet.config import ConfigError
from knet.db import as_utc, db, utcnow
from knet.jobs import DEAD, EXTENSION as JOB_HANDLERS, PENDING, Job
from knet.observability import elapsed_seconds

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
#: Names the directory a knet process chose for itself when VARIABLE was not set. The processes it starts
#: (the demonstration's towns, a test's nodes) inherit both variables; seeing them equal, each knows the
#: directory is not the IT officer's choice and takes its own instance's, so no two nodes share one. (Not
#: KNET_…: tools that drop a parent's node settings before starting a node must keep this one.)
FALLBACK_MARKER = "_KNET_METRICS_FALLBACK_DIR"
EXTENSION = "knet.metrics"
#: Requests that matched no URL rule are counted under this route, so that scanners asking for random
#: addresses cannot make the number of series grow.
UNMATCHED = "unmatched"
#: Methods counted by name; any other is counted as "other" (a client may send any word).
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
#: Headers a reverse proxy adds: a request that has one came from elsewhere, whatever its socket says.
FORWARDED = ("Forwarded", "X-Forwarded-For", "X-Real-IP")
#: Seconds; pages take tens of milliseconds, a network search up to its deadline (1.5 s by default).
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SEARCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)


@dataclass(frozen=True)
class Gauge:
    """A figure computed at scrape time, one value per value of its one label."""

    name: str
    documentation: str
    label: str
    values: dict[str, float]


#: What a feature registers: a function, called inside the app at each scrape, returning its gauges.
GaugeSource = Callable[[], Iterable[Gauge]]


class _Instruments:
    """The counters and histograms this process writes; made once per process, after multiprocess mode is on."""

    def __init__(self) -> None:
        self.requests = Counter("knet_http_requests", "Requests answered, by URL rule, method and status.",
                                ("route", "method", "status"), registry=None)
        self.duration = Histogram("knet_http_request_duration_seconds", "Time to answer a request, by URL rule.",
                                  ("route", "method"), registry=None, buckets=REQUEST_BUCKETS)
        self.search = Histogram("knet_search_duration_seconds",
                                "Time a search took: of this node (local), of every municipality (network), or "
                                "of this node for a peer's network search (peer).",
                                ("scope",), registry=None, buckets=SEARCH_BUCKETS)


_instruments: _Instruments | None = None
_directory: Path | None = None


def _start_multiprocess(fallback: Path) -> Path:
    """Turn on prometheus_client's multiprocess mode in this process (once) and return its directory:
    PROMETHEUS_MULTIPROC_DIR, or else `fallback`, which the variable then names for this process (the
    library reads it there). A process writes into one directory only, so the first app built in it decides."""
    global _instruments, _directory
    if _instruments is not None:
        # prometheus_client reads the variable each time it opens a file for new counts: keep it naming the
        # directory this process chose, whatever changed it since.
        os.environ[VARIABLE] = str(_directory)
        return _directory
    given = os.environ.get(VARIABLE)
    directory = Path(given if given and given != os.environ.get(FALLBACK_MARKER) else fallback)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"Cannot create the metrics directory {directory} ({VARIABLE}): "
                          f"{exc.strerror or exc}.") from None
    if directory == fallback:
        os.environ[VARIABLE] = os.environ[FALLBACK_MARKER] = str(fallback)
    # The value class decides where counts are kept; prometheus_client picks it when it is imported, which
    # may be before the instance (and so the fallback directory) is known.
    values.ValueClass = values.MultiProcessValue()
    _instruments, _directory = _Instruments(), directory
    return directory


def observe_request(route: str | None, method: str, status: int, seconds: float) -> None:
    """Count one answered request under its URL rule (never its path: that would be a series per page)."""
    if _instruments is None:
        return
    rule = route or UNMATCHED
    method = method if method in METHODS else "other"
    _instruments.requests.labels(rule, method, str(status)).inc()
    _instruments.duration.labels(rule, method).observe(seconds)


@contextmanager
def timed_search(scope: str) -> Iterator[None]:
    """Time a search of this node ("local"), of every municipality ("network"), or of this node for a peer
    ("peer")."""
    started = time.perf_counter()
    try:
        yield
    finally:
        if _instruments is not None:
            _instruments.search.labels(scope).observe(time.perf_counter() - started)


def register_collector(app: Flask, source: GaugeSource) -> None:
    """Have /metrics show the gauges `source` computes (from the database) at each scrape."""
    app.extensions[EXTENSION].append(source)


def job_gauges() -> list[Gauge]:
    """The job queue as the database has it: how many wait, how long the oldest due one has waited, how
    many failed for good; each kind a handler is registered for is shown, with zeros when it has none."""
    now = utcnow()
    kinds = set(current_app.extensions.get(JOB_HANDLERS, {}))
    counts = db.session.execute(select(Job.kind, Job.state, func.count()).where(Job.state.in_((PENDING, DEAD)))
                                .group_by(Job.kind, Job.state)).all()
    oldest_due = db.session.execute(select(Job.kind, func.min(Job.run_after))
                                    .where(Job.state == PENDING, Job.run_after <= now).group_by(Job.kind)).all()
    kinds |= {kind for kind, _state, _count in counts}
    pending = dict.fromkeys(kinds, 0.0) | {kind: float(n) for kind, state, n in counts if state == PENDING}
    dead = dict.fromkeys(kinds, 0.0) | {kind: float(n) for kind, state, n in counts if state == DEAD}
    age = dict.fromkeys(kinds, 0.0) | {kind: max(0.0, (now - as_utc(moment)).total_seconds())
                                       for kind, moment in oldest_due}
    return [Gauge("knet_jobs_pending", "Jobs waiting to run (including those waiting for a retry).", "kind", pending),
            Gauge("knet_jobs_oldest_pending_age_seconds",
                  "Seconds the oldest job that is due has waited for a worker (0: none is due).", "kind", age),
            Gauge("knet_jobs_dead", "Jobs that failed for good after their last attempt.", "kind", dead)]


class _DatabaseCollector(Collector):
    """The gauges of the app's sources, computed when Prometheus asks."""

    def __init__(self, sources: list[GaugeSource]) -> None:
        self.sources = sources

    def collect(self):
        for source in self.sources:
            for gauge in source():
                family = GaugeMetricFamily(gauge.name, gauge.documentation, labels=[gauge.label])
                for value, number in sorted(gauge.values.items()):
                    family.add_metric([value], number)
                yield family


def exposition() -> bytes:
    """Every figure of the node, in Prometheus' text format."""
    registry = CollectorRegistry(auto_describe=False)
    MultiProcessCollector(registry, path=str(_directory))
    registry.register(_DatabaseCollector(current_app.extensions[EXTENSION]))
    return generate_latest(registry)


def may_read() -> bool:
    """Whether this request may read /metrics: it carries the configured token, or it comes straight from
    this machine (loopback, and no proxy says it forwarded it for someone else)."""
    settings = current_app.config["KNET"]["metrics"]
    token = settings["token"]
    presented = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(presented.encode(), f"Bearer {token}".encode()):
        return True
    if not settings["allow_loopback"] or any(header in request.headers for header in FORWARDED):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics():
    if not may_read():
        return Response("The metrics are for this machine and for a Prometheus with the token of [metrics] in "
                        "the node's configuration.\n", status=403, mimetype="text/plain")
    return Response(exposition(), content_type=CONTENT_TYPE_LATEST)


def _count(response: Response) -> Response:
    rule = request.url_rule.rule if request.url_rule is not None else None
    observe_request(rule, request.method, response.status_code, elapsed_seconds())
    return response


def init_app(app: Flask) -> None:
    """Count every request and serve /metrics, with the job queue's gauges and those features register."""
    _start_multiprocess(Path(app.instance_path) / "metrics")
    app.extensions[EXTENSION] = [job_gauges]
    app.after_request(_count)
    app.register_blueprint(bp)
