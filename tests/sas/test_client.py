"""INT_R03 client against the fake SAS, a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import pytest

from app.sas import (
    PermanentPushError,
    SasClient,
    SasSettings,
    TransientPushError,
    check_appointment,
)
from tests.sas.factories import make_view
from tests.sas.fake_sas import FakeSas

TOKEN = "sas-test-token"


@pytest.fixture
async def client(fake_sas: FakeSas):
    async with SasClient(base_url=fake_sas.base_url, token=TOKEN, timeout=2.0) as sas:
        yield sas


async def test_first_push_posts_then_changes_are_conditional_puts(client, fake_sas):
    booked = make_view()
    first = await client.push_appointment(booked, first=True)
    assert (first.method, first.status_code) == ("POST", 201)
    assert first.location.endswith("/Appointment/1")

    second = await client.push_appointment(make_view(status="cancelled"), first=False)
    assert (second.method, second.status_code) == ("PUT", 200)

    post, put = fake_sas.requests
    assert (post.method, post.path, post.query) == ("POST", "/fhir/Appointment", {})
    assert post.header("Authorization") == f"Bearer {TOKEN}"
    assert post.header("Content-Type").startswith("application/fhir+json")
    assert post.header("If-None-Exist") == f"identifier={booked.conditional_query()}"
    assert (put.method, put.path) == ("PUT", "/fhir/Appointment")
    assert put.query == {"identifier": [booked.conditional_query()]}
    assert check_appointment(post.body) == [] and check_appointment(put.body) == []
    versions = fake_sas.appointments[booked.conditional_query()]
    assert [v["status"] for v in versions] == ["booked", "cancelled"]


async def test_server_error_is_transient(client, fake_sas):
    fake_sas.fail_next(1, status=500)
    with pytest.raises(TransientPushError) as info:
        await client.push_appointment(make_view(), first=True)
    assert info.value.status_code == 500
    assert "500" in info.value.reason
    # the next attempt (the outbox's retry) goes through
    assert (await client.push_appointment(make_view(), first=True)).status_code == 201
    assert len(fake_sas.appointments) == 1


async def test_too_many_requests_is_transient_with_retry_after(client, fake_sas):
    fake_sas.respond_next(429, headers={"Retry-After": "30"})
    with pytest.raises(TransientPushError) as info:
        await client.push_appointment(make_view(), first=True)
    assert info.value.retry_after == 30.0


async def test_hanging_sas_times_out_as_transient(fake_sas):
    fake_sas.hang_next()
    async with SasClient(base_url=fake_sas.base_url, token=TOKEN, timeout=0.2) as sas:
        with pytest.raises(TransientPushError) as info:
            await sas.push_appointment(make_view(), first=True)
    fake_sas.release()
    assert "délai" in info.value.reason
    assert len(fake_sas.requests) == 1


async def test_bad_request_is_permanent_with_the_sas_diagnostics(client, fake_sas):
    fake_sas.respond_next(
        400,
        body={
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "invalid", "diagnostics": "start manquant"}],
        },
    )
    with pytest.raises(PermanentPushError) as info:
        await client.push_appointment(make_view(), first=True)
    assert info.value.status_code == 400
    assert "start manquant" in info.value.reason


async def test_wrong_token_is_permanent(fake_sas):
    async with SasClient(base_url=fake_sas.base_url, token="wrong") as sas:
        with pytest.raises(PermanentPushError) as info:
            await sas.push_appointment(make_view(), first=True)
    assert info.value.status_code == 401


async def test_unreachable_sas_is_transient():
    with FakeSas() as gone:
        url = gone.base_url
    async with SasClient(base_url=url, timeout=1.0) as sas:
        with pytest.raises(TransientPushError):
            await sas.push_appointment(make_view(), first=True)


async def test_client_from_settings_sends_the_push_token(fake_sas):
    settings = SasSettings(
        sas_base_url=fake_sas.base_url + "/", sas_push_token=TOKEN, _env_file=None
    )
    async with SasClient.from_settings(settings) as sas:
        result = await sas.push_appointment(make_view(), first=True)
    assert result.status_code == 201


def test_client_needs_a_base_url():
    with pytest.raises(ValueError):
        SasClient(base_url="")
