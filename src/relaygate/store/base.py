"""The declarative base every table of ours derives from (one MetaData for migrations)."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
