"""deploy/: the compose file says what the README promises, nginx accepts its configuration,
the image runs in production mode as non-root, and every setting is documented."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from app.core.config import SECTIONS, Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
TLS_DIR = "/etc/premier-recours/tls"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def _command(service: dict) -> list[str]:
    command = service["command"]
    return command if isinstance(command, list) else command.split()


def test_compose_services_and_their_order(compose):
    services = compose["services"]
    assert {"postgres", "migrate", "api", "worker", "nginx"} <= set(services)

    postgres = services["postgres"]
    assert postgres["image"].split(":")[1].startswith("15")
    assert "pgdata" in compose["volumes"]
    assert any(v.startswith("pgdata:/var/lib/postgresql/data") for v in postgres["volumes"])
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])

    migrate = services["migrate"]
    assert _command(migrate) == ["migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"

    for name in ("api", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
        env = services[name]["environment"]
        assert env["ENVIRONMENT"] == "production"
        assert env["DATABASE_URL"].startswith("postgresql://")
        assert "@postgres:5432/" in env["DATABASE_URL"]
        assert "test" in services[name]["healthcheck"]

    api = _command(services["api"])
    assert api[0] == "serve" and "--no-worker" in api
    assert api[api.index("--workers") + 1] == "2"
    assert api[api.index("--port") + 1] == "8000"
    assert "/ready" in " ".join(services["api"]["healthcheck"]["test"])

    worker = services["worker"]
    assert _command(worker) == ["worker"]
    assert worker["deploy"]["replicas"] == 2
    port = worker["environment"]["WORKER_METRICS_PORT"]
    assert port in " ".join(worker["healthcheck"]["test"])


def test_compose_nginx_matches_its_configuration(compose):
    nginx = compose["services"]["nginx"]
    mounts = {m.split(":")[0]: m.split(":")[1] for m in nginx["volumes"]}
    assert mounts["./certs"] == TLS_DIR
    for conf in ("./nginx-sas.conf", "./nginx-app.conf"):
        assert (DEPLOY / conf).is_file() and mounts[conf].startswith("/etc/nginx/conf.d/")
    assert nginx["depends_on"]["api"]["condition"] == "service_healthy"
    assert {"443:443", "80:80"} <= set(nginx["ports"])

    # The app believes the certificate subject only from nginx's fixed address.
    address = nginx["networks"]["backend"]["ipv4_address"]
    assert compose["services"]["api"]["environment"]["SAS_TRUSTED_PROXY"] == address
    subnet = compose["networks"]["backend"]["ipam"]["config"][0]["subnet"]
    assert address.rsplit(".", 1)[0] == subnet.rsplit(".", 1)[0]

    for conf in ("nginx-sas.conf", "nginx-app.conf"):
        text = (DEPLOY / conf).read_text(encoding="utf-8")
        assert re.search(r"server\s+api:8000;", text), conf  # the compose service name
        for path in re.findall(r"(/etc/premier-recours/tls/\S+?);", text):
            assert path.startswith(TLS_DIR + "/")
    public = (DEPLOY / "nginx-app.conf").read_text(encoding="utf-8")
    assert 'proxy_set_header X-SSL-Client-S-DN "";' in public  # never a forged subject
    assert re.search(r"location = /metrics \{\s*return 404;", public)


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _test_pki(folder: Path) -> None:
    """A throw-away CA, its CRL and server certificates under the names nginx expects."""
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=Premier Recours test CA", "-keyout", "ca.key", "-out", "igc-sante-chain.pem",
        cwd=folder,
    )  # fmt: skip
    (folder / "index.txt").write_text("")
    (folder / "crlnumber").write_text("01\n")
    (folder / "ca.cnf").write_text(
        "[ca]\ndefault_ca = test\n[test]\ndatabase = index.txt\ncrlnumber = crlnumber\n"
        "default_md = sha256\ndefault_crl_days = 2\n"
    )
    _openssl(
        "ca", "-config", "ca.cnf", "-gencrl", "-keyfile", "ca.key",
        "-cert", "igc-sante-chain.pem", "-out", "igc-sante.crl.pem",
        cwd=folder,
    )  # fmt: skip
    for name in ("server", "app"):
        _openssl(
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", f"/CN={name}.premier-recours.test", "-keyout", f"{name}.key",
            "-out", f"{name}.crt",
            cwd=folder,
        )  # fmt: skip


def _nginx() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).is_file()), None
    )
    if found is None:
        pytest.fail(
            "nginx est requis pour vérifier deploy/*.conf : apt-get install nginx-light "
            "(.ci/run l'installe)"
        )
    return found


def test_nginx_accepts_the_deployment_configuration(tmp_path):
    nginx = _nginx()
    certs = tmp_path / "certs"
    certs.mkdir()
    _test_pki(certs)
    conf_d = tmp_path / "conf.d"
    conf_d.mkdir()
    for conf in ("nginx-sas.conf", "nginx-app.conf"):
        text = (DEPLOY / conf).read_text(encoding="utf-8")
        # Outside compose there is no `api` host to resolve; everything else is checked as is.
        text = text.replace("server api:8000;", "server 127.0.0.1:8000;")
        (conf_d / conf).write_text(text.replace(TLS_DIR, str(certs)), encoding="utf-8")
    (tmp_path / "logs").mkdir()
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\n"
        f"error_log {tmp_path}/logs/error.log;\n"
        "events {}\n"
        "http {\n"
        f"    access_log {tmp_path}/logs/access.log;\n"
        f"    client_body_temp_path {tmp_path}/client_body;\n"
        f"    proxy_temp_path {tmp_path}/proxy;\n"
        f"    fastcgi_temp_path {tmp_path}/fastcgi;\n"
        f"    uwsgi_temp_path {tmp_path}/uwsgi;\n"
        f"    scgi_temp_path {tmp_path}/scgi;\n"
        f"    include {conf_d}/*.conf;\n"
        "}\n"
    )
    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(main)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr

    # And the check bites: a server certificate that is not there is refused.
    (certs / "server.crt").unlink()
    broken = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(main)], capture_output=True, text=True
    )
    assert broken.returncode != 0 and "server.crt" in broken.stderr


def test_image_runs_in_production_as_non_root():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    instructions = re.sub(r"\\\n\s*", " ", dockerfile).splitlines()
    env = " ".join(line for line in instructions if line.startswith("ENV "))
    assert "ENVIRONMENT=production" in env
    assert "DATABASE_URL" not in env  # no database is implied
    assert "/health" in dockerfile  # the HEALTHCHECK


def test_every_setting_is_documented():
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\|\s*`([A-Z0-9_]+)`", readme, re.M))
    # The root's own variables, then each section's under its prefix (a section's copy of a
    # root variable, such as PUBLIC_BASE_URL, is the root's).
    expected = {name.upper() for name in Settings.model_fields if name not in SECTIONS}
    for model, prefix in SECTIONS.values():
        expected |= {
            (prefix + name).upper()
            for name in model.model_fields
            if name not in Settings.model_fields
        }
    assert expected - documented == set(), "variables absentes de deploy/README.md"
    assert documented - expected - {"POSTGRES_PASSWORD", "PROMETHEUS_MULTIPROC_DIR"} == set()
