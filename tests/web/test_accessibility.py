"""axe-core on the secretariat's main pages: no serious or critical violation.

axe-core is vendored (tests/web/vendor/axe.min.js, MPL-2.0, see the README there):
no network at test time. The page's strict CSP forbids injected scripts, so this
browser context alone bypasses it (``bypass_csp``); the pages themselves are unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.server import LiveServer, live_server
from tests.web.test_browser import ARGS, CHROMIUM, log_in, new_patient, shot

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
BLOCKING = {"serious", "critical"}


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with live_server() as running:
        yield running


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = chromium.new_context(
            viewport={"width": 1366, "height": 768}, locale="fr-FR", bypass_csp=True
        )
        context.set_default_timeout(15_000)
        yield context.new_page()
        chromium.close()


def violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                                'best-practice']},
                resultTypes: ['violations'],
            });
            return r.violations.map(v => ({id: v.id, impact: v.impact,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }"""
    )
    return [f"{v['id']} ({v['impact']}): {v['nodes']}" for v in result if v["impact"] in BLOCKING]


def test_the_main_pages_have_no_serious_accessibility_violation(page, server):
    # The check itself works: an image without text and an unlabelled field are caught.
    page.set_content('<html lang="fr"><body><main><img src="x.png"><input></main></body></html>')
    caught = " ".join(violations(page))
    assert "image-alt" in caught and "label" in caught, caught
    found: dict[str, list[str]] = {}
    page.goto(f"{server.base_url}/login")
    found["login"] = violations(page)
    log_in(page, server, "secretaire")
    found["dashboard"] = violations(page)
    page.goto(f"{server.base_url}/demandes/nouvelle")
    found["intake-search"] = violations(page)
    new_patient(page, server, "Accessible", "Léa", "1980-02-03", "06 39 98 00 61")
    patient_id = int(re.search(r"patient_id=(\d+)", page.url).group(1))
    found["intake-request"] = violations(page)
    page.get_by_label("Motif de l'appel").fill("Toux")
    page.get_by_role("button", name="Enregistrer et voir les propositions").click()
    page.wait_for_url(re.compile(r"/demandes/\d+$"))
    found["request"] = violations(page)
    shot(page, "29-axe-demande")
    page.goto(f"{server.base_url}/agenda")
    found["agenda"] = violations(page)
    page.goto(f"{server.base_url}/patients/{patient_id}")
    found["patient"] = violations(page)
    assert {name: v for name, v in found.items() if v} == {}
