"""The playground page in a real headless Chromium (Debian's `chromium`, driven by
Playwright): type a message, watch the streamed answer and a calculator tool result."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.realtime.shared_gateway import KEY, shared_gateway
from tests.support.servers import GatewayProcess


@pytest.fixture(scope="module")
def page_gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> GatewayProcess:
    return shared_gateway(request, tmp_path_factory)


@pytest.fixture
def page(browser: Browser, page_gateway: GatewayProcess) -> Iterator[Page]:
    """The playground, its API key typed into the key field."""
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    opened = context.new_page()
    opened.goto(page_gateway.base_url + "/")
    expect(opened.locator("#status")).to_contain_text("models: ")  # no key yet: refused
    opened.fill("#key", KEY)
    opened.dispatch_event("#key", "change")
    yield opened
    context.close()


def test_chat_streams_text_and_shows_a_calculator_result(
    page_gateway: GatewayProcess, page: Page, tmp_path: Path
) -> None:
    expect(page.locator("#model option[value='mock']")).to_have_count(1)
    expect(page.locator("#tools input[value='calculator']")).to_be_checked()
    page.select_option("#model", "mock")
    page.evaluate(
        """() => {
            window.__textUpdates = 0;
            new MutationObserver((changes) => { window.__textUpdates += changes.length; })
              .observe(document.getElementById("log"),
                       {subtree: true, childList: true, characterData: true});
        }"""
    )

    page.fill("#message", "What is 5 + 3?")
    page.press("#message", "Enter")

    expect(page.locator("#status")).to_have_attribute("data-state", "connected")
    expect(page.locator(".tool.call")).to_contain_text("calculator")
    expect(page.locator(".tool.result")).to_contain_text("8")
    answer = page.locator(".msg.agent").last
    expect(answer).to_contain_text("The result is 8")
    expect(answer.locator(".usage")).to_contain_text("tokens")
    assert page.evaluate("window.__textUpdates") > 5  # the answer arrived in pieces

    session = page.locator("#sessions li.active")
    expect(session).to_contain_text("mock · 4 messages")
    expect(session.locator(".usage")).not_to_contain_text("0 tokens (0 in")

    # the connection drops: the next message rejoins the same conversation
    conversation = page.locator("#conversation").inner_text()
    page.evaluate("() => state.ws.close()")
    expect(page.locator("#status")).to_have_attribute("data-state", "closed")

    # a second message in the same conversation, streamed word by word
    page.fill("#message", "hello there")
    page.press("#message", "Enter")
    expect(page.locator(".msg.agent").last).to_contain_text("Hello! I am the relaygate mock")
    expect(page.locator(".msg.agent").last.locator(".usage")).to_contain_text("tokens")
    expect(page.locator(".msg.agent")).to_have_count(2)  # no empty bubble before the tool call
    assert page.locator("#conversation").inner_text() == conversation
    expect(page.locator("#sessions li.active")).to_contain_text("mock · 6 messages")
    page.screenshot(path=str(tmp_path / "playground.png"), full_page=True)
    assert (tmp_path / "playground.png").stat().st_size > 10_000


def test_the_status_shows_a_refused_connection(page_gateway: GatewayProcess, page: Page) -> None:
    page.evaluate("() => connect('any-room')")
    expect(page.locator("#status")).to_have_attribute("data-state", "connected")
    page.evaluate("() => connect('bad id with spaces')")
    expect(page.locator("#status")).to_have_attribute("data-state", "closed")
    expect(page.locator("#status")).to_contain_text("1008")
    page.fill("#key", "sk-not-a-key")
    page.evaluate("() => connect('any-room')")
    expect(page.locator("#status")).to_contain_text("4401 bad API key")
