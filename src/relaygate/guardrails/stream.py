"""Output guards on a canonical stream: a rolling window over the text.

Text deltas are held back by at most `hold` characters (enough for the longest pattern), so
a secret split across chunks is found before any of it is sent; what is safe goes out,
masked where a guard masks; a block ends the stream with GuardrailBlocked (the front's own
error event and terminator). Guards that judge a text as a whole (injection, custom) see
the whole answer when it ends. Placeholders of `restore: true` guards are put back after
the output guards ran. A tool call's arguments are held until the call ends, then guarded
and restored as one delta."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from relaygate.guardrails.findings import Finding
from relaygate.guardrails.guard import Guard, Record, act, run_guards
from relaygate.guardrails.masking import Masker, unfinished_placeholder
from relaygate.guardrails.settings import GuardOn
from relaygate.types import StreamEvent, TextDelta, ToolCallDelta, ToolCallEnd

CONTEXT = 64  # characters already sent that a scan still sees on its left


class TextWindow:
    """The held-back text of one stream and the guards that scan it."""

    def __init__(self, guards: Sequence[Guard], masker: Masker, record: Record) -> None:
        self._spans = [guard for guard in guards if guard.detector.spans]
        self._whole = [guard for guard in guards if not guard.detector.spans]
        self._masker = masker
        self._record = record
        self._hold = max((guard.settings.hold_chars for guard in self._spans), default=0)
        self._batch = (self._hold + 1) // 2  # at least this much goes out per scan
        self._left = ""  # the end of what was sent, unmasked: context for the next scan
        self._pending = ""  # received, not yet sent
        self._unrestored = ""  # guarded, waiting for a split placeholder to complete
        self._all: list[str] = []  # the whole answer, for the whole-text guards

    def feed(self, text: str) -> str:
        """What may go out now: held text is scanned once there is a batch past the hold
        (a scan per delta would cost one pass of every detector per few characters)."""
        self._pending += text
        if self._whole:
            self._all.append(text)
        if len(self._pending) < self._hold + self._batch:
            return ""
        return self._drain(final=False)

    def flush(self) -> str:
        """Everything still held (the stream ends); the whole-text guards judge it all."""
        out = self._drain(final=True)
        whole = "".join(self._all)
        self._all.clear()
        if whole:
            run_guards(self._whole, whole, GuardOn.OUTPUT, self._masker, self._record)
        return out

    def _drain(self, final: bool) -> str:
        text = self._left + self._pending
        offset = len(self._left)
        cut = len(text) if final else max(offset, len(text) - self._hold)
        emitted = text[offset:cut]
        if self._spans and emitted:
            emitted, cut = self._guard(text, offset, cut)
        self._left = text[max(0, cut - CONTEXT):cut]
        self._pending = text[cut:]
        return self._restore(emitted, final)

    def _guard(self, text: str, offset: int, cut: int) -> tuple[str, int]:
        by_guard: list[tuple[Guard, list[Finding]]] = []
        for guard in self._spans:
            findings = [f for f in guard.detector.find(text) if f.end > offset]
            by_guard.append((guard, findings))
            for finding in findings:  # never cut through a finding: hold it whole
                if finding.start < cut < finding.end:
                    cut = max(offset, finding.start)
        emitted = text[offset:cut]
        changed = False
        for guard, findings in by_guard:
            if changed:  # an earlier guard masked: this one looks at the masked text
                inside = guard.detector.find(emitted)
            else:
                inside = [Finding(max(f.start, offset) - offset, f.end - offset, f.entity)
                          for f in findings if f.end <= cut]
            if inside:
                masked = act(guard, emitted, inside, GuardOn.OUTPUT, self._masker, self._record)
                changed = changed or masked != emitted
                emitted = masked
        return emitted, cut

    def _restore(self, text: str, final: bool) -> str:
        if not self._masker.restoring:
            return text
        text = self._unrestored + text
        keep = len(text) if final else unfinished_placeholder(text)
        self._unrestored = text[keep:]
        return self._masker.restore(text[:keep])


async def guard_stream(events: AsyncIterator[StreamEvent], guards: Sequence[Guard],
                       masker: Masker, record: Record) -> AsyncIterator[StreamEvent]:
    """`events` with the output guards applied (see the module's docstring)."""
    window = TextWindow(guards, masker, record)
    arguments: dict[int, list[str]] = {}
    try:
        async for event in events:
            if isinstance(event, TextDelta):
                text = window.feed(event.text)
                if text:
                    yield TextDelta(text)
                continue
            if isinstance(event, ToolCallDelta):
                arguments.setdefault(event.index, []).append(event.arguments)
                continue
            held = window.flush() if not isinstance(event, ToolCallEnd) else ""
            if held:
                yield TextDelta(held)
            if isinstance(event, ToolCallEnd):
                text = "".join(arguments.pop(event.index, []))
                if text:
                    text = run_guards([g for g in guards if g.detector.spans], text,
                                      GuardOn.OUTPUT, masker, record)
                    yield ToolCallDelta(event.index, masker.restore(text))
            else:
                window = TextWindow(guards, masker, record)  # what follows is a new text
            yield event
        held = window.flush()
        if held:
            yield TextDelta(held)
    finally:
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()
