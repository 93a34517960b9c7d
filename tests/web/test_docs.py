"""The API docs (Swagger UI, ReDoc) load everything from the app: usable without internet."""

from __future__ import annotations

import re

import pytest


def _assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


@pytest.mark.parametrize(
    ("page", "kinds"),
    [
        ("/docs", {"swagger-ui-bundle.js": "javascript", "swagger-ui.css": "text/css"}),
        ("/redoc", {"redoc.standalone.js": "javascript"}),
    ],
)
async def test_docs_pages_name_no_outside_host_and_their_assets_answer(client, page, kinds):
    response = await client.get(page)
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", response.text), response.text
    assets = _assets(response.text)
    for name, kind in kinds.items():
        (url,) = [a for a in assets if a.endswith("/" + name)]
        assert url.startswith("/docs/assets/")
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert kind in asset.headers["content-type"] and len(asset.content) > 50_000, url
    for url in assets:  # the favicon too
        assert (await client.get(url)).status_code == 200, url


async def test_swagger_ui_keeps_the_oauth2_redirect_and_no_validator_badge(client):
    docs = (await client.get("/docs")).text
    assert "'/docs/oauth2-redirect'" in docs or '"/docs/oauth2-redirect"' in docs
    assert '"validatorUrl": null' in docs
    redirect = await client.get("/docs/oauth2-redirect")
    assert redirect.status_code == 200 and "oauth2" in redirect.text.lower()
    assert (await client.get("/openapi.json")).json()["info"]["title"] == "Premier Recours"
