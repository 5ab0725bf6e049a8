"""`relaygate chat`: talk to a gateway from the terminal, answers streamed as they come.

    /model [NAME]      show the models, or switch to NAME
    /tools [A,B]       show the gateway's tools, or choose those new sessions get
    /session [new|ID]  show the current session and its usage, start a new one, or switch
    /quit              leave (so does end of input)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from relaygate.client.agent_client import GatewayAgentClient
from relaygate.client.errors import GatewayClientError

HELP = __doc__.split("\n\n", 1)[1] if __doc__ else ""


@dataclass(slots=True)
class ChatState:
    model: str | None
    session_id: str | None = None
    tools: list[str] = field(default_factory=list)


def _print(out: TextIO, text: str = "", end: str = "\n") -> None:
    out.write(text + end)
    out.flush()


def _show(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


async def _ensure_session(client: GatewayAgentClient, state: ChatState) -> str:
    if state.session_id is None:
        models = await client.list_models()
        model = state.model or models[0]
        session = await client.create_session(
            model,
            tools=state.tools,
            allowed_models=[name for name in models if name != model],
            metadata={"source": "relaygate-chat"},
        )
        state.session_id, state.model = session["id"], model
    return state.session_id


async def ask(client: GatewayAgentClient, state: ChatState, text: str, out: TextIO) -> None:
    """One turn: the answer streamed, tool calls and results on lines of their own."""
    session_id = await _ensure_session(client, state)
    at_line_start = True
    async for event in client.stream_session_message(session_id, text, model=state.model):
        data = event["data"]
        if event["event"] == "chunk":
            _print(out, data.get("text", ""), end="")
            at_line_start = False
            continue
        if not at_line_start:
            _print(out)
            at_line_start = True
        if event["event"] == "tool_call":
            _print(out, f"  [tool] {data.get('name')}({_show(data.get('arguments'))})")
        elif event["event"] == "tool_result":
            _print(out, f"  [result] {data.get('name')}: {_show(data.get('output'))}")
        elif event["event"] == "message.completed":
            usage = data.get("usage") or {}
            _print(out, f"  ({usage.get('input_tokens', 0)} in, "
                        f"{usage.get('output_tokens', 0)} out tokens)")
        elif event["event"] == "error":
            error = data.get("error") or {}
            _print(out, f"  error: {error.get('message', data)}")


async def command(client: GatewayAgentClient, state: ChatState, line: str, out: TextIO) -> bool:
    """Run a /command; False when it is time to leave."""
    name, _, argument = line.partition(" ")
    argument = argument.strip()
    if name in ("/quit", "/exit"):
        return False
    if name == "/model":
        if argument:
            state.model = argument
            _print(out, f"model: {argument}")
        else:
            for model in await client.list_models():
                _print(out, ("* " if model == state.model else "  ") + model)
    elif name == "/tools":
        if argument:
            state.tools = [item.strip() for item in argument.split(",") if item.strip()]
            state.session_id = None
            _print(out, f"new sessions get the tools: {', '.join(state.tools)}")
        else:
            for tool in await client.list_tools():
                mark = "* " if tool["name"] in state.tools else "  "
                _print(out, f"{mark}{tool['name']}: {tool.get('description') or ''}")
    elif name == "/session":
        await _session_command(client, state, argument, out)
    else:
        _print(out, HELP)
    return True


async def _session_command(
    client: GatewayAgentClient, state: ChatState, argument: str, out: TextIO
) -> None:
    if argument == "new":
        state.session_id = None
        _print(out, "the next message starts a new session")
        return
    if argument:
        session = await client.get_session(argument)
        state.session_id, state.model = session["id"], session["model"]
    if state.session_id is None:
        _print(out, "no session yet: the next message starts one")
        return
    session = await client.get_session(state.session_id)
    usage = session.get("usage") or {}
    _print(out, f"session {session['id']} · model {session['model']} · "
                f"{session['message_count']} messages · {usage.get('total_tokens', 0)} tokens")


async def chat(args: argparse.Namespace, lines: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    state = ChatState(model=args.model, session_id=args.session,
                      tools=[item for item in (args.tools or "").split(",") if item])
    async with GatewayAgentClient(args.url, args.api_key) as client:
        _print(out, f"relaygate chat on {args.url} — /model, /tools, /session, /quit")
        while True:
            if lines.isatty():
                _print(out, "> ", end="")
            line = await asyncio.to_thread(lines.readline)
            if not line:
                return 0
            text = line.strip()
            if not text:
                continue
            try:
                if text.startswith("/"):
                    if not await command(client, state, text, out):
                        return 0
                else:
                    await ask(client, state, text, out)
            except GatewayClientError as error:
                _print(out, f"error: {error}")


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(chat(args))
    except KeyboardInterrupt:
        return 130
