"""The newsroom panel end to end: Debian's Chromium, driven by Playwright, against a live server.

The browser is the system's ``/usr/bin/chromium`` (``scripts/setup.sh`` installs it); the
server is uvicorn on a free port of 127.0.0.1 with the real models. A CMS page on another
origin is a second small server on 127.0.0.1, so nothing leaves this machine.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import msgspec
import pytest

from service.engine import Engine
from service.settings import PROJECT_ROOT, Settings

from .conftest import serve

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (scripts/setup.sh)"),
]
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = PROJECT_ROOT / "artifacts"
MARKS = {"supported", "refuted", "conflicting", "not_enough_info"}
PARAGRAPH = (
    "Xi visited Moscow in 2022. Xi Jinping made a state visit to Moscow in March 2023, "
    "where he met Vladimir Putin."
)
TIMEOUT_MS = 120_000  # checks run the real models on a shared CPU
# Assertions wait as long as actions: a check on a loaded 2-core machine can take seconds.
playwright.expect.set_options(timeout=TIMEOUT_MS)


class CmsPage(BaseHTTPRequestHandler):
    """A CMS page on another origin that loads the embed script from ``?service=``."""

    def do_GET(self) -> None:
        query = parse_qs(urlparse(self.path).query)
        service, attributes = query["service"][0], query.get("embed", [""])[0]
        body = (
            "<!doctype html><html lang='en'><head><title>CMS</title></head><body>"
            "<h1>Draft editor</h1><div id='fc'></div>"
            f"<script src='{service}/panel/factcheck-embed.js' {attributes}></script>"
            "</body></html>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def cms() -> Iterator[str]:
    """The CMS: a second server on 127.0.0.1, so another origin than the service."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), CmsPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def demo_server(
    settings: Settings, engine_factory: Callable[[Settings], Engine], cms: str
) -> Iterator[str]:
    custom = msgspec.structs.replace(settings, load_demo=True, cors_origins=(cms,))
    yield from serve(custom, engine_factory)


@pytest.fixture
def empty_server(
    settings: Settings, engine_factory: Callable[[Settings], Engine], cms: str
) -> Iterator[str]:
    yield from serve(msgspec.structs.replace(settings, cors_origins=(cms,)), engine_factory)


@pytest.fixture
def page() -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1100, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def open_cms(page: Any, cms: str, server: str, embed: str = "") -> None:
    page.goto(f"{cms}/editor?{urlencode({'service': server, 'embed': embed})}")


def check_one(page: Any, panel_url: str, sentence: str) -> None:
    """Check one sentence in the panel at ``panel_url`` and wait for its mark."""
    page.goto(panel_url)
    page.get_by_label("Text to check").fill(sentence)
    page.get_by_role("button", name="Check sentences").click()
    playwright.expect(page.locator("#progress")).to_have_text(re.compile("^All 1 sentence checked"))


def test_panel_marks_each_sentence_and_shows_evidence(page: Any, demo_server: str) -> None:
    page.goto(f"{demo_server}/panel/")
    page.get_by_label("Text to check").fill(PARAGRAPH)
    page.get_by_role("button", name="Check sentences").click()

    progress = page.locator("#progress")
    playwright.expect(progress).to_have_text(re.compile(r"^All 2 sentences checked"))
    sentences = page.locator("#marked .sentence")
    assert sentences.count() == 2
    marks = sentences.evaluate_all("nodes => nodes.map(n => n.dataset.verdict)")
    assert set(marks) <= MARKS, marks
    for i, mark in enumerate(marks):  # never colour alone: every mark has a word and a figure
        badge = sentences.nth(i).locator(".badge").inner_text()
        label = {"not_enough_info": "Unverified"}.get(mark, mark.capitalize())
        assert re.search(rf"{label}(, leans supported)? \d+%$", badge), badge
    assert page.locator("#marked").inner_text().startswith("Xi visited Moscow in 2022.")

    # Keyboard: focus the first sentence and press Enter.
    sentences.first.focus()
    page.keyboard.press("Enter")
    cards = page.locator("#cards .card")
    playwright.expect(cards.first).to_be_visible()
    assert sentences.first.get_attribute("aria-expanded") == "true"
    assert page.evaluate("document.activeElement.id") == "evidence-heading"
    playwright.expect(page.locator("#evidence-summary")).to_contain_text(
        "Xi visited Moscow in 2022."
    )
    documents = cards.evaluate_all("nodes => nodes.map(n => n.dataset.documentId)")
    assert {"seed-000", "seed-002"} & set(documents), documents
    first_card = cards.first
    playwright.expect(first_card.locator(".meta")).to_contain_text(re.compile(r"seed-\d{3}"))
    highlighted = first_card.locator(".passage mark").inner_text()
    assert highlighted and highlighted in first_card.locator(".passage").inner_text()
    playwright.expect(first_card.locator(".scores")).to_contain_text("Similarity")
    # the number beside the stance is the verdict's weight; the model's output is labelled
    stance_row = first_card.locator(".scores div").first.inner_text()
    assert "weight" in stance_row or "Neutral" in stance_row, stance_row
    playwright.expect(first_card.locator(".scores")).to_contain_text("Model")

    # The editor accepts the first evidence link; the service stores it.
    first_card.get_by_label("Comment on this evidence (optional)").fill("right article")
    first_card.get_by_role("button", name=re.compile("^Accept")).click()
    playwright.expect(first_card.locator(".feedback-status")).to_have_text("Accepted, thank you.")
    assert (
        first_card.get_by_role("button", name=re.compile("^Accept")).get_attribute("aria-pressed")
        == "true"
    )
    stored = page.request.get(f"{demo_server}/v1/feedback").json()
    assert stored["total"] == 1
    assert stored["items"][0]["judgement"] == "accept"
    assert stored["items"][0]["document_id"] == documents[0]
    assert stored["items"][0]["statement"] == "Xi visited Moscow in 2022."
    assert stored["items"][0]["comment"] == "right article"

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "panel.png"), full_page=True)


def test_cms_embeds_the_panel_with_its_api_key(page: Any, cms: str, demo_server: str) -> None:
    requests: list[Any] = []
    page.on("request", lambda r: requests.append(r) if "/v1/" in r.url else None)
    embed = "data-target='#fc' data-api-key='secret-123' data-editor-id='desk-7'"
    open_cms(page, cms, demo_server, embed)

    # The script's API client, called from the CMS origin (CORS).
    split = page.evaluate(
        "t => FactCheck.client({apiKey: 'secret-123'}).split(t)", "One claim. Another claim."
    )
    assert [s["text"] for s in split["sentences"]] == ["One claim.", "Another claim."]

    # The panel the script put in the page, given the draft by postMessage.
    result = page.evaluate(
        """t => new Promise(resolve => {
            addEventListener("message", e => {
                if (e.data && e.data.type === "factcheck:result") resolve(e.data);
            });
            FactCheck.panel.check(t);
        })""",
        PARAGRAPH,
    )
    assert [s["text"] for s in result["sentences"]] == [
        "Xi visited Moscow in 2022.",
        "Xi Jinping made a state visit to Moscow in March 2023, where he met Vladimir Putin.",
    ]
    assert {s["verdict"] for s in result["sentences"]} <= MARKS
    frame = page.frame_locator("iframe[title='Fact-check panel']")
    playwright.expect(frame.locator("#draft")).to_have_value(PARAGRAPH)

    # The editor rejects a link; the judgement carries the editor id the CMS gave.
    frame.locator("#marked .sentence").nth(1).click()
    card = frame.locator("#cards .card").first
    card.get_by_role("button", name=re.compile("^Reject")).click()
    playwright.expect(card.locator(".feedback-status")).to_have_text("Rejected, thank you.")
    stored = page.request.get(f"{demo_server}/v1/feedback").json()["items"]
    assert [(f["editor_id"], f["judgement"]) for f in stored] == [("desk-7", "reject")]
    assert stored[0]["statement"] == result["sentences"][1]["text"]

    calls = [r for r in requests if r.method == "POST"]
    assert {r.url.rsplit("/", 1)[1] for r in calls} == {"split", "check", "feedback"}
    assert all(r.headers.get("authorization") == "Bearer secret-123" for r in calls)
    assert all("secret-123" not in r.url for r in requests)


def test_panel_explains_empty_corpus_errors_and_timeouts(
    page: Any, cms: str, empty_server: str
) -> None:
    open_cms(page, cms, empty_server)
    page.evaluate("FactCheck.panel = FactCheck.mount('#fc', {timeoutMs: 2000})")
    frame = page.frame_locator("iframe[title='Fact-check panel']")
    message = frame.locator("#message")
    ask = "t => FactCheck.panel.check(t)"

    page.evaluate(ask, PARAGRAPH)
    playwright.expect(message).to_contain_text("The archive is empty")

    # From here on the corpus claims to be ready, so the panel goes on to check.
    page.route(
        "**/health/ready",
        lambda route: route.fulfill(json={"status": "ready", "claims": 3, "index_version": "1"}),
    )
    page.route(
        "**/v1/check",
        lambda route: route.fulfill(
            status=503,
            headers={"Retry-After": "7"},
            content_type="application/problem+json",
            json={
                "status": 503,
                "title": "Service Unavailable",
                "detail": "the model queue is full",
            },
        ),
    )
    page.evaluate(ask, "Xi visited Moscow in 2022.")
    playwright.expect(message).to_have_text(
        "The service is busy: the model queue is full. Try again in 7 s."
    )
    playwright.expect(frame.locator("#marked .sentence")).to_have_attribute("data-verdict", "error")

    page.unroute("**/v1/check")
    page.route("**/v1/check", lambda route: None)  # never answered
    page.evaluate(ask, "Xi visited Moscow in 2022.")
    playwright.expect(message).to_contain_text("did not answer within 2 s")
    playwright.expect(frame.get_by_role("button", name="Check sentences")).to_be_enabled()


def test_panel_explains_time_mismatches_in_words(page: Any, demo_server: str) -> None:
    explanation = "The statement says 2022; the passage reports a visit in March 2023."

    def with_mismatch(route: Any) -> None:  # the real answer, with a mismatch on its top passage
        response = route.fetch()
        body = response.json()
        for other in body["evidence"][1:]:
            other.pop("mismatch", None)  # the field absent, as from an older service
        body["evidence"][0]["mismatch"] = {
            "kind": "year",
            "statement_span": [21, 25],
            "passage_span": [0, 5],
            "explanation": explanation,
        }
        route.fulfill(response=response, json=body)

    page.route("**/v1/check", with_mismatch)
    # the panel without the trailing slash too
    check_one(page, f"{demo_server}/panel", "Xi visited Moscow in 2022.")
    page.locator("#marked .sentence").click()
    cards = page.locator("#cards .card")
    mismatch = cards.first.locator(".mismatch")
    playwright.expect(mismatch).to_have_text(f"Time mismatch: {explanation}")
    # The clock is drawn (an SVG with its shapes), not a glyph the fonts may lack.
    clock = mismatch.locator("svg.icon")
    assert clock.get_attribute("aria-hidden") == "true"
    assert clock.locator("circle, path").count() == 2
    box = clock.bounding_box()
    assert box is not None and box["width"] > 8 and box["height"] > 8
    assert cards.nth(1).locator(".mismatch").count() == 0  # absent field: nothing shown


def test_panel_shows_how_far_an_unverified_sentence_leans_supported(
    page: Any, demo_server: str
) -> None:
    def below_floor(route: Any) -> None:  # the real answer, as the support floor makes it
        response = route.fetch()
        body = response.json()
        body["verdict"], body["confidence"] = "not_enough_info", 0.03
        body["reasons"] = ["supported_by_sources:1", "support_below_floor"]
        body["scores"]["probabilities"] = {
            "supported": 0.62,
            "refuted": 0.2,
            "conflicting": 0.15,
            "not_enough_info": 0.03,
        }
        route.fulfill(response=response, json=body)

    page.route("**/v1/check", below_floor)
    check_one(page, f"{demo_server}/panel/", "Xi visited Moscow in 2023.")
    badge = page.locator("#marked .sentence .badge")
    playwright.expect(badge).to_have_text(re.compile(r"Unverified, leans supported 62%$"))
    page.locator("#marked .sentence").click()
    playwright.expect(page.locator("#evidence-summary")).to_contain_text(
        "Unverified: it leans supported (62%), too little to say so."
    )


def test_panel_shows_what_a_passage_does_not_state(page: Any, demo_server: str) -> None:
    # The real answer: no demo article names Xi's wife, so every on-topic card says so.
    check_one(page, f"{demo_server}/panel/", "Xi visited Moscow with Peng Liyuan in March 2023.")
    page.locator("#marked .sentence").click()
    unstated = page.locator("#cards .card .unstated")
    playwright.expect(unstated.first).to_contain_text("Not stated here: Peng Liyuan")
    assert unstated.count() >= 2


def test_panel_says_when_a_sentence_is_not_english(page: Any, demo_server: str) -> None:
    check_one(page, f"{demo_server}/panel/", "Xi Jinping ist 2022 nach Moskau gereist.")
    page.locator("#marked .sentence").click()
    playwright.expect(page.locator("#evidence-summary .language-note")).to_contain_text(
        "another language (de)"
    )


@pytest.fixture
def keyed_server(
    settings: Settings, engine_factory: Callable[[Settings], Engine], cms: str
) -> Iterator[str]:
    custom = msgspec.structs.replace(
        settings, load_demo=True, cors_origins=(cms,), api_keys="cms:writer:secret-123"
    )
    yield from serve(custom, engine_factory)


def test_panel_files_are_public_with_keys_on_and_its_calls_carry_the_key(
    page: Any, cms: str, keyed_server: str
) -> None:
    for name in ("", "panel.js", "panel.css", "factcheck-embed.js"):  # no key: still served
        assert page.request.get(f"{keyed_server}/panel/{name}").status == 200
    assert page.request.get(f"{keyed_server}/v1/documents").status == 401  # the data is not

    requests: list[Any] = []
    page.on("request", lambda r: requests.append(r) if "/v1/" in r.url else None)
    open_cms(page, cms, keyed_server, "data-target='#fc' data-api-key='secret-123'")
    result = page.evaluate(
        """t => new Promise(resolve => {
            addEventListener("message", e => {
                if (e.data && e.data.type === "factcheck:result") resolve(e.data);
            });
            FactCheck.panel.check(t);
        })""",
        PARAGRAPH,
    )
    assert len(result["sentences"]) == 2
    assert {s["verdict"] for s in result["sentences"]} <= MARKS
    frame = page.frame_locator("iframe[title='Fact-check panel']")
    playwright.expect(frame.locator("#message")).to_be_hidden()
    posts = [r for r in requests if r.method == "POST"]
    assert {r.url.rsplit("/", 1)[1] for r in posts} == {"split", "check"}
    assert all(r.headers.get("authorization") == "Bearer secret-123" for r in posts)


def test_swagger_page_works_offline(page: Any, empty_server: str) -> None:
    """The API docs render every operation with nothing fetched from beyond the service."""
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url))
    page.goto(f"{empty_server}/schema/swagger")
    operations = page.locator(".opblock")
    playwright.expect(operations.first).to_be_visible()
    schema = page.request.get(f"{empty_server}/schema/openapi.json").json()
    count = sum(
        1
        for item in schema["paths"].values()
        for method in item
        if method in {"get", "post", "delete"}
    )
    playwright.expect(operations).to_have_count(count)
    playwright.expect(
        page.locator(".opblock-summary-path", has_text="/v1/documents/{doc_id}/unretract")
    ).to_be_visible()
    playwright.expect(page.locator(".btn.authorize")).to_be_visible()  # the bearer scheme
    assert fetched and all(url.startswith(f"{empty_server}/") for url in fetched), fetched
