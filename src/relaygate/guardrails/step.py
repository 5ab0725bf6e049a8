"""The guard step: input guards before the call goes on, output guards on its answer.

A call no guard applies to goes straight on (and keeps the byte relay). Input guards that
only block or flag read the decoded call and leave the relay alone (sniffed); a masked
input, an output guard or a restore makes the call translated, for that call only."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from relaygate.guardrails.guard import Guard, Record, act, run_guards
from relaygate.guardrails.judge import Judge
from relaygate.guardrails.masking import Masker
from relaygate.guardrails.metrics import GuardMetrics
from relaygate.guardrails.policy import Guardrails
from relaygate.guardrails.settings import GuardOn, GuardType
from relaygate.guardrails.stream import guard_stream
from relaygate.guardrails.tools import ToolChecks
from relaygate.pipeline.call import Answer, Call, Endpoint, GuardHit
from relaygate.pipeline.chain import Next, Pipeline
from relaygate.types import (
    ContentPart,
    Message,
    ModelCall,
    ModelResult,
    Role,
    TextPart,
    ToolCall,
)

_JUDGED_ROLES = (Role.USER, Role.TOOL)  # whose words a whole-text guard (injection) judges


def guard_messages(guards: Sequence[Guard], messages: list[Message], masker: Masker,
                   record: Record) -> list[Message]:
    """The messages after the input guards (new objects where masked; raises on a block)."""
    spans = [guard for guard in guards
             if guard.detector.spans or guard.settings.type is GuardType.CUSTOM]
    whole = [guard for guard in guards if guard not in spans]
    if whole:
        judged = "\n".join(m.text for m in messages if m.role in _JUDGED_ROLES)
        counted = "\n".join(m.text for m in messages)
        for guard in whole:
            text = counted if guard.settings.type is GuardType.MAX_INPUT_TOKENS else judged
            if text:
                run_guards([guard], text, GuardOn.INPUT, masker, record)
    if not spans:
        return messages
    out = []
    for message in messages:
        parts: list[ContentPart] = []
        for part in message.content:
            if isinstance(part, TextPart) and part.text:
                text = run_guards(spans, part.text, GuardOn.INPUT, masker, record)
                if text != part.text:
                    part = dataclasses.replace(part, text=text)
            parts.append(part)
        changed = any(new is not old for new, old in zip(parts, message.content, strict=True))
        out.append(dataclasses.replace(message, content=parts) if changed else message)
    return out


def guard_result(result: ModelResult, guards: Sequence[Guard], masker: Masker,
                 record: Record) -> ModelResult:
    """A whole answer after the output guards, with restored placeholders."""
    message = result.message
    content = [
        dataclasses.replace(part, text=masker.restore(
            run_guards(guards, part.text, GuardOn.OUTPUT, masker, record)))
        if isinstance(part, TextPart) else part
        for part in message.content
    ]
    spans = [guard for guard in guards if guard.detector.spans]
    calls = [ToolCall(item.id, item.name, masker.restore(
        run_guards(spans, item.arguments, GuardOn.OUTPUT, masker, record)))
        for item in message.tool_calls]
    return dataclasses.replace(result, message=dataclasses.replace(
        message, content=content, tool_calls=calls))


class GuardStep:
    def __init__(self, guardrails: Guardrails, metrics: GuardMetrics) -> None:
        self.guardrails = guardrails
        self.metrics = metrics
        self.judge: Judge | None = None

    def use_pipeline(self, pipeline: Pipeline) -> None:
        if any(guard.settings.judge for guard in self.guardrails.guards.values()):
            self.judge = Judge(pipeline)

    def tool_checks(self) -> ToolChecks:
        return ToolChecks(self.guardrails, self.metrics)

    def recorder(self, call: Call) -> Record:
        def record(hit: GuardHit) -> None:
            if call.guard_hits is None:
                call.guard_hits = []
            call.guard_hits.append(hit)
            self.metrics.record(hit, call.principal.tenant, call.request_id)

        return record

    async def __call__(self, call: Call, next: Next) -> Answer:
        if call.endpoint is Endpoint.GUARD_JUDGE:
            return await next(call)
        guards = self.guardrails.for_call(call.principal, call.model)
        if not guards:
            return await next(call)
        inputs = [guard for guard in guards if guard.looks_at(GuardOn.INPUT)]
        outputs = [guard for guard in guards if guard.looks_at(GuardOn.OUTPUT)]
        record = self.recorder(call)
        masker = Masker()
        if call.task is not None:  # embeddings, images: their input texts, no answer to guard
            return await self._task(call, inputs, masker, record, next)
        if inputs:
            model_call = call.canonical()
            messages = guard_messages(inputs, model_call.messages, masker, record)
            if any(new is not old for new, old in zip(messages, model_call.messages,
                                                       strict=True)):
                call.model_call = _with_messages(model_call, messages)
                call.needs_content = True  # the upstream must see the masked text
            await self._judge(call, inputs, messages, masker, record)
        if outputs or masker.restoring:
            call.needs_content = True
        answer = await next(call)
        if not outputs and not masker.restoring:
            return answer
        if answer.result is not None:
            answer.result = guard_result(answer.result, outputs, masker, record)
        elif answer.events is not None:
            answer.events = guard_stream(answer.events, outputs, masker, record)
        return answer


    async def _task(self, call: Call, inputs: Sequence[Guard], masker: Masker, record: Record,
                    next: Next) -> Answer:
        assert call.task is not None
        texts = call.task.texts()
        guarded = [run_guards(inputs, text, GuardOn.INPUT, masker, record) for text in texts]
        if guarded != texts:
            call.task = call.task.with_texts(guarded)
            call.needs_content = True  # the upstream must see the masked texts, not the bytes
        return await next(call)

    async def _judge(self, call: Call, guards: Sequence[Guard], messages: list[Message],
                     masker: Masker, record: Record) -> None:
        """Each judged guard's model, on what the heuristics let pass."""
        judged = [guard for guard in guards if guard.settings.judge is not None]
        if not judged or self.judge is None:
            return
        text = "\n".join(m.text for m in messages if m.role in _JUDGED_ROLES)
        for guard in judged:
            assert guard.settings.judge is not None
            finding = await self.judge.rate(guard.settings.judge, text, call) if text else None
            if finding is not None:
                act(guard, text, [finding], GuardOn.INPUT, masker, record)


def _with_messages(model_call: ModelCall, messages: list[Message]) -> ModelCall:
    return dataclasses.replace(model_call, messages=messages)
