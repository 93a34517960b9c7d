"""Territory as data: a file imported into the database, read by intake, rounds, indicators.

Another CPTS changes the file, not the code: a territory with a commune the demo does not
know (Sceaux) places a patient of that commune at its centre, in the API and in the rounds.
"""

from __future__ import annotations

import ast
import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from app import cli
from app.appointments.billing import TariffTable
from app.demo import seed as demo_seed
from app.indicators import service as indicators_service
from app.patients.models import Patient
from app.rounds.instance import load_day, location
from app.territory import service as territory
from app.territory.models import Territory, TerritoryCommune

APP = Path(__file__).resolve().parents[2] / "app"

SCEAUX = {
    "insee": "92071",
    "name": "Sceaux",
    "postal_code": "92330",
    "latitude": 48.7786,
    "longitude": 2.2906,
    "population": 19679,
}


def _file(tmp_path: Path, communes: list[dict], name: str = "CPTS du Val Test") -> Path:
    path = tmp_path / "territoire.json"
    demo = json.loads(territory.DEMO_TERRITORY_FILE.read_text(encoding="utf-8"))
    path.write_text(
        json.dumps({**demo, "cpts": {"name": name, "finess": "920000000"}, "communes": communes}),
        encoding="utf-8",
    )
    return path


def _demo_communes() -> list[dict]:
    return json.loads(territory.DEMO_TERRITORY_FILE.read_text(encoding="utf-8"))["communes"]


async def _cli(db, database_url: str, path: Path) -> int:
    """``premier-recours territory import`` as an operator runs it (its own event loop)."""
    await db.commit()  # no read transaction of ours in the way of the command's writes
    return await asyncio.to_thread(
        cli.main, ["--database-url", database_url, "territory", "import", str(path)]
    )


async def _rows(db) -> dict[str, tuple]:
    rows = (await db.scalars(select(TerritoryCommune))).all()
    return {r.insee: (r.name, r.postal_code, r.latitude, r.longitude, r.population) for r in rows}


def test_no_module_of_the_app_imports_the_benchmark_generator():
    """The app reads its territory from the database; scheduler/bievre.py stays a benchmark."""
    offenders = []
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            if any(n == "scheduler.bievre" or n.startswith("scheduler.bievre.") for n in names):
                offenders.append(str(path.relative_to(APP.parent)))
    assert offenders == []


def test_the_demo_file_names_its_sources():
    data = territory.read_file(territory.DEMO_TERRITORY_FILE)
    assert {"insee", "population", "centre"} <= set(data.sources)
    assert all("http" in source for source in data.sources.values())
    assert len(data.communes) == 5


async def test_import_command_loads_the_file_and_is_idempotent(
    app, db, tmp_path, database_url, capsys
):
    path = _file(tmp_path, [*_demo_communes()[:2], SCEAUX])

    assert await _cli(db, database_url, path) == 0
    out = capsys.readouterr().out
    assert "3 communes" in out and "1 ajoutées" in out and "3 retirées" in out
    assert "Attention : CPTS_NAME" in out  # the file names another CPTS than the settings
    first = await _rows(db)
    assert set(first) == {"94016", "94038", "92071"}
    assert first["92071"] == ("Sceaux", "92330", 48.7786, 2.2906, 19679)
    identity = await db.get(Territory, 1)
    assert (identity.cpts_name, identity.cpts_finess) == ("CPTS du Val Test", "920000000")
    assert "insee.fr" in identity.source

    db.expire_all()
    assert await _cli(db, database_url, path) == 0
    assert "3 inchangées" in capsys.readouterr().out
    assert await _rows(db) == first
    assert await db.scalar(select(func.count()).select_from(Territory)) == 1


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{", "JSON invalide"),
        (json.dumps({"cpts": {"name": "x"}, "sources": {"a": "b"}, "communes": []}), "communes"),
        (
            json.dumps(
                {
                    "cpts": {"name": "x"},
                    "sources": {"a": "b"},
                    "communes": [{**SCEAUX, "insee": "9207"}],
                }
            ),
            "insee",
        ),
        (
            json.dumps({"cpts": {"name": "x"}, "sources": {"a": "b"}, "communes": [SCEAUX] * 2}),
            "deux fois",
        ),
    ],
)
async def test_a_bad_file_is_refused_in_french_and_nothing_changes(
    app, db, tmp_path, database_url, capsys, content, expected
):
    before = await _rows(db)
    path = tmp_path / "mauvais.json"
    path.write_text(content, encoding="utf-8")
    assert await _cli(db, database_url, path) == 2
    err = capsys.readouterr().err
    assert "Fichier de territoire refusé" in err and expected in err
    assert await _rows(db) == before


async def test_another_territory_places_patients_in_its_communes(
    app, client, world, db, tmp_path, database_url, clock
):
    """API intake, rounds and indicators all read the imported communes."""
    path = _file(tmp_path, [*_demo_communes(), SCEAUX])
    assert await _cli(db, database_url, path) == 0

    response = await client.post(
        "/api/patients",
        json={
            "family_name": "Lambert",
            "given_name": "Odile",
            "birth_date": "1950-05-05",
            "sex": "female",
            "commune": "sceaux",
        },
        headers=world.secretary,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["commune_insee"] == "92071"
    assert (body["latitude"], body["longitude"]) == (48.7786, 2.2906)

    # Rounds: a patient known by commune only is placed at that commune's centre.
    patient = Patient(
        family_name="Sans",
        given_name="Coordonnées",
        search_name="sans coordonnees",
        birth_date=dt.date(1940, 1, 1),
        sex="male",
        commune="Sceaux",
        commune_insee="92071",
    )
    day = await load_day(session=db, date=clock().date())
    assert location(patient, world.titular, day.communes) == (48.7786, 2.2906)

    # Indicators: the territory's population is the imported one.
    report = await indicators_service.compute(
        session=db,
        span=indicators_service.Period(clock().date(), clock().date()),
        tariffs=TariffTable(),
    )
    assert report.population == sum(c["population"] for c in _demo_communes()) + 19679


async def test_a_commune_outside_the_territory_gets_no_centre(app, client, world):
    response = await client.post(
        "/api/patients",
        json={
            "family_name": "Lambert",
            "given_name": "Odile",
            "birth_date": "1950-05-05",
            "sex": "female",
            "commune": "Sceaux",
        },
        headers=world.secretary,
    )
    assert response.status_code == 201, response.text
    assert response.json()["latitude"] is None


async def test_seed_demo_loads_the_demo_territory_when_there_is_none(app, db, clock):
    await db.execute(delete(TerritoryCommune))
    await db.execute(delete(Territory))
    await db.commit()
    territory.forget()
    assert await demo_seed.seed(session=db, today=clock().date(), horizon_days=7)
    await db.commit()
    assert set(await _rows(db)) == {c["insee"] for c in _demo_communes()}
