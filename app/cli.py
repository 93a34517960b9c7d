"""The `premier-recours` command: serve, migrate, seed-demo, territory, worker, retention,
patient, bench."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from typing import Any

from pydantic import ValidationError

from app.core.config import Settings
from app.core.timeutil import PARIS


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if getattr(args, "demo", False):
        overrides["demo"] = True
    if getattr(args, "database_url", None):
        overrides["database_url"] = args.database_url
    return Settings(**overrides)


async def _seed_and_extend(settings: Settings, *, seed_demo: bool) -> None:
    from app.core.db import make_engine, make_sessionmaker
    from app.demo import seed as demo_seed
    from app.practitioners import service as practitioners_service

    engine = make_engine(settings.database_url)
    maker = make_sessionmaker(engine)
    today = dt.datetime.now(PARIS).date()
    try:
        async with maker() as session, session.begin():
            if seed_demo:
                created = await demo_seed.seed(
                    session=session, today=today, horizon_days=settings.session_horizon_days
                )
                print("Territoire de démonstration créé." if created else "Démo déjà présente.")
            count = await practitioners_service.materialise(
                session=session,
                start=today,
                end=today + dt.timedelta(days=settings.session_horizon_days),
            )
            if count:
                print(f"{count} vacations générées depuis les modèles hebdomadaires.")
    finally:
        await engine.dispose()


def cmd_migrate(args: argparse.Namespace) -> int:
    from app.core import migrate

    settings = _settings(args)
    if args.downgrade:
        migrate.downgrade(settings.database_url, args.revision or "base")
    else:
        migrate.upgrade(settings.database_url, args.revision or "heads")
    print("Schéma de la base à jour.")
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from app.core import migrate

    settings = _settings(args)
    migrate.upgrade(settings.database_url)
    asyncio.run(_seed_and_extend(settings, seed_demo=True))
    return 0


def serve_settings(args: argparse.Namespace) -> Settings:
    """`serve` runs the outbox and the periodic jobs itself unless told otherwise.

    Alone, the service sends its SMS and runs its jobs; when separate workers run,
    `--no-worker` (or RUN_WORKER_IN_PROCESS=false) leaves that to them.
    """
    settings = _settings(args)
    if args.no_worker:
        settings.run_worker_in_process = False
    elif "run_worker_in_process" not in settings.model_fields_set:
        settings.run_worker_in_process = True
    return settings


async def _retention(settings: Settings, *, dry_run: bool) -> dict[str, Any]:
    from app.core.db import make_engine, make_sessionmaker
    from app.dataprotection import retention

    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            report = await retention.run(
                session=session, settings=settings, now=dt.datetime.now(dt.UTC), dry_run=dry_run
            )
    finally:
        await engine.dispose()
    return report.as_dict()


def cmd_retention(args: argparse.Namespace) -> int:
    report = asyncio.run(_retention(_settings(args), dry_run=args.dry_run))
    title = "Conservation (simulation, rien n'est modifié)" if args.dry_run else "Conservation"
    print(f"{title} :")
    for name, value in report.items():
        if name != "dry_run":
            print(f"  {name} : {value}")
    return 0


async def _patient(
    settings: Settings, action: str, patient_id: int, *, complete: bool
) -> dict[str, Any]:
    """Export or erase one patient (the DPO's command line); audited as done by "system"."""
    from app.audit import service as audit_service
    from app.core.db import make_engine, make_sessionmaker
    from app.dataprotection import erasure, export

    engine = make_engine(settings.database_url)
    now = dt.datetime.now(dt.UTC)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            if action == "export":
                result = await export.export(session=session, patient_id=patient_id, now=now)
                kept_id: int | None = patient_id
                detail: dict[str, Any] = {"via": "cli"}
            else:
                report = await erasure.erase(
                    session=session,
                    patient_id=patient_id,
                    now=now,
                    confirm=True,
                    complete=complete,
                )
                result = report.as_dict()
                kept_id = None if report.deleted else patient_id
                detail = {"via": "cli", "deleted": report.deleted}
            await audit_service.record(
                session=session,
                actor=None,
                action=f"patient_{'export' if action == 'export' else 'erasure'}",
                entity_type="patient",
                entity_id=patient_id,
                patient_id=kept_id,
                detail=detail,
            )
    finally:
        await engine.dispose()
    return result


def cmd_patient(args: argparse.Namespace) -> int:
    import json

    from app.core.errors import DomainError

    if args.patient_command == "erase" and not args.yes:
        print("L'effacement est définitif : ajoutez --yes pour confirmer.", file=sys.stderr)
        return 2
    try:
        result = asyncio.run(
            _patient(
                _settings(args),
                args.patient_command,
                args.patient_id,
                complete=getattr(args, "complete", False),
            )
        )
    except DomainError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if getattr(args, "output", None):
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text + "\n")
        print(f"Export écrit dans {args.output}.")
    else:
        print(text)
    return 0


async def _import_territory(settings: Settings, path: str) -> str:
    from app.core.db import make_engine, make_sessionmaker
    from app.territory import service as territory

    data = territory.read_file(path)
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            result = await territory.import_territory(session=session, data=data)
    finally:
        await engine.dispose()
    notice = ""
    if data.cpts.name != settings.cpts_name:
        # The SMS and the SAS publish CPTS_NAME; say so when the file names another CPTS.
        notice = f" Attention : CPTS_NAME vaut « {settings.cpts_name} »."
    return (
        f"Territoire « {data.cpts.name} » : {len(data.communes)} communes "
        f"({result.added} ajoutées, {result.updated} modifiées, {result.removed} retirées, "
        f"{result.unchanged} inchangées).{notice}"
    )


def cmd_territory_import(args: argparse.Namespace) -> int:
    from app.core import migrate
    from app.territory.service import TerritoryFileError

    settings = _settings(args)
    migrate.upgrade(settings.database_url)
    try:
        print(asyncio.run(_import_territory(settings, args.file)))
    except TerritoryFileError as exc:
        print(f"Fichier de territoire refusé : {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    from app.core import migrate

    settings = serve_settings(args)
    migrate.upgrade(settings.database_url)
    asyncio.run(_seed_and_extend(settings, seed_demo=settings.demo))
    if settings.demo:
        print(
            "Mode démonstration : comptes secretaire, coordination, regulateur et dr.<nom>, "
            "mot de passe « demo »."
        )
    if args.workers > 1 and settings.database_url.startswith("sqlite"):
        print("Attention : plusieurs processus sur SQLite se partagent un seul écrivain.")
    print(
        f"Premier Recours sur http://{args.host}:{args.port}/ ({args.workers} processus web, "
        + (
            "file d'envoi et tâches périodiques dans ce service)"
            if settings.run_worker_in_process
            else "sans worker intégré : lancez premier-recours worker)"
        )
    )
    # Every web process builds its app from the environment (app.main:create_app_from_env).
    os.environ["DATABASE_URL"] = settings.database_url
    os.environ["DEMO"] = "true" if settings.demo else "false"
    os.environ["RUN_WORKER_IN_PROCESS"] = "true" if settings.run_worker_in_process else "false"
    uvicorn.run(
        "app.main:create_app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    import logging

    from app.core import migrate
    from app.core.metrics import serve_worker_metrics
    from app.main import create_app
    from app.outbox.runner import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = _settings(args)
    settings.run_worker_in_process = False  # this process *is* the worker
    migrate.upgrade(settings.database_url)
    serve_worker_metrics(settings.worker_metrics_port)
    done = asyncio.run(run_worker(create_app(settings), once=args.once))
    if args.once:
        print(f"{done} messages traités.")
    return 0


def cmd_bench(args: argparse.Namespace, rest: list[str]) -> int:
    from scheduler import bench

    return bench.main(rest) or 0


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("au moins 1")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="premier-recours", description=__doc__)
    parser.add_argument("--database-url", help="remplace DATABASE_URL")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="lance le service web")
    serve.add_argument("--demo", action="store_true", help="territoire et comptes de démonstration")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="nombre de processus web (uvicorn) ; plusieurs demandent PostgreSQL",
    )
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="n'envoie pas la file et ne lance pas les tâches périodiques (workers séparés)",
    )
    serve.set_defaults(func=cmd_serve)
    mig = sub.add_parser("migrate", help="met le schéma de la base à jour (Alembic)")
    mig.add_argument("--revision")
    mig.add_argument("--downgrade", action="store_true")
    mig.set_defaults(func=cmd_migrate)
    seed = sub.add_parser("seed-demo", help="crée le territoire de démonstration")
    seed.set_defaults(func=cmd_seed_demo, demo=True)
    territory = sub.add_parser("territory", help="territoire de la CPTS (communes, identité)")
    territory_sub = territory.add_subparsers(dest="territory_command", required=True)
    territory_import = territory_sub.add_parser(
        "import", help="charge un fichier de territoire (JSON) dans la base"
    )
    territory_import.add_argument("file", help="fichier JSON, ex. app/demo/territory-bievre.json")
    territory_import.set_defaults(func=cmd_territory_import)
    worker = sub.add_parser(
        "worker", help="envoie la file (SMS, SAS) et lance les tâches périodiques"
    )
    worker.add_argument("--once", action="store_true", help="vide la file puis s'arrête")
    worker.set_defaults(func=cmd_worker)
    keep = sub.add_parser(
        "retention", help="purge ou anonymise les données au-delà de leur durée de conservation"
    )
    keep.add_argument("--dry-run", action="store_true", help="compte sans rien modifier")
    keep.set_defaults(func=cmd_retention)
    patient = sub.add_parser(
        "patient", help="droits d'un patient : export de ses données, effacement (RGPD)"
    )
    patient_sub = patient.add_subparsers(dest="patient_command", required=True)
    patient_export = patient_sub.add_parser("export", help="toutes ses données (JSON)")
    patient_export.add_argument("patient_id", type=_positive, metavar="ID")
    patient_export.add_argument("--output", "-o", help="fichier JSON (sinon : la sortie)")
    patient_export.set_defaults(func=cmd_patient)
    patient_erase = patient_sub.add_parser(
        "erase", help="efface ses données, sauf ce que la loi impose de garder"
    )
    patient_erase.add_argument("patient_id", type=_positive, metavar="ID")
    patient_erase.add_argument(
        "--complete",
        action="store_true",
        help="supprime aussi le dossier de soins (refusé tant qu'il doit être conservé)",
    )
    patient_erase.add_argument("--yes", action="store_true", help="confirme l'effacement")
    patient_erase.set_defaults(func=cmd_patient)
    sub.add_parser("bench", help="bancs d'essai du planificateur", add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if "bench" in argv:
        index = argv.index("bench")
        return cmd_bench(parser.parse_args(argv[: index + 1]), argv[index + 1 :])
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ValidationError as exc:  # a setting refused at start: say which, no traceback
        for error in exc.errors():
            print(
                f"Configuration refusée : {error['msg'].removeprefix('Value error, ')}",
                file=sys.stderr,
            )
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
