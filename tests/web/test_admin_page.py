"""The admin page (`/admin`) in a real headless Chromium: sign in with the admin key, create
a tenant and a key, read the secret the page shows once, use it with the official openai
SDK, revoke it from the page and see the SDK refused; a screenshot, checked pixel by pixel."""

from __future__ import annotations

import base64
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.support.servers import GatewayProcess, run_gateway

ADMIN_KEY = "admin-page-test-key-0123456789"
CONFIG: dict[str, Any] = {
    "providers": {"mock": {"type": "mock"}},
    "models": [{"name": "mock", "provider": "mock"}, {"name": "echo", "provider": "mock"}],
    "admin": {"key": ADMIN_KEY},
}
VIEWPORT = {"width": 1200, "height": 800}
SECRET_BACKGROUND = (0x3A, 0x2F, 0x0B)  # admin.css --secret


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with run_gateway(tmp_path_factory.mktemp("admin-page"), CONFIG) as process:
        yield process


@pytest.fixture
def page(browser: Browser, gateway: GatewayProcess) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    opened = context.new_page()
    opened.on("dialog", lambda dialog: dialog.accept())  # the "revoke?" confirmation
    opened.goto(gateway.base_url + "/admin")
    yield opened
    context.close()


def sign_in(page: Page, key: str) -> None:
    page.fill("#admin-key", key)
    page.click("#sign-in-form button[type=submit]")


def chat(gateway: GatewayProcess, secret: str) -> str:
    client = openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key=secret, max_retries=0)
    reply = client.chat.completions.create(
        model="mock", messages=[{"role": "user", "content": "hello there"}]
    )
    return reply.choices[0].message.content or ""


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n" and header[12:16] == b"IHDR"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def screenshot_pixels(page: Page, path: Path, box: dict[str, float]) -> dict[str, Any]:
    """Decoded by the browser from the PNG file: how many colours a grid over the whole
    image meets, and the share of `box` (page pixels) painted the secret box's colour."""
    data = base64.b64encode(path.read_bytes()).decode()
    viewer = page.context.new_page()
    counted: dict[str, Any] = viewer.evaluate(
        """async ([data, box, colour]) => {
            const image = new Image();
            image.src = `data:image/png;base64,${data}`;
            await image.decode();
            const canvas = document.createElement("canvas");
            canvas.width = image.width; canvas.height = image.height;
            const context = canvas.getContext("2d");
            context.drawImage(image, 0, 0);
            const all = context.getImageData(0, 0, image.width, image.height).data;
            const colours = new Set();
            for (let y = 0; y < image.height; y += 7)
              for (let x = 0; x < image.width; x += 7) {
                const at = (y * image.width + x) * 4;
                colours.add(`${all[at]},${all[at + 1]},${all[at + 2]}`);
              }
            const inside = context.getImageData(box.x + 4, box.y + 4, box.width - 8, box.height - 8).data;
            let matching = 0;
            for (let at = 0; at < inside.length; at += 4)
              if ([0, 1, 2].every((c) => Math.abs(inside[at + c] - colour[c]) <= 3)) matching++;
            return { colours: colours.size, secretShare: matching / (inside.length / 4) };
        }""",
        [data, box, list(SECRET_BACKGROUND)],
    )
    viewer.close()
    return counted


def test_a_key_made_on_the_page_works_with_the_sdk_until_revoked_there(
    gateway: GatewayProcess, page: Page, tmp_path: Path
) -> None:
    sign_in(page, "not-the-admin-key-at-all")
    expect(page.locator("#sign-in-error")).to_have_text("Wrong admin key: Incorrect admin key.")
    expect(page.locator("#console")).to_be_hidden()

    sign_in(page, ADMIN_KEY)
    expect(page.locator("#console")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('relaygate.adminKey')") == ADMIN_KEY

    page.fill("#tenant-name", "web-acme")
    page.fill("#tenant-models", "mock")
    page.fill("#tenant-budget", "20")
    page.click("#tenant-form button[type=submit]")
    tenant_row = page.locator("#tenants tr[data-tenant='web-acme']")
    expect(tenant_row).to_contain_text("$0.00 of $20.00 / month (hard) · 0%")  # its spend

    expect(page.locator("#key-tenant")).to_have_value("web-acme")
    page.fill("#key-name", "from-the-page")
    page.fill("#key-budget", "1.5")
    page.select_option("#key-period", "day")
    page.click("#key-form button[type=submit]")
    expect(page.locator("#secret-box")).to_be_visible()
    expect(page.locator("#secret-box")).to_contain_text("will not be shown again")
    secret = page.locator("#secret-value").inner_text()
    assert secret.startswith("rg-")
    key_row = page.locator("#keys tr", has_text="from-the-page")
    expect(key_row).to_contain_text(secret[:8] + "…")
    expect(key_row.locator(".status")).to_have_text("active")
    expect(key_row).to_contain_text("$0.00 of $1.50 / day (hard) · 0%")

    assert "relaygate mock" in chat(gateway, secret)

    shot = tmp_path / "admin.png"
    page.screenshot(path=str(shot), full_page=True)
    width, height = png_size(shot)
    assert width == VIEWPORT["width"] and height >= VIEWPORT["height"]
    assert shot.stat().st_size > 10_000
    box = page.evaluate(
        """() => { const r = document.getElementById("secret-box").getBoundingClientRect();
                   return {x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height}; }"""
    )
    pixels = screenshot_pixels(page, shot, box)
    assert pixels["colours"] > 20  # text, tables, buttons: not a blank page
    assert pixels["secretShare"] > 0.5  # the secret box is there, painted, in the shot

    page.click("#secret-dismiss")
    expect(page.locator("#secret-box")).to_be_hidden()
    assert page.locator("#secret-value").inner_text() == ""  # gone from the page

    key_row.locator("button.revoke").click()
    expect(key_row.locator(".status")).to_have_text("revoked")
    with pytest.raises(openai.AuthenticationError):
        chat(gateway, secret)


def test_the_page_is_public_and_static(gateway: GatewayProcess) -> None:
    reply = httpx.get(gateway.base_url + "/admin", timeout=10)
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/html")
    assert "<script src=\"/static/admin.js\">" in reply.text
    for asset in ("/static/admin.js", "/static/admin.css"):
        served = httpx.get(gateway.base_url + asset, timeout=10)
        assert served.status_code == 200
        text = served.text.replace("http://www.w3.org/2000/svg", "")  # a namespace, not a fetch
        assert "http://" not in text and "https://" not in text  # nothing from elsewhere


def test_the_page_loads_no_sqlalchemy() -> None:
    """Serving the page (to a gateway whose admin API is off, say) needs no database."""
    script = (
        "import sys\n"
        "from starlette.testclient import TestClient\n"
        "from relaygate.app import create_app\n"
        "from relaygate.config import Settings\n"
        "with TestClient(create_app(Settings())) as client:\n"
        "    assert client.get('/admin').status_code == 200\n"
        "    assert client.get('/static/admin.js').status_code == 200\n"
        "print('sqlalchemy' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_an_api_error_is_shown_and_a_later_401_signs_out(gateway: GatewayProcess,
                                                          page: Page) -> None:
    sign_in(page, ADMIN_KEY)
    expect(page.locator("#console")).to_be_visible()
    page.fill("#tenant-name", "bad name with spaces")
    page.click("#tenant-form button[type=submit]")
    expect(page.locator("#notice")).to_contain_text("name")
    page.evaluate("sessionStorage.setItem('relaygate.adminKey', 'now-a-wrong-admin-key')")
    page.click("#refresh")
    expect(page.locator("#sign-in")).to_be_visible()
    expect(page.locator("#sign-in-error")).to_contain_text("Incorrect admin key.")


USAGE = {
    "day": [{"group": "2030-01-01", "requests": 4, "cost_usd": 0.5},
            {"group": "2030-01-02", "requests": 9, "cost_usd": 1.25}],
    "model": [{"group": "mock", "requests": 10, "cost_usd": 1.5},
              {"group": "echo", "requests": 3, "cost_usd": 0.25}],
}


def test_usage_charts(gateway: GatewayProcess, page: Page) -> None:
    # GET /admin/usage is another piece of this issue: answered here with the shape the
    # page's usageRows() reads, until that piece is merged
    def answer(route: Route) -> None:
        group = httpx.URL(route.request.url).params["group_by"]
        route.fulfill(json={"object": "list", "data": USAGE[group]})

    page.route("**/admin/usage?*", answer)
    sign_in(page, ADMIN_KEY)
    expect(page.locator("#chart-day rect.bar-day")).to_have_count(2)
    expect(page.locator("#chart-model rect.bar-model")).to_have_count(2)
    expect(page.locator("#chart-model")).to_contain_text("$1.50")
    heights = [float(bar.get_attribute("height") or 0)
               for bar in page.locator("#chart-day rect.bar-day").all()]
    assert heights[1] > heights[0] * 2  # $1.25 against $0.50
    expect(page.locator("#usage-note")).to_be_hidden()


def test_a_budget_bar_shows_the_spend_when_the_api_gives_it(page: Page) -> None:
    # spend per budget is another piece of this issue; the key JSON will carry `spend`
    bar = page.evaluate(
        """() => { const bar = budgetBar({max_usd: 2, period: "day", mode: "soft"},
                                         {usd: 1.7, tokens: 900});
                   const fill = bar.querySelector(".fill");
                   return {text: bar.textContent, width: fill.style.width,
                           kind: fill.className}; }"""
    )
    assert bar == {"text": "$1.70 of $2.00 / day (soft) · 85%", "width": "85%",
                   "kind": "fill warn"}


def test_without_the_usage_api_the_page_says_so(gateway: GatewayProcess, page: Page) -> None:
    def missing(route: Route) -> None:
        route.fulfill(status=404, json={"error": {"message": "Not Found"}})

    page.route("**/admin/usage?*", missing)
    sign_in(page, ADMIN_KEY)
    expect(page.locator("#usage-note")).to_have_text("Usage is not available: Not Found")
    expect(page.locator("#charts")).to_be_hidden()
    expect(page.locator("#keys")).to_be_attached()


def test_the_prompt_templates_are_listed(gateway: GatewayProcess, page: Page) -> None:
    admin = httpx.Client(base_url=gateway.base_url, timeout=10,
                         headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    created = admin.post("/admin/prompts", json={
        "name": "page-greeter", "instructions": "Be kind."}).json()
    admin.put(f"/admin/prompts/{created['id']}/labels/production",
              json={"version": "v1"}).raise_for_status()
    sign_in(page, ADMIN_KEY)
    row = page.locator(f"#prompts tr[data-prompt='{created['id']}']")
    expect(row).to_contain_text("page-greeter")
    expect(row).to_contain_text("production=v1:100")
