"""A real, small PNG from nothing but the standard library (the mock's images)."""

from __future__ import annotations

import hashlib
import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png(width: int, height: int, pixel: bytes = b"\x80\x80\x80") -> bytes:
    """An RGB PNG: a diagonal gradient over `pixel`'s colour (so it is not one flat tone)."""
    rows = []
    for y in range(height):
        row = bytearray(b"\x00")  # filter: none
        for x in range(width):
            shade = (x + y) * 255 // max(1, width + height - 2)
            row += bytes(((channel + shade) // 2) for channel in pixel)
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + _chunk(b"IEND", b""))


def prompt_png(prompt: str, index: int = 0, side: int = 64) -> bytes:
    """The same prompt always draws the same picture; its colour comes from the prompt."""
    colour = hashlib.blake2b(f"{index}:{prompt}".encode(), digest_size=3).digest()
    return png(side, side, colour)
