"""One settings object: every variable, set to a non-default value, reaches its user.

The root settings alone read the environment; the domains read their section of the
object given to ``create_app``. A variable declared in a section but never read, or a
section that reads its own environment, fails here.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from app.core.config import SECTIONS, Settings
from app.core.sections import OrientationSettings, RoundsSettings, SasSettings
from app.main import create_app
from app.messaging import outbound
from telephony import TelephonySettings, sms_text

# Every variable of the root and of each section, with a valid non-default value.
ROOT = {
    "ENVIRONMENT": "production",
    "SECRET_KEY": "a-real-secret-for-this-test",
    "DEMO": "true",
    "TIMEZONE": "Europe/Brussels",
    "PUBLIC_BASE_URL": "https://cpts-val.example.fr/",
    "TOKEN_LIFETIME_MINUTES": "33",
    "SESSION_IDLE_MINUTES": "17",
    "SESSION_ABSOLUTE_HOURS": "5",
    "LOGIN_FREE_ATTEMPTS": "3",
    "LOGIN_DELAY_BASE_S": "0.5",
    "LOGIN_LOCK_ATTEMPTS": "7",
    "LOGIN_LOCK_MINUTES": "20",
    "WEBHOOK_RATE_PER_MINUTE": "90",
    "HSTS_SECONDS": "63072000",
    "CALL_LOG_RETENTION_DAYS": "200",
    "SMS_BODY_RETENTION_DAYS": "30",
    "AUDIT_RETENTION_DAYS": "400",
    "REQUEST_RETENTION_DAYS": "7300",
    "SESSION_HORIZON_DAYS": "21",
    "TELECONSULTATION_SLOT_MINUTES": "12",
    "HOME_VISIT_MINUTES": "25",
    "ARRIVAL_WINDOW_MINUTES": "45",
    "VIDEO_BASE_URL": "https://visio.cpts-val.example.fr",
    "PDSA_NIGHT_START": "19:00",
    "PDSA_NIGHT_END": "07:00",
    "PDSA_SATURDAY_FROM": "13:00",
    "PDSA_HOLIDAYS_SUBDIVISION": "57",
    "NOSHOW_GRACE_MINUTES": "20",
    "WAITLIST_OFFER_HOLD_MINUTES": "10",
    "DB_POOL_SIZE": "4",
    "ARGON2_TIME_COST": "2",
    "ARGON2_MEMORY_KIB": "2048",
    "CPTS_NAME": "CPTS du Val Test",
    "LOG_FORMAT": "json",
    "METRICS_TOKEN": "a-metrics-token",
    "WORKER_METRICS_PORT": "9105",
    "RUN_WORKER_IN_PROCESS": "true",
    "LEADER_LEASE_SECONDS": "12",
}
SECTION_VALUES = {
    "rounds": {
        "OSRM_URL": "http://osrm.invalid:5000",
        "OSRM_TIMEOUT_S": "3.5",
        "OSRM_CACHE_SIZE": "17",
        "CIRCUITY": "1.5",
        "SPEED_KMH": "30",
        "ROUNDS_TIME_LIMIT_S": "7.5",
        "ROUNDS_REPLAN_TIME_LIMIT_S": "0.7",
        "ROUNDS_SEED": "42",
        "ROUNDS_WORKERS": "2",
        "ROUNDS_PARALLEL_SEARCH": "false",
        "ROUNDS_TIMEOUT_GRACE_S": "4",
        "PROPOSAL_DAYS_WITHOUT_DEADLINE": "3",
        "PROPOSAL_LEAD_MINUTES": "45",
        "ROUND_STARTS": "09:00",
        "ROUND_ENDS": "12:30",
        "OPTIMISE_BEFORE": "09:30",
        "ROUNDS_REPLAN_DEBOUNCE_S": "0.5",
        "PROPOSAL_HOLD_SECONDS": "90",
    },
    "sas": {
        "CPTS_FINESS": "940000000",
        "CPTS_PHONE": "01 45 00 00 00",
        "CPTS_ADDRESS_LINE": "1 rue de la Bièvre",
        "CPTS_CITY": "Cachan",
        "CPTS_POSTAL_CODE": "94230",
        "SAS_API_TOKEN": "inbound-token",
        "SAS_TRUSTED_PROXY": "10.0.0.5",
        "SAS_CLIENT_SUBJECT_HEADER": "X-Client-DN",
        "SAS_BASE_URL": "http://sas.invalid/api/",
        "SAS_PUSH_TOKEN": "push-token",
        "SAS_CLIENT_CERT": "cert.pem",
        "SAS_CLIENT_KEY": "key.pem",
        "SAS_CA_BUNDLE": "ca.pem",
        "SAS_CONNECT_TIMEOUT": "2.5",
        "SAS_TIMEOUT": "9",
        "SAS_APPOINTMENT_SYSTEM": "urn:oid:1.2.3.4",
        "SAS_HOME_VISITS": "false",
        "SAS_HOME_VISIT_CACHE_SECONDS": "60",
        "SAS_REGULATOR_BOOKINGS_ONLY_FROM_SAS": "false",
    },
    "telephony": {
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": "AC123",
        "TWILIO_AUTH_TOKEN": "tok-3f9a",
        "TWILIO_FROM": "+33700000000",
        "TWILIO_MESSAGING_SERVICE_SID": "MG123",
        "TWILIO_API_BASE_URL": "http://127.0.0.1:9/",
        "TWILIO_CONNECT_TIMEOUT": "1.5",
        "TWILIO_READ_TIMEOUT": "2.5",
        "TWILIO_MAX_CONCURRENCY": "3",
        "TRUST_FORWARDED_HEADERS": "true",
        "WEBHOOK_SIGNATURE_CHECK": "true",
        "SECRETARIAT_PHONE": "01 23 45 67 89",
        "SMS_REPLY_MODE": "reply_capable",
        "SMS_CANCEL_LINK": "true",
        "CANCEL_LINK_SECRET": "a-cancel-link-secret-of-32-bytes",
        "CANCEL_LINK_PATH": "/annuler/",
        "SMS_STOP_REPLY": "true",
        "REMINDER_EVENING_BEFORE": "false",
        "REMINDER_EVENING_TIME": "19:15",
        "REMINDER_HOURS_BEFORE": "3",
        "REMINDER_MAX_DELAY_MINUTES": "30",
        "SECRETARIAT_HOURS": '{"1": [["09:00", "17:00"]]}',
        "CLOSED_ON_PUBLIC_HOLIDAYS": "false",
        "VOICE_LANGUAGE": "fr-BE",
        "VOICE_NAME": "Polly.Celine",
        "VOICE_QUEUE_NAME": "accueil",
        "VOICE_CALLBACK_OPTION": "false",
        "VOICE_GATHER_TIMEOUT": "6",
    },
    "orientation": {
        "ORIENTATION_NOTIFY_CHANNEL": "email",
        "ORIENTATION_MAX_TRAVEL_MINUTES": "25",
        "ORIENTATION_LANGUAGE_PENALTY_MINUTES": "7",
        "ORIENTATION_HISTORY_BONUS_MINUTES": "4",
        "ORIENTATION_SWEEP_INTERVAL_SECONDS": "600",
        "ORIENTATION_SMTP_HOST": "smtp.invalid",
        "ORIENTATION_SMTP_PORT": "2525",
        "ORIENTATION_SMTP_USERNAME": "cpts",
        "ORIENTATION_SMTP_PASSWORD": "pw",
        "ORIENTATION_SMTP_STARTTLS": "false",
        "ORIENTATION_MAIL_FROM": "orientation@cpts-val.example.fr",
    },
}
# Kept at their default above (Twilio needs the check; the SMS link is checked below):
# their non-default values are tested on their own.
KEPT_DEFAULT = {"WEBHOOK_SIGNATURE_CHECK", "SMS_CANCEL_LINK"}
# Section fields that are copies of a root variable, not variables of their own.
SHARED = {"public_base_url", "cpts_name", "timezone"}


@pytest.fixture
def everything_set(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Settings:
    monkeypatch.setenv("DATABASE_URL", database_url)
    for name, value in ROOT.items():
        monkeypatch.setenv(name, value)
    for values in SECTION_VALUES.values():
        for name, value in values.items():
            monkeypatch.setenv(name, value)
    return Settings(_env_file=None)  # type: ignore[call-arg]


def test_every_variable_is_listed_here():
    """A new setting must be added to this test (and to the README's table)."""
    root = {n.upper() for n in Settings.model_fields if n not in SECTIONS}
    assert root == set(ROOT) | {"DATABASE_URL"}
    for section, (model, prefix) in SECTIONS.items():
        declared = {(prefix + n).upper() for n in model.model_fields if n not in SHARED}
        assert declared == set(SECTION_VALUES[section]), section


def test_every_variable_reaches_the_settings_object(everything_set: Settings):
    for name in ROOT:
        field = name.lower()
        assert getattr(everything_set, field) != Settings.model_fields[field].default, name
    for section, (model, prefix) in SECTIONS.items():
        ours, theirs = getattr(everything_set, section), model()
        for name in SECTION_VALUES[section]:
            field = name.lower().removeprefix(prefix.lower())
            if name not in KEPT_DEFAULT:
                assert getattr(ours, field) != getattr(theirs, field), name


def test_the_switches_kept_on_above_turn_off(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SMS_BACKEND", "console")
    monkeypatch.setenv("SMS_REPLY_MODE", "reply_capable")
    monkeypatch.setenv("WEBHOOK_SIGNATURE_CHECK", "false")
    monkeypatch.setenv("SMS_CANCEL_LINK", "false")
    telephony = Settings(_env_file=None).telephony  # type: ignore[call-arg]
    assert not telephony.webhook_signature_check
    assert not telephony.sms_cancel_link


def test_sections_read_no_environment(everything_set: Settings):
    assert RoundsSettings() == Settings.model_fields["rounds"].default_factory()  # type: ignore[misc]
    assert RoundsSettings().rounds_time_limit_s == 5.0
    assert SasSettings().sas_base_url == ""
    assert TelephonySettings().sms_backend == "console"
    assert OrientationSettings().smtp_host == ""


def test_root_values_are_declared_once_and_shared():
    """The bug: ``Settings(public_base_url=…)`` left the SMS link on 127.0.0.1:8000."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        public_base_url="http://test",
        cpts_name="CPTS Une",
        telephony=TelephonySettings(public_base_url="http://other", cpts_name="Autre"),
    )
    assert settings.telephony.public_base_url == "http://test"
    assert settings.telephony.cpts_name == "CPTS Une"
    assert settings.sas.cpts_identity().name == "CPTS Une"


async def test_each_variable_reaches_its_user(
    everything_set: Settings, monkeypatch: pytest.MonkeyPatch
):
    # The mTLS files must exist for the client to start; the rest is as set above.
    settings = everything_set.model_copy(
        update={
            "run_worker_in_process": False,  # no background loop in this test
            "sas": everything_set.sas.model_copy(
                update={"sas_client_cert": None, "sas_client_key": None, "sas_ca_bundle": None}
            )
        }
    )
    app = create_app(settings)
    state = app.state
    async with app.router.lifespan_context(app):
        # Rounds: the planner runs with the section's limits.
        planner = state.rounds_planner
        assert planner.settings is settings.rounds
        assert planner.params().time_limit_s == 7.5
        assert planner.settings.rounds_seed == 42
        # SAS: the outbound client goes to SAS_BASE_URL; the CPTS identity is published.
        assert state.sas_client is not None
        assert state.sas_client.base_url == "http://sas.invalid/api"
        assert state.sas_cpts.name == "CPTS du Val Test"
        assert state.sas_cpts.finess == "940000000"
        assert state.gp_cpts == state.sas_cpts
        assert state.sas_home_visit_windows.ttl == 60
        # SMS: the cancel link on PUBLIC_BASE_URL + CANCEL_LINK_PATH, signed CPTS_NAME.
        texts = outbound.texts(app)
        end = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)
        options = texts.cancel_options(SimpleNamespace(id=7, end_at=end))
        assert options.url.startswith("https://cpts-val.example.fr/annuler/")
        common = texts.common(
            SimpleNamespace(kind="teleconsultation", start_at=end, end_at=end),
            SimpleNamespace(display_name="Dr Martin"),
        )
        text = sms_text.booking_confirmation(**common, cancel=options)
        assert "CPTS du Val Test" in text
        assert "https://cpts-val.example.fr/annuler/" in text
        assert str(common["tz"]) == "Europe/Brussels"
        paths = {getattr(route, "path", "") for route in app.routes}
        assert "/annuler/{token}" in paths
        # Orientation: its sweep runs at the section's interval.
        assert state.orientation_settings is settings.orientation
        intervals = {name: interval for name, interval, _ in state.periodic_jobs}
        assert intervals["orientation.sweep"] == 600
        # Triage and billing read one calendar: PDSA hours (root) and the round (rounds).
        assert state.calendar.pdsa is state.tariffs.pdsa
        assert state.calendar.care_closes == dt.time(19)
        assert state.calendar.pdsa.holidays_subdivision == "57"
        assert (state.calendar.round_starts, state.calendar.round_ends) == (
            dt.time(9),
            dt.time(12, 30),
        )
        # Root: the token lifetime, the periodic jobs' leases.
        assert state.leader_election.lease_seconds == 12
        assert state.token_signer.lifetime_seconds == 33 * 60


def test_a_dotenv_file_fills_the_sections_too(tmp_path, monkeypatch: pytest.MonkeyPatch):
    for name in ("ROUNDS_TIME_LIMIT_S", "ORIENTATION_SMTP_HOST", "SAS_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    env = tmp_path / ".env"
    env.write_text(
        "ROUNDS_TIME_LIMIT_S=3.5\nORIENTATION_SMTP_HOST=smtp.invalid\nSAS_BASE_URL=http://sas\n",
        encoding="utf-8",
    )
    settings = Settings(_env_file=env)  # type: ignore[call-arg]
    assert settings.rounds.rounds_time_limit_s == 3.5
    assert settings.orientation.smtp_host == "smtp.invalid"
    assert settings.sas.sas_base_url == "http://sas"
    monkeypatch.setenv("ROUNDS_TIME_LIMIT_S", "4.5")  # the environment wins over the file
    assert Settings(_env_file=env).rounds.rounds_time_limit_s == 4.5  # type: ignore[call-arg]


@pytest.mark.parametrize("spelling", ["Production", "PRODUCTION", " production "])
def test_environment_is_read_whatever_its_case(monkeypatch: pytest.MonkeyPatch, spelling: str):
    """Issue 20 finding 7: `ENVIRONMENT=Production` used to start with the default key."""
    monkeypatch.setenv("ENVIRONMENT", spelling)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db:5432/pr")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ValueError, match="SECRET_KEY"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("SECRET_KEY", "a-real-secret-for-this-test")
    assert Settings(_env_file=None).environment == "production"  # type: ignore[call-arg]


def test_unknown_environment_is_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ENVIRONMENT", "prod")
    with pytest.raises(ValueError, match="ENVIRONMENT vaut development ou production"):
        Settings(_env_file=None)  # type: ignore[call-arg]
