"""The semantic cache through the openai SDK: a paraphrase of a cached question is
answered from the cache (`semantic-hit; score=…`), a different question is not, and
another tenant's entries are never found."""

from __future__ import annotations

import time
from pathlib import Path

from tests.cache.conftest import Upstreams, cache_gateway
from tests.cache.test_cache_sdk import GLOBEX, ask, sdk

FRANCE = [{"role": "user", "content": "What is the capital of France?"}]


def _probe(client: object, text: str, timeout: float = 10.0) -> tuple[str, str | None]:
    """Ask `text` without keeping the answer until the index has the first question (it
    is embedded after the first answer went out)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = ask(client, {"Cache-Control": "no-store"},  # type: ignore[arg-type]
                     messages=[{"role": "user", "content": text}])
        if (answer[1] or "").startswith("semantic-hit") or time.monotonic() > deadline:
            return answer
        time.sleep(0.1)


def test_a_paraphrase_hits_and_a_different_question_misses(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    config = upstreams.config({"semantic": {"enabled": True}})
    with cache_gateway(tmp_path, config) as gateway:
        client = sdk(gateway.base_url)
        cached, header = ask(client, messages=FRANCE)
        assert header == "miss"
        text, header = _probe(client, "Which city is the capital of France?")
        assert header is not None and header.startswith("semantic-hit; score=")
        assert float(header.rsplit("=", 1)[1]) >= 0.9 and text == cached
        before = upstreams.sent()
        again, again_header = ask(client, messages=[
            {"role": "user", "content": "What's France's capital?"}])
        assert again == cached and (again_header or "").startswith("semantic-hit")
        assert upstreams.sent() == before  # answered without the upstream
        other, header = ask(client, messages=[
            {"role": "user", "content": "What is the capital of Germany?"}])
        assert header == "miss" and other != cached
        assert ask(sdk(gateway.base_url, GLOBEX), messages=[
            {"role": "user", "content": "Which city is the capital of France?"}])[1] == "miss"
        # the earlier turns are part of the key: the same question after a system prompt
        assert ask(client, messages=[{"role": "system", "content": "Answer in French."},
                                     {"role": "user", "content": "What's France's capital?"}]
                   )[1] == "miss"


def test_a_message_longer_than_max_chars_is_looked_up_exactly_only(
    tmp_path: Path, upstreams: Upstreams
) -> None:
    config = upstreams.config({"semantic": {"enabled": True, "max_chars": 40}})
    long_question = "Which river flows through the middle of Paris, France?"  # 54 characters
    with cache_gateway(tmp_path, config) as gateway:
        client = sdk(gateway.base_url)
        assert ask(client, messages=[{"role": "user", "content": long_question}])[1] == "miss"
        assert ask(client, messages=FRANCE)[1] == "miss"  # 30 characters: indexed
        # once this paraphrase hits, the index has caught up with both answers
        header = _probe(client, "Which city is the capital of France?")[1]
        assert (header or "").startswith("semantic-hit")
        assert ask(client, messages=[{"role": "user", "content": long_question}])[1] == "hit"
        # the same words with a trailing space: another exact key, and never embedded
        assert ask(client, messages=[{"role": "user", "content": long_question + " "}]
                   )[1] == "miss"
