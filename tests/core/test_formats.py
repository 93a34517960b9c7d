"""French display formats (issue 22, item 7): one home, app/ui/formats.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from app.ui import formats
from app.ui.templating import templates


def test_phone_numbers_read_as_the_french_write_them() -> None:
    assert formats.phone("+33612345678") == "06 12 34 56 78"
    assert formats.phone("0612345678") == "06 12 34 56 78"
    assert formats.phone("06.12.34.56.78") == "06 12 34 56 78"
    assert formats.phone("+441632960000") == "+441632960000"
    assert formats.phone(None) == ""


def test_amounts_in_euros_with_a_comma() -> None:
    assert formats.euros(Decimal("45")) == "45,00\u00a0€"
    assert formats.euros(0) == "0,00\u00a0€"
    assert formats.euros(1234.5) == "1\u202f234,50\u00a0€"
    assert formats.euros(Decimal("-5")) == "-5,00\u00a0€"


def test_one_name_order() -> None:
    assert formats.person_name("Lefebvre", "Jeanne") == "LEFEBVRE Jeanne"
    assert formats.person_name(None, None) == "—"


def test_dates_and_times_in_paris() -> None:
    moment = dt.datetime(2026, 12, 4, 13, 5, tzinfo=dt.UTC)
    assert formats.long_date(moment) == "vendredi 4 décembre"
    assert formats.clock_time(moment) == "14:05"


def test_the_filters_are_registered_for_every_template() -> None:
    env = templates.env
    rendered = env.from_string(
        "{{ '+33612345678'|telephone }} | {{ 45|euros }} | {{ nom_prenom('dupont', 'Marie') }}"
    ).render()
    assert rendered == "06 12 34 56 78 | 45,00\u00a0€ | DUPONT Marie"
