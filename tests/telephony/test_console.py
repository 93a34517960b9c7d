"""The console backend, the development default: prints, records, never fails."""

from __future__ import annotations

import io

from telephony import ConsoleProvider, TelephonySettings, build_provider


async def test_console_prints_and_records_each_message() -> None:
    stream = io.StringIO()
    provider = ConsoleProvider(stream=stream)

    first = await provider.send_sms("+33612345678", "Bonjour", idempotency_key="k1")
    second = await provider.send_sms("+33699999999", "Salut", idempotency_key="k2")

    assert first.sid != second.sid and first.sid.startswith("SM")
    assert first.status == "queued"
    assert [m.body for m in provider.sent] == ["Bonjour", "Salut"]
    assert [m.body for m in provider.messages_to("+33612345678")] == ["Bonjour"]
    assert "[SMS → +33612345678] Bonjour" in stream.getvalue()


def test_console_is_the_default_backend() -> None:
    provider = build_provider(TelephonySettings(_env_file=None))  # type: ignore[call-arg]

    assert provider.name == "console"
