"""What leaves the service: small counts masked, the same rows for the page, the CSV and the
report. Professionals are public (the CPTS names them) and are not masked; every count of
patients, requests or appointments from 1 to 4 is shown as "<5", and a share, rate, median
or amount built on such a count as "n.d." (non diffusable)."""

from __future__ import annotations

import copy
import csv
import io
from typing import Any

THRESHOLD = 5
MASKED = "<5"
NOT_SHOWN = "n.d."

CSV_COLUMNS = (
    "periode_debut",
    "periode_fin",
    "section",
    "indicateur",
    "dimension",
    "valeur",
    "unite",
)


def small(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < THRESHOLD


def mask(value: Any) -> Any:
    return MASKED if small(value) else value


def _derived(value: Any, *basis: Any) -> Any:
    return NOT_SHOWN if any(small(b) for b in basis) else value


def mask_report(report: dict[str, Any]) -> dict[str, Any]:
    """The report as it may be shown or exported: no count of people under 5."""
    raw = report
    out = copy.deepcopy(report)
    req, rq = raw["requests"], out["requests"]
    rq["share_within_deadline"] = _derived(
        req["share_within_deadline"], req["answered_within_deadline"], req["needing_care"]
    )
    rq["share_within_48h"] = _derived(
        req["share_within_48h"], req["answered_within_48h"], req["needing_care"]
    )
    rq["median_delay_minutes"] = _derived(req["median_delay_minutes"], req["with_care"])
    appts = raw["appointments"]
    out["appointments"]["noshow_rate"] = _derived(
        appts["noshow_rate"], appts["noshow"], appts["noshow"] + raw["consultations"]["total"]
    )
    bill = raw["billing"]
    out["billing"]["mcg_amount"] = _derived(bill["mcg_amount"], bill["mcg_count"])
    out["billing"]["snp_amount"] = _derived(bill["snp_amount"], bill["snp_count"])
    for row, raw_row in zip(out["by_commune"], raw["by_commune"], strict=True):
        row["requests_per_1000"] = _derived(raw_row["requests_per_1000"], raw_row["requests"])
        row["consultations_per_1000"] = _derived(
            raw_row["consultations_per_1000"], raw_row["consultations"]
        )
    for section in ("consultations", "orientation", "appointments", "billing"):
        out[section] = {k: mask(v) for k, v in out[section].items()}
    out["requests"] = {
        k: mask(v) for k, v in rq.items() if k not in ("by_channel", "by_destination")
    }
    out["requests"]["by_channel"] = {k: mask(v) for k, v in rq["by_channel"].items()}
    out["requests"]["by_destination"] = {k: mask(v) for k, v in rq["by_destination"].items()}
    out["sas"] = {
        "bookings": mask(raw["sas"]["bookings"]),
        "push": {k: mask(v) for k, v in raw["sas"]["push"].items()},
    }
    count_keys = ("requests", "redirected_15", "consultations", "oriented", "declared")
    for row in out["by_commune"]:
        for key in count_keys:
            row[key] = mask(row[key])
    for row in out["by_week"]:
        for key in ("requests", "consultations", "noshow", "redirected_15", "sas_bookings"):
            row[key] = mask(row[key])
    if raw.get("waitlist") is not None:
        out["waitlist"] = _mask_waitlist(raw["waitlist"])
    out["masked"] = {"threshold": THRESHOLD, "count": MASKED, "derived": NOT_SHOWN}
    return out


def _mask_waitlist(raw: dict[str, Any]) -> dict[str, Any]:
    """Waiting list (issue 23): counts of requests and slots masked like the others."""
    unfilled = raw["unfilled"]
    return {
        "unfilled": {
            "total": mask(unfilled["total"]),
            **{
                key: {k: mask(v) for k, v in unfilled[key].items()}
                for key in ("by_week", "by_commune", "by_modality", "by_channel")
            },
        },
        "waiting_at_end": mask(raw["waiting_at_end"]),
        "left": mask(raw["left"]),
        "median_wait_minutes": _derived(raw["median_wait_minutes"], raw["left"]),
        "freed": mask(raw["freed"]),
        "refilled": mask(raw["refilled"]),
        "share_refilled": _derived(raw["share_refilled"], raw["refilled"], raw["freed"]),
        "median_refill_minutes": _derived(raw["median_refill_minutes"], raw["refilled"]),
        "sms_offers": mask(raw["sms_offers"]),
    }


# (section, key, French label, unit) — the CSV's rows, in this order, always.
SUMMARY_ROWS = (
    ("professionnels", "professionals.titular", "Médecins titulaires participants", "médecins"),
    ("professionnels", "professionals.adjoint", "Médecins adjoints participants", "médecins"),
    (
        "professionnels",
        "professionals.titular_with_consultations",
        "Titulaires ayant consulté sur la période",
        "médecins",
    ),
    (
        "professionnels",
        "professionals.adjoint_with_consultations",
        "Adjoints ayant consulté sur la période",
        "médecins",
    ),
    ("consultations", "consultations.home_visit", "Visites à domicile", "actes"),
    ("consultations", "consultations.teleconsultation", "Téléconsultations", "actes"),
    ("consultations", "consultations.practice", "Consultations au cabinet", "actes"),
    ("consultations", "consultations.total", "Consultations (total)", "actes"),
    ("orientation", "orientation.entered", "Patients entrés dans la liste", "patients"),
    ("orientation", "orientation.proposed", "Patients à qui un médecin a été proposé", "patients"),
    ("orientation", "orientation.accepted", "Propositions acceptées", "patients"),
    ("orientation", "orientation.declared", "Médecins traitants déclarés", "patients"),
    ("orientation", "orientation.open_at_end", "Dossiers ouverts en fin de période", "patients"),
    ("demandes", "requests.received", "Demandes de soins non programmés reçues", "demandes"),
    ("demandes", "requests.by_channel.phone", "Demandes reçues par téléphone", "demandes"),
    ("demandes", "requests.by_channel.sas", "Demandes reçues du SAS", "demandes"),
    ("demandes", "requests.by_channel.web", "Demandes reçues en ligne", "demandes"),
    ("demandes", "requests.redirected_15", "Demandes réorientées vers le 15", "demandes"),
    (
        "demandes",
        "requests.by_destination.suicide_3114",
        "Demandes orientées vers le 3114",
        "demandes",
    ),
    (
        "demandes",
        "requests.by_destination.pdsa_116117",
        "Demandes orientées vers le 116 117 (PDSA)",
        "demandes",
    ),
    (
        "demandes",
        "requests.by_destination.pharmacist",
        "Demandes orientées vers un pharmacien",
        "demandes",
    ),
    (
        "demandes",
        "requests.by_destination.nurse",
        "Demandes orientées vers un infirmier",
        "demandes",
    ),
    (
        "demandes",
        "requests.by_destination.emergency_department",
        "Demandes orientées vers les urgences",
        "demandes",
    ),
    ("demandes", "requests.unfilled", "Demandes non pourvues", "demandes"),
    ("demandes", "requests.needing_care", "Demandes relevant de la plateforme", "demandes"),
    (
        "demandes",
        "requests.answered_within_deadline",
        "Demandes prises en charge dans le délai",
        "demandes",
    ),
    ("demandes", "requests.share_within_deadline", "Part prise en charge dans le délai", "part"),
    ("demandes", "requests.answered_within_48h", "Demandes prises en charge sous 48 h", "demandes"),
    ("demandes", "requests.share_within_48h", "Part prise en charge sous 48 h", "part"),
    ("demandes", "requests.median_delay_minutes", "Délai médian appel → soin", "minutes"),
    ("rendez-vous", "appointments.noshow", "Rendez-vous non honorés", "rendez-vous"),
    ("rendez-vous", "appointments.noshow_rate", "Taux de rendez-vous non honorés", "part"),
    (
        "rendez-vous",
        "appointments.cancelled_by_patient",
        "Annulations par le patient",
        "rendez-vous",
    ),
    ("facturation", "billing.mcg_count", "Majorations MCG enregistrées", "actes"),
    ("facturation", "billing.mcg_amount", "Montant des majorations MCG", "euros"),
    ("facturation", "billing.snp_count", "Majorations SNP enregistrées", "actes"),
    ("facturation", "billing.snp_amount", "Montant des majorations SNP", "euros"),
    ("sas", "sas.bookings", "Rendez-vous pris par le SAS", "rendez-vous"),
    ("sas", "sas.push.sent", "Rendez-vous SAS transmis (INT_R03)", "rendez-vous"),
    ("sas", "sas.push.pending", "Rendez-vous SAS en attente de transmission", "rendez-vous"),
    ("sas", "sas.push.failed", "Rendez-vous SAS en échec de transmission", "rendez-vous"),
    ("sas", "sas.push.not_queued", "Rendez-vous SAS sans transmission", "rendez-vous"),
)

# The waiting list's rows (issue 23), after the weeks: summary, then *non pourvues* by
# modality, channel, week and commune (every commune of the territory, then the others).
WAITLIST_ROWS = (
    ("liste d'attente", "waitlist.unfilled.total", "Demandes devenues non pourvues", "demandes"),
    (
        "liste d'attente",
        "waitlist.waiting_at_end",
        "Demandes en liste d'attente en fin de période",
        "demandes",
    ),
    ("liste d'attente", "waitlist.median_wait_minutes", "Attente médiane sur la liste", "minutes"),
    ("liste d'attente", "waitlist.freed", "Créneaux libérés", "créneaux"),
    ("liste d'attente", "waitlist.refilled", "Créneaux libérés repris", "créneaux"),
    ("liste d'attente", "waitlist.share_refilled", "Part des créneaux libérés reprise", "part"),
    (
        "liste d'attente",
        "waitlist.median_refill_minutes",
        "Délai médian libération → reprise",
        "minutes",
    ),
    ("liste d'attente", "waitlist.sms_offers", "Propositions envoyées par SMS", "SMS"),
)
UNFILLED_DIMENSIONS = (
    ("by_modality", "Non pourvues par modalité"),
    ("by_channel", "Non pourvues par canal"),
    ("by_week", "Non pourvues par semaine"),
    ("by_commune", "Non pourvues par commune"),
)

COMMUNE_COLUMNS = (
    ("requests", "Demandes reçues", "demandes"),
    ("requests_per_1000", "Demandes pour 1 000 habitants", "pour 1 000 hab."),
    ("redirected_15", "Demandes réorientées vers le 15", "demandes"),
    ("consultations", "Consultations", "actes"),
    ("consultations_per_1000", "Consultations pour 1 000 habitants", "pour 1 000 hab."),
    ("oriented", "Patients entrés dans la liste d'orientation", "patients"),
    ("declared", "Médecins traitants déclarés", "patients"),
)

WEEK_COLUMNS = (
    ("requests", "Demandes reçues", "demandes"),
    ("consultations", "Consultations", "actes"),
    ("noshow", "Rendez-vous non honorés", "rendez-vous"),
    ("redirected_15", "Demandes réorientées vers le 15", "demandes"),
    ("sas_bookings", "Rendez-vous pris par le SAS", "rendez-vous"),
)


def lookup(report: dict[str, Any], dotted: str) -> Any:
    value: Any = report
    for part in dotted.split("."):
        value = value[part]
    return value


def rows(masked: dict[str, Any]) -> list[tuple[str, str, str, Any, str]]:
    """(section, indicator, dimension, value, unit), always in the same order."""
    out: list[tuple[str, str, str, Any, str]] = []
    for section, key, label, unit in SUMMARY_ROWS:
        out.append((section, label, "", lookup(masked, key), unit))
    for row in masked["by_commune"]:
        dimension = row["name"] if row["insee"] is None else f"{row['name']} ({row['insee']})"
        out.append(("commune", "Population", dimension, row["population"] or "", "habitants"))
        for key, label, unit in COMMUNE_COLUMNS:
            out.append(("commune", label, dimension, row[key], unit))
    for row in masked["by_week"]:
        for key, label, unit in WEEK_COLUMNS:
            out.append(("semaine", label, f"{row['week']} (lundi {row['monday']})", row[key], unit))
    waitlist = masked.get("waitlist")
    if waitlist is not None:
        for section, key, label, unit in WAITLIST_ROWS:
            out.append((section, label, "", lookup(masked, key), unit))
        mondays = {row["week"]: row["monday"] for row in masked["by_week"]}
        for key, label in UNFILLED_DIMENSIONS:
            for dimension, value in waitlist["unfilled"][key].items():
                if key == "by_week" and dimension in mondays:
                    dimension = f"{dimension} (lundi {mondays[dimension]})"
                out.append(("liste d'attente", label, dimension, value, "demandes"))
    return out


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value else "0"
    return str(value)


def to_csv(masked: dict[str, Any]) -> str:
    """The CSV export: one indicator per line, columns fixed by CSV_COLUMNS."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    start, end = masked["period"]["from"], masked["period"]["to"]
    for section, label, dimension, value, unit in rows(masked):
        writer.writerow((start, end, section, label, dimension, _cell(value), unit))
    return buffer.getvalue()
