"""What the IT officer reads of a running node: log lines (plain text or JSON lines) that carry the id of
the request they were written for, the id sent back in X-Request-Id, and one access line per request.

A reverse proxy that sets X-Request-Id (nginx: ``proxy_set_header X-Request-Id $request_id;``) gets its
own id in the node's lines, so one request can be followed from the proxy's log into the node's."""
from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, has_request_context, request
from flask.logging import default_handler, wsgi_errors_stream
from pythonjsonlogger.json import JsonFormatter

#: Every logger of the node is below this one (Flask's app.logger has the app's name, "knet", too).
ROOT_LOGGER = "knet"
#: The logger of the access lines, one per request.
REQUESTS_LOGGER = "knet.requests"
HEADER = "X-Request-Id"
#: An id from outside is kept only if it is this plain: it goes into every log line, so nothing in it
#: may break a line or a log parser.
SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
#: What log lines written outside a request (the worker, the CLI) show as their request id.
NO_REQUEST = "-"
#: The text format: Flask's own, with the request id added.
TEXT_FORMAT = "[%(asctime)s] %(levelname)s in %(module)s [%(request_id)s]: %(message)s"

logger = logging.getLogger(REQUESTS_LOGGER)


class RequestIdFilter(logging.Filter):
    """Give every record the id of the request it was written for ("-" outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id()
        return True


class NodeHandler(logging.StreamHandler):
    """The handler knet installs on its loggers: to the server's error stream (gunicorn's error log, or
    standard error), one line per message."""

    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__(wsgi_errors_stream)
        self.setFormatter(formatter)
        self.addFilter(RequestIdFilter())


def formatter_for(log_format: str) -> logging.Formatter:
    """Plain text, or one JSON object per line with time (ISO 8601, UTC), level, logger, message,
    request_id, and the traceback as `exception` when there is one."""
    if log_format == "json":
        return JsonFormatter("%(levelname)s %(name)s %(message)s %(request_id)s", timestamp="time",
                             rename_fields={"levelname": "level", "name": "logger", "exc_info": "exception"},
                             json_ensure_ascii=False)
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(log_format: str, level: str) -> None:
    """Send the node's log lines to the server's error stream in the chosen format.

    The logging of a process is one for all its apps, so the last app built decides (a process serves one
    node; tests build many). Replaces what an earlier call or Flask's default handler installed."""
    root = logging.getLogger(ROOT_LOGGER)
    for handler in list(root.handlers):
        if isinstance(handler, NodeHandler) or handler is default_handler:
            root.removeHandler(handler)
    root.addHandler(NodeHandler(formatter_for(log_format)))
    root.setLevel(level.upper())


def request_id() -> str:
    """The current request's id, or "-" outside a request."""
    if has_request_context():
        return g.get("request_id", NO_REQUEST)
    return NO_REQUEST


def _incoming_id() -> str:
    given = request.headers.get(HEADER, "")
    return given if SANE_ID.fullmatch(given) else uuid.uuid4().hex


def _start() -> None:
    g.request_id = _incoming_id()
    g.request_started = time.perf_counter()


def elapsed_seconds() -> float:
    """How long the current request has taken so far."""
    return time.perf_counter() - g.get("request_started", time.perf_counter())


def _finish(response: Response) -> Response:
    response.headers[HEADER] = request_id()
    duration_ms = elapsed_seconds() * 1000
    logger.info("%s %s %s %.1f ms", request.method, request.path, response.status_code, duration_ms,
                extra={"method": request.method, "path": request.path, "status": response.status_code,
                       "duration_ms": round(duration_ms, 1)})
    return response


def init_app(app: Flask) -> None:
    """Configure the node's logging and give each request its id; wire this before anything else, so that
    the id and the clock start before any other code of the request runs."""
    settings = app.config["KNET"]
    configure_logging(settings["log_format"], settings["log_level"])
    app.before_request(_start)
    app.after_request(_finish)
