"""Prometheus metrics of the service, in one place: names, labels and the few setters.

Labels never carry patient data: routes are templates (`/api/patients/{patient_id}`),
outbox kinds are topics (`sms`, `sas_appointment`), jobs are job names.

Several API processes (`serve --workers N`) share their counters through
prometheus-client's multiprocess mode when PROMETHEUS_MULTIPROC_DIR names an empty
directory (a tmpfs in deploy/compose.yaml); a `worker` serves its own registry on
WORKER_METRICS_PORT. The outbox gauges are read from the database at scrape time
(see app/core/observability.py), so every process reports the same queue.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

PREFIX = "premier_recours"
# The `_created` series only double the output; Prometheus detects resets on its own.
disable_created_metrics()
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

if os.environ.get(MULTIPROC_ENV):
    # prometheus-client writes one file per process there; the folder must exist.
    os.makedirs(os.environ[MULTIPROC_ENV], exist_ok=True)

HTTP_LATENCY = Histogram(
    f"{PREFIX}_http_request_duration_seconds",
    "Durée des requêtes HTTP, par modèle de route (jamais le chemin brut).",
    ("method", "route", "status"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
SOLVER_RUNS = Counter(
    f"{PREFIX}_solver_runs",
    "Calculs de tournées, par déclencheur et issue.",
    ("trigger", "status"),
)
SOLVER_DURATION = Histogram(
    f"{PREFIX}_solver_run_duration_seconds",
    "Durée d'un calcul de tournées (solveur seul), par déclencheur.",
    ("trigger",),
    buckets=(0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0),
)
OUTBOX_SENT = Counter(
    f"{PREFIX}_outbox_sent",
    "Messages de la file d'envoi remis, par type (sms, sas_appointment…).",
    ("kind",),
)
OUTBOX_FAILURES = Counter(
    f"{PREFIX}_outbox_failures",
    "Échecs d'envoi (SMS, envois au SAS…), par type ; outcome=retry (nouvel essai "
    "prévu) ou failed (abandon définitif).",
    ("kind", "outcome"),
)
LEADER = Gauge(
    f"{PREFIX}_leader",
    "1 quand ce processus détient le verrou de leader de la tâche périodique.",
    ("job",),
    multiprocess_mode="livemax",
)

ROUTE_UNMATCHED = "<sans route>"


def set_leader(job: str, leader: bool) -> None:
    """Called by the leader election when this process takes or loses a job's lock."""
    LEADER.labels(job=job).set(1 if leader else 0)


def observe_solver_run(trigger: str, status: str, seconds: float) -> None:
    SOLVER_RUNS.labels(trigger=trigger, status=status).inc()
    SOLVER_DURATION.labels(trigger=trigger).observe(seconds)


def observe_outbox_outcome(kind: str, outcome: str) -> None:
    """`outcome`: sent, retry (a transient failure) or failed (given up)."""
    if outcome == "sent":
        OUTBOX_SENT.labels(kind=kind).inc()
    else:
        OUTBOX_FAILURES.labels(kind=kind, outcome=outcome).inc()


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_LATENCY.labels(method=method, route=route, status=str(status)).observe(seconds)


class QueueSnapshot:
    """The outbox at one instant, per kind: due messages, the oldest one's wait, failures."""

    def __init__(self, rows: Iterable[tuple[str, int, dt.timedelta | None, int]]):
        self.rows = list(rows)

    def collect(self) -> Iterable[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            f"{PREFIX}_outbox_depth",
            "Messages dus en attente d'envoi (en attente ou en cours), par type.",
            labels=("kind",),
        )
        oldest = GaugeMetricFamily(
            f"{PREFIX}_outbox_oldest_age_seconds",
            "Attente du plus ancien message dû, par type (0 quand la file est vide).",
            labels=("kind",),
        )
        failed = GaugeMetricFamily(
            f"{PREFIX}_outbox_failed",
            "Messages abandonnés (échec définitif), à reprendre par la coordination.",
            labels=("kind",),
        )
        for kind, due, age, given_up in self.rows:
            depth.add_metric((kind,), due)
            oldest.add_metric((kind,), max(0.0, age.total_seconds()) if age else 0.0)
            failed.add_metric((kind,), given_up)
        yield from (depth, oldest, failed)


def exposition(snapshot: QueueSnapshot | None = None) -> tuple[bytes, str]:
    """The text exposition of this process (or of all API processes) plus the queue."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    body = generate_latest(registry)
    if snapshot is not None:
        scrape = CollectorRegistry(auto_describe=False)
        scrape.register(snapshot)
        body += generate_latest(scrape)
    return body, CONTENT_TYPE_LATEST


def serve_worker_metrics(port: int) -> None:
    """`worker`: its counters (sends, failures, solver runs, leader) on their own port."""
    if port:
        start_http_server(port)
