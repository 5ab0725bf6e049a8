"""`POST /v1/images/generations` with the official openai SDK: the mock's real PNG, an
OpenAI-compatible upstream (dall-e asked for base64, gpt-image's usage), Gemini's image
models and Imagen; `url` answers served by the gateway itself, per tenant, expiring; errors
in OpenAI's format; ledger rows."""

from __future__ import annotations

import asyncio
import base64
import struct
import zlib

import httpx
import openai
import pytest

from relaygate.images.settings import ImageSettings
from relaygate.images.store import ImageStore
from tests.media.conftest import KEY, Media
from tests.support.fake_media import PNG_1X1


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR"
    assert zlib.crc32(data[12:16 + length]) == struct.unpack(">I", data[16 + length:20 + length])[0]
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_image_tokens_are_not_logged() -> None:
    from relaygate.observability.request_log import _logged_path
    assert _logged_path("/v1/images/files/abcDEF123") == "/v1/images/files/[redacted]"
    assert _logged_path("/v1/embeddings") == "/v1/embeddings"


def test_mock_png_as_b64_and_as_url(media: Media) -> None:
    client = media.client()
    reply = client.images.generate(model="mock-image", prompt="a red fox", n=2,
                                   response_format="b64_json")
    assert reply.data is not None and len(reply.data) == 2
    first = base64.b64decode(reply.data[0].b64_json or "")
    assert _png_size(first) == (64, 64)
    again = client.images.generate(model="mock-image", prompt="a red fox",
                                   response_format="b64_json")
    assert again.data is not None and again.data[0].b64_json == reply.data[0].b64_json
    raw = client.images.with_raw_response.generate(model="mock-image", prompt="a red fox")
    url = raw.parse().data[0].url  # type: ignore[index]
    assert url is not None and url.startswith(f"{media.base_url}/v1/images/files/")
    served = httpx.get(url)
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert served.content == first
    assert httpx.get(url[:-3] + "xyz").status_code == 404
    rows = media.rows(raw.headers["x-request-id"])
    assert [(row["endpoint"], row["provider"], row["tenant"]) for row in rows] == [
        ("images.generations", "mock", "acme")]
    assert rows[0]["input_tokens"] > 0 and rows[0]["cost_usd"] == 0


def test_openai_compatible_upstreams(media: Media) -> None:
    client = media.client()
    raw = client.images.with_raw_response.generate(model="dall-e-3", prompt="a lighthouse")
    reply = raw.parse()
    assert reply.data is not None
    url = reply.data[0].url or ""
    assert "upstream.example" not in url and httpx.get(url).content == PNG_1X1
    assert media.openai_fake.requests[-1]["response_format"] == "b64_json"
    row = media.rows(raw.headers["x-request-id"])[0]
    assert row["cost_usd"] == pytest.approx(0.04)  # its request price
    image = client.images.generate(model="gpt-image-1", prompt="two words",
                                   response_format="b64_json")
    assert "response_format" not in media.openai_fake.requests[-1]
    assert image.usage is not None and image.usage.output_tokens == 272
    assert image.data is not None and base64.b64decode(image.data[0].b64_json or "") == PNG_1X1


def test_gemini_image_models(media: Media) -> None:
    client = media.client()
    reply = client.images.generate(model="gemini-2.5-flash-image", prompt="a blue whale",
                                   n=2, size="1536x1024", response_format="b64_json")
    assert reply.data is not None and len(reply.data) == 2
    sent = media.gemini_fake.requests[-1]
    assert sent["generationConfig"] == {"responseModalities": ["IMAGE"],
                                        "imageConfig": {"aspectRatio": "3:2"}}
    assert reply.usage is not None and reply.usage.output_tokens == 2 * 1290
    imagen = client.images.generate(model="imagen-4.0-generate-001", prompt="x", n=3)
    assert imagen.data is not None and len(imagen.data) == 3
    assert media.gemini_fake.paths[-1].endswith(":predict")


def test_errors_in_openai_format(media: Media) -> None:
    cases = [
        ({"model": "mock-image"}, "prompt"),
        ({"model": "mock-image", "prompt": "x", "n": 11}, "n"),
        ({"model": "mock-image", "prompt": "x", "response_format": "png"}, "response_format"),
        ({"model": "claude-embed", "prompt": "x"}, "model"),
    ]
    for body, param in cases:
        reply = httpx.post(f"{media.base_url}/v1/images/generations", json=body,
                           headers={"authorization": f"Bearer {KEY}"})
        assert reply.status_code == 400, reply.text
        assert reply.json()["error"]["param"] == param
    with pytest.raises(openai.NotFoundError):
        media.client().images.generate(model="nope", prompt="x")


async def test_store_expires_and_caps_each_tenant() -> None:
    store = ImageStore(ImageSettings(url_ttl_seconds=0.05, max_bytes_per_tenant=10))
    old = await store.put("acme", b"123456", "image/png")
    other = await store.put("beta", b"123456", "image/png")
    new = await store.put("acme", b"abcdef", "image/png")  # acme over 10 bytes: `old` goes
    assert await store.get(old) is None
    assert (await store.get(new)) is not None and (await store.get(other)) is not None
    image = await store.get(new)
    assert image is not None and image.tenant == "acme"
    await asyncio.sleep(0.06)
    assert await store.get(new) is None and await store.get(other) is None
