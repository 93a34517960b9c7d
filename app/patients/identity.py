"""Identity and coverage rules the secretariat's forms check before the patients service.

(The service module itself is shared with another change: new patient rules start here.)
"""

from __future__ import annotations

from app.core.errors import InvalidInput


def check_coverage(*, ame: bool, no_coverage: bool) -> None:
    """AME or no coverage, not both: the AME is a coverage (aide médicale de l'État, ameli
    « L'aide médicale de l'État »); either sends the patient on the PASS/CCAS route."""
    if ame and no_coverage:
        raise InvalidInput(
            "Choisissez AME ou « sans couverture », pas les deux : l'AME est une couverture.",
            field="no_coverage",
        )
