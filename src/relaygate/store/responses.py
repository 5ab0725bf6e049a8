"""Stored responses and their items, owned by a tenant: another tenant sees nothing.

`responses.body` is the response object as last rendered; `response_items` holds each
response's input items (kind `input`) and output items (kind `output`) in order, so a
chain (`previous_response_id`) is rebuilt by walking back and reading items in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from relaygate.store.base import Base
from relaygate.store.db import Database

ROW_ID_TYPE = BigInteger().with_variant(Integer(), "sqlite")
MAX_CHAIN = 1000  # a guard against cycles in hand-edited data

Item = dict[str, Any]


class ResponseRow(Base):
    __tablename__ = "responses"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    previous_response_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (Index("ix_responses_tenant", "tenant", "id"),)


class ResponseItemRow(Base):
    __tablename__ = "response_items"

    row_id: Mapped[int] = mapped_column(ROW_ID_TYPE, primary_key=True, autoincrement=True)
    response_id: Mapped[str] = mapped_column(
        String(80), ForeignKey("responses.id", ondelete="CASCADE")
    )
    tenant: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(8))  # input | output
    position: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[str] = mapped_column(String(80))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_response_items_response", "response_id", "kind", "position"),
        Index("ix_response_items_item", "tenant", "item_id"),
    )


@dataclass(slots=True)
class ItemPage:
    items: list[Item]
    has_more: bool


class ResponseStore:
    """Reads and writes stored responses; every method is scoped to one tenant."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def save(
        self, tenant: str, body: dict[str, Any], input_items: list[Item] | None = None
    ) -> None:
        """Insert or replace a response; its output items follow `body["output"]`.

        `input_items` are written only when given (the first save of a response).
        """
        async with self._database.session() as session, session.begin():
            row = await session.get(ResponseRow, body["id"])
            if row is None:
                session.add(
                    ResponseRow(
                        id=body["id"],
                        tenant=tenant,
                        status=body["status"],
                        previous_response_id=body.get("previous_response_id"),
                        created_at=body["created_at"],
                        body=body,
                    )
                )
            else:
                row.status, row.body = body["status"], body
            if input_items is not None:
                await self._replace(session, tenant, body["id"], "input", input_items)
            await self._replace(session, tenant, body["id"], "output", body["output"])

    @staticmethod
    async def _replace(
        session: AsyncSession, tenant: str, response_id: str, kind: str, items: list[Item]
    ) -> None:
        await session.execute(
            delete(ResponseItemRow).where(
                ResponseItemRow.response_id == response_id, ResponseItemRow.kind == kind
            )
        )
        session.add_all(
            ResponseItemRow(
                response_id=response_id,
                tenant=tenant,
                kind=kind,
                position=position,
                item_id=str(item.get("id", "")),
                data=item,
            )
            for position, item in enumerate(items)
        )

    async def get(self, tenant: str, response_id: str) -> dict[str, Any] | None:
        async with self._database.session() as session:
            row = await session.get(ResponseRow, response_id)
            if row is None or row.tenant != tenant:
                return None
            return dict(row.body)

    async def delete(self, tenant: str, response_id: str) -> bool:
        async with self._database.session() as session, session.begin():
            row = await session.get(ResponseRow, response_id)
            if row is None or row.tenant != tenant:
                return False
            await session.execute(
                delete(ResponseItemRow).where(ResponseItemRow.response_id == response_id)
            )
            await session.delete(row)
            return True

    async def chain_items(self, tenant: str, response_id: str) -> list[Item] | None:
        """Input and output items of `response_id` and every response before it, oldest
        first; None when the response (or one before it) is not this tenant's."""
        chain: list[str] = []
        async with self._database.session() as session:
            current: str | None = response_id
            while current is not None and len(chain) < MAX_CHAIN:
                row = await session.get(ResponseRow, current)
                if row is None or row.tenant != tenant:
                    return None
                chain.append(row.id)
                current = row.previous_response_id
            chain.reverse()
            rows = (
                await session.execute(
                    select(ResponseItemRow).where(ResponseItemRow.response_id.in_(chain))
                )
            ).scalars()
            order = {response: index for index, response in enumerate(chain)}
            ranked = sorted(
                rows, key=lambda r: (order[r.response_id], r.kind != "input", r.position)
            )
            return [dict(row.data) for row in ranked]

    async def find_items(self, tenant: str, item_ids: list[str]) -> dict[str, Item]:
        """Stored items of this tenant by id (for `item_reference`)."""
        if not item_ids:
            return {}
        async with self._database.session() as session:
            rows = (
                await session.execute(
                    select(ResponseItemRow).where(
                        ResponseItemRow.tenant == tenant, ResponseItemRow.item_id.in_(item_ids)
                    )
                )
            ).scalars()
            return {row.item_id: dict(row.data) for row in rows}

    async def input_items(
        self,
        tenant: str,
        response_id: str,
        *,
        after: str | None = None,
        before: str | None = None,
        limit: int = 20,
        descending: bool = True,
    ) -> ItemPage | None:
        """One page of a response's input items; None when the response is unknown."""
        async with self._database.session() as session:
            row = await session.get(ResponseRow, response_id)
            if row is None or row.tenant != tenant:
                return None
            rows = list(
                (
                    await session.execute(
                        select(ResponseItemRow)
                        .where(
                            ResponseItemRow.response_id == response_id,
                            ResponseItemRow.kind == "input",
                        )
                        .order_by(ResponseItemRow.position)
                    )
                ).scalars()
            )
        items = [dict(row.data) for row in rows]
        if descending:
            items.reverse()
        ids = [str(item.get("id")) for item in items]
        if after is not None and after in ids:
            items = items[ids.index(after) + 1 :]
        elif before is not None and before in ids:
            items = items[: ids.index(before)]
            return ItemPage(items[-limit:], has_more=len(items) > limit)
        return ItemPage(items[:limit], has_more=len(items) > limit)
