"""Building Responses-API input messages, local images included as `data:` URLs."""

from __future__ import annotations

import base64
import mimetypes
from collections.abc import Sequence
from pathlib import Path
from typing import Any

IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".gif": "image/gif", ".webp": "image/webp"}


def image_data_url(path: str | Path) -> str:
    """The file at `path` as `data:<media type>;base64,…` (png, jpeg, gif or webp)."""
    file = Path(path)
    media_type = IMAGE_TYPES.get(file.suffix.lower()) or mimetypes.guess_type(file.name)[0]
    if media_type is None or not media_type.startswith("image/"):
        raise ValueError(f"{file} does not look like an image (png, jpeg, gif or webp)")
    encoded = base64.b64encode(file.read_bytes()).decode("ascii")
    return f"data:{media_type};base64,{encoded}"


def build_user_message(
    text: str, image_paths: Sequence[str | Path] = (), *, detail: str = "auto"
) -> dict[str, Any]:
    """A user message for `input`: the text, then each image as an `input_image` part."""
    content: list[dict[str, Any]] = [{"type": "input_text", "text": text}]
    content += [
        {"type": "input_image", "image_url": image_data_url(path), "detail": detail}
        for path in image_paths
    ]
    return {"type": "message", "role": "user", "content": content}
