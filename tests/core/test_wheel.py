"""The package as the Dockerfile installs it: a wheel in a fresh virtualenv, not the checkout.

An editable install finds templates in the source tree; a wheel only carries what
``package-data`` lists. This test builds the wheel from a copy of the sources, installs
it outside the checkout, serves the demo from it and opens every page of every role.
The dependencies come from this virtualenv through a plain path line in a ``.pth`` file:
such a line does not run that directory's own ``.pth`` files, so the checkout's editable
finder never loads and ``app`` can only come from the wheel.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.web.server import fresh_database, query, run_async

pytestmark = pytest.mark.wheel  # part of the normal suite; `-m "not wheel"` for a quick run

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "demo"
# Not copied to the build folder: environments, caches and earlier build output.
IGNORED = {".venv", ".git", "build", "dist", "__pycache__", "test-artifacts", "data"}


def _ignore(folder: str, names: list[str]) -> set[str]:
    skipped = {n for n in names if n.endswith((".egg-info", ".pyc", ".db")) or n.endswith("_cache")}
    skipped |= {n for n in names if n in IGNORED and (n != "data" or Path(folder) == ROOT)}
    return skipped


def _run(*args: str | Path, **kwargs) -> str:  # noqa: ANN003
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=240, **kwargs
    )
    assert done.returncode == 0, f"{args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A virtualenv outside the checkout holding only our wheel."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=_ignore)  # a clean copy: no stale build/ in the wheel
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp / "dist", src)
    (wheel,) = (tmp / "dist").glob("premier_recours-*.whl")
    env = tmp / "venv"
    (env.parent / "wheel-name").write_text(str(wheel))
    _run(sys.executable, "-m", "venv", "--without-pip", env)
    python = env / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", wheel)
    ours = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    here = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(ours.strip()) / "zz_dependencies.pth").write_text("\n".join(sorted(here)) + "\n")
    return env


def test_the_wheel_carries_every_file_of_app_that_is_not_python(venv):
    """Templates and static files of every domain, found on disk rather than listed."""
    wheel = Path((venv.parent / "wheel-name").read_text())
    packed = set(zipfile.ZipFile(wheel).namelist())
    on_disk = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "app").rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    }
    assert any("/templates/" in name for name in on_disk)
    assert on_disk - packed == set()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(venv: Path) -> Iterator[tuple[str, str, Path]]:
    """``premier-recours serve --demo`` from the installed wheel: (base URL, DB URL, log)."""
    work = venv.parent / "run"
    work.mkdir()
    port = _free_port()
    log_path = work / "server.log"
    with fresh_database() as url:
        env = {
            "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
            "HOME": str(work),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",  # the traceback lands in the log before the answer
            "DATABASE_URL": url,
            "SECRET_KEY": "wheel-test-secret",
            "ARGON2_TIME_COST": "1",
            "ARGON2_MEMORY_KIB": "1024",
            "SESSION_HORIZON_DAYS": "14",
        }
        with open(log_path, "w") as log:
            server = subprocess.Popen(
                [venv / "bin" / "premier-recours", "serve", "--demo", "--port", str(port)],
                cwd=work,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                assert server.poll() is None, log_path.read_text()[-4000:]
                try:
                    if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, log_path.read_text()[-4000:]
                time.sleep(0.3)
            yield base, url, log_path
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def test_the_installed_package_is_the_wheel_not_the_checkout(venv):
    where = _run(venv / "bin" / "python", "-c", "import app; print(app.__file__)", cwd=venv)
    assert Path(where.strip()).is_relative_to(venv), where
    assert not Path(where.strip()).is_relative_to(ROOT)


def _error(log: Path) -> str:
    """The server log from its last traceback (the reason of a 500)."""
    text = log.read_text()
    return text[text.rfind("Traceback") :][-4000:] if "Traceback" in text else text[-2000:]


def _login(client: httpx.Client, username: str) -> None:
    page = client.get("/login")
    assert page.status_code == 200, page.text[-2000:]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 303, (username, answer.status_code, answer.text[-500:])


def _book_one(base: str) -> dict[str, int]:
    """The README's curl walk-through: a patient, a request, a booking (ids for the pages)."""
    with httpx.Client(base_url=base, timeout=60) as api:
        token = api.post("/api/auth/token", data={"username": "secretaire", "password": PASSWORD})
        assert token.status_code == 200, token.text
        api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        patient = api.post(
            "/api/patients",
            json={
                "family_name": "Exemple",
                "given_name": "Jeanne",
                "birth_date": "1950-03-02",
                "phone": "06 39 98 00 01",  # ARCEP number reserved for fiction
                "commune": "Bièvres",
                "sms_consent": True,
            },
        )
        assert patient.status_code == 201, patient.text
        request = api.post(
            "/api/requests",
            json={
                "patient_id": patient.json()["id"],
                "reason": "fièvre et toux depuis 3 jours",
                "cannot_travel": True,
            },
        )
        assert request.status_code == 201, request.text
        rid = request.json()["request"]["id"]
        proposals = api.get(f"/api/requests/{rid}/proposals", params={"k": 1})
        assert proposals.status_code == 200, proposals.text
        booking = proposals.json()["options"][0]["booking"]
        booked = api.post(f"/api/requests/{rid}/proposals/book", json=booking)
        assert booked.status_code == 201, booked.text
        practitioners = api.get("/api/practitioners")
        assert practitioners.status_code == 200, practitioners.text
        return {
            "patient": patient.json()["id"],
            "request": rid,
            "appointment": booked.json()["appointment"]["id"],
            "practitioner": practitioners.json()[0]["id"],
        }


def _cancel_path(url: str) -> str:
    """The link of the confirmation SMS queued by the booking (path only)."""
    rows = run_async(query(url, "SELECT body FROM sms_messages ORDER BY id"))
    links = [m.group(1) for (body,) in rows if (m := re.search(r"https?://[^/\s]+(/\S+)", body))]
    assert links, rows
    return links[0]


def test_every_page_of_every_role_renders_from_the_installed_wheel(served):
    base, url, log = served
    ids = _book_one(base)
    secretariat = [
        "/",
        "/demandes/nouvelle",
        "/agenda",
        "/orientation",
        "/tableau/appels",
        f"/patients/{ids['patient']}",
        f"/demandes/{ids['request']}",
        f"/rendez-vous/{ids['appointment']}",
    ]
    roster = ["/equipe", "/indicateurs", "/indicateurs/rapport"]
    sas = ["/sas", f"/sas/praticiens/{ids['practitioner']}"]
    pages = {
        "secretaire": secretariat,
        "coordination": secretariat + roster,
        "regulateur": sas,
        "dr.martin": ["/medecin"],
        "dr.garnier": ["/medecin"],
    }
    everything = sorted({p for paths in pages.values() for p in paths})
    for username, own in pages.items():
        with httpx.Client(base_url=base, timeout=60) as client:
            _login(client, username)
            for path in everything:
                page = client.get(path)
                expected = 200 if path in own else page.status_code
                assert page.status_code < 500, (username, path, _error(log))
                assert page.status_code == expected, (username, path, page.status_code)
                if path in own:
                    assert "text/html" in page.headers["content-type"], (username, path)

    # The public pages: the SMS cancellation link (real and forged), the API docs.
    with httpx.Client(base_url=base, timeout=60) as public:
        cancel = _cancel_path(url)
        page = public.get(cancel)
        assert page.status_code == 200 and "<form" in page.text, page.text[-2000:]
        forged = public.get(cancel.rsplit("/", 1)[0] + "/not-a-real-token")
        assert forged.status_code == 404 and "<html" in forged.text.lower(), forged.text[-2000:]
        for path in ("/login", "/docs", "/redoc", "/openapi.json"):
            assert public.get(path).status_code == 200, path
