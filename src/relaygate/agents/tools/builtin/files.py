"""read_file, write_file and delete_file, confined to the session's workspace."""

from __future__ import annotations

import asyncio
from typing import Any

from relaygate.agents.tools.base import Tool, ToolContext

_PATH = {
    "type": "string",
    "minLength": 1,
    "maxLength": 1024,
    "description": "Relative to the workspace.",
}


async def _read(arguments: dict[str, Any], context: ToolContext) -> dict[str, Any]:
    path = arguments["path"]
    content = await asyncio.to_thread(context.workspace.read_text, path)
    return {"path": path, "content": content}


async def _write(arguments: dict[str, Any], context: ToolContext) -> dict[str, Any]:
    path = arguments["path"]
    size = await asyncio.to_thread(
        context.workspace.write_text,
        path,
        arguments["content"],
        append=arguments.get("append", False),
    )
    return {"path": path, "bytes": size}


async def _delete(arguments: dict[str, Any], context: ToolContext) -> dict[str, Any]:
    path = arguments["path"]
    removed = await asyncio.to_thread(context.workspace.delete, path)
    return {"path": path, "deleted": True, "bytes_freed": removed}


def read_file_tool() -> Tool:
    return Tool(
        name="read_file",
        description="Read a UTF-8 text file from this session's workspace.",
        function=_read,
        parameters={
            "type": "object",
            "properties": {"path": _PATH},
            "required": ["path"],
            "additionalProperties": False,
        },
    )


def write_file_tool(max_bytes: int) -> Tool:
    return Tool(
        name="write_file",
        description=f"Write (or append) UTF-8 text to a file in this session's workspace "
        f"(at most {max_bytes} bytes per file).",
        function=_write,
        parameters={
            "type": "object",
            "properties": {
                "path": _PATH,
                "content": {"type": "string"},
                "append": {"type": "boolean", "default": False},
            },
            "required": ["path", "content"],
            "additionalProperties": False,
        },
    )


def delete_file_tool() -> Tool:
    return Tool(
        name="delete_file",
        description="Delete a file, or a directory with everything in it, from this session's "
        "workspace (frees space when the workspace is full).",
        function=_delete,
        needs="write_file",  # a key kept from writing may not delete either
        parameters={
            "type": "object",
            "properties": {"path": _PATH},
            "required": ["path"],
            "additionalProperties": False,
        },
    )
