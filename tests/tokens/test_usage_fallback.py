"""An OpenAI-compatible upstream that never reports usage (it ignores `stream_options`
and sends no `usage`): the `openai` provider still yields usage, counted by us and marked
`estimated`. (The chat front passes that usage on like any other; see the matrix.)"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from relaygate.config import ProviderSettings, ProviderType
from relaygate.providers.openai import OpenAIProvider
from relaygate.types import Finish, Message, ModelCall, Role, TextPart, UsageEvent, UsageSource
from tests.support.no_usage_openai import NoUsageUpstream
from tests.support.servers import ThreadedServer


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with ThreadedServer(NoUsageUpstream()) as upstream:
        yield f"{upstream.base_url}/v1"


@pytest.fixture
async def provider(base_url: str) -> AsyncIterator[OpenAIProvider]:
    plain = OpenAIProvider("plain", ProviderSettings(type=ProviderType.OPENAI, base_url=base_url))
    yield plain
    await plain.close()


def ask(text: str) -> ModelCall:
    return ModelCall("local-model", [Message(Role.USER, [TextPart(text)])])


async def test_whole_answer_gets_our_usage(provider: OpenAIProvider) -> None:
    result = await provider.send(ask("five little words right here"), "local-model")
    assert result.message.text == "five little words right here"
    assert result.usage.source is UsageSource.ESTIMATED
    assert result.usage.output_tokens == 5 and result.usage.input_tokens > 5


async def test_streamed_answer_gets_our_usage_before_the_finish(provider: OpenAIProvider) -> None:
    events = [event async for event in provider.stream(ask("one two three four"), "local-model")]
    usage = [event.usage for event in events if isinstance(event, UsageEvent)]
    assert len(usage) == 1 and usage[0].source is UsageSource.ESTIMATED
    assert usage[0].output_tokens == 4 and usage[0].input_tokens > 4
    assert isinstance(events[-2], UsageEvent) and isinstance(events[-1], Finish)
