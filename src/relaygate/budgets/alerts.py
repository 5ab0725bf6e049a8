"""Budget alerts: crossing 50, 80 and 100 % of a budget alerts once per owner, period and
threshold (claimed in the shared counters, so once across every instance): a log line, the
`relaygate_budget_alerts_total` metric, and a POST to `budgets.webhook_url` when set —
sent off the request path, with a timeout; a failure is logged without the URL's secrets."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry, Counter

from relaygate.budgets.counters import Amount, BudgetCounters
from relaygate.budgets.periods import Window
from relaygate.control_settings import BudgetSettings
from relaygate.lazy_import import import_module
from relaygate.observability.logging import get_logger

if TYPE_CHECKING:
    import httpx

THRESHOLDS = (50, 80, 100)  # percent of a budget
WEBHOOK_TIMEOUT_SECONDS = 5.0

_log = get_logger("relaygate.budgets")


def used_percent(budget: BudgetSettings, spent: Amount) -> float:
    """How much of the budget is spent, by its tighter cap."""
    shares = []
    if budget.max_usd is not None:
        shares.append(spent.usd / budget.max_usd)
    if budget.max_tokens is not None:
        shares.append(spent.tokens / budget.max_tokens)
    return 100.0 * max(shares, default=0.0)


@dataclass(frozen=True, slots=True)
class Alert:
    owner: str
    budget: BudgetSettings
    window: Window
    threshold: int
    spent: Amount

    def payload(self) -> dict[str, Any]:
        return {
            "type": "budget.threshold",
            "owner": self.owner,
            "threshold_percent": self.threshold,
            "mode": self.budget.mode.value,
            "period": self.budget.period.value,
            "period_start": self.window.start.isoformat() if self.window.start else None,
            "period_end": self.window.end.isoformat() if self.window.end else None,
            "spent_usd": round(self.spent.usd, 9),
            "max_usd": self.budget.max_usd,
            "spent_tokens": self.spent.tokens,
            "max_tokens": self.budget.max_tokens,
            "time": time.time(),
        }


class BudgetAlerts:
    def __init__(self, registry: CollectorRegistry, webhook_url: str | None = None) -> None:
        self._webhook_url = webhook_url
        self._sent = Counter(
            "relaygate_budget_alerts", "Budget thresholds crossed, once per owner and period.",
            ["owner", "threshold", "mode"], registry=registry,
        )
        self._claimed: set[tuple[str, str, int]] = set()  # asked for here already
        self._posts: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    def due(self, owner: str, budget: BudgetSettings, window: Window, spent: Amount) -> bool:
        """Whether `spent` reached a threshold this instance has not asked about yet."""
        percent = used_percent(budget, spent)
        if percent < THRESHOLDS[0]:  # most calls: none reached
            return False
        return any(percent >= threshold and (owner, window.key, threshold) not in self._claimed
                   for threshold in THRESHOLDS)

    async def check(self, counters: BudgetCounters, owner: str, budget: BudgetSettings,
                    window: Window, spent: Amount) -> None:
        """Alert for every threshold `spent` has reached that no instance alerted yet."""
        percent = used_percent(budget, spent)
        for threshold in THRESHOLDS:
            if percent < threshold:
                return
            marker = (owner, window.key, threshold)
            if marker in self._claimed:
                continue
            self._claimed.add(marker)
            try:
                claimed = await counters.claim_alert(owner, window, threshold)
            except BaseException:
                self._claimed.discard(marker)  # ask again on the next settlement
                raise
            if claimed:
                self._emit(Alert(owner, budget, window, threshold, spent))

    def _emit(self, alert: Alert) -> None:
        payload = alert.payload()
        _log.warning("budget threshold crossed", **{k: v for k, v in payload.items()
                                                    if k != "type"})
        self._sent.labels(alert.owner, str(alert.threshold), alert.budget.mode.value).inc()
        if self._webhook_url is not None:
            task = asyncio.create_task(self._post(self._webhook_url, payload))
            self._posts.add(task)
            task.add_done_callback(self._posts.discard)

    async def _post(self, url: str, payload: dict[str, Any]) -> None:
        httpx = await import_module("httpx")  # loaded only by a gateway that sends alerts
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT_SECONDS)
        try:
            response = await self._client.post(url, json=payload)
            if response.status_code >= 400:
                _log.warning("budget webhook refused the alert", webhook=_safe(url),
                             status=response.status_code)
        except httpx.HTTPError as exc:
            _log.warning("budget webhook failed", webhook=_safe(url), error=type(exc).__name__)

    async def close(self) -> None:
        """Wait for the alerts being sent (each has its timeout), then close the client."""
        if self._posts:
            await asyncio.gather(*self._posts, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()


def _safe(url: str) -> str:
    """The webhook's scheme and host only: its path, query and user part may hold a token."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/…"
