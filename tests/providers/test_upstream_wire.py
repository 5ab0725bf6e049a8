"""The upstream HTTP client on the wire: replies as servers really send them (gzip, no
length, chunked and large), over TLS, and request headers that could split a request.

The upstream here is a raw socket server that writes exactly the bytes each case needs.
"""

from __future__ import annotations

import datetime
import gzip
import json
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from relaygate.providers.upstream_pool import parse_url, request_head
from tests.support.servers import GatewayProcess, run_gateway

ANSWER = "Relayed over the wire."
COMPLETION = json.dumps(
    {
        "id": "chatcmpl-wire",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "wire-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": ANSWER},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9},
    }
).encode()


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _stream_events(words: int) -> list[bytes]:
    events = []
    for n in range(words):
        delta = {"content": f"w{n} "}
        chunk = {
            "id": "chatcmpl-wire", "object": "chat.completion.chunk", "created": 1700000000,
            "model": "wire-model",
            "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
        }
        events.append(b"data: " + json.dumps(chunk).encode() + b"\n\n")
    done = {
        "id": "chatcmpl-wire", "object": "chat.completion.chunk", "created": 1700000000,
        "model": "wire-model", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
    }
    events.append(b"data: " + json.dumps(done).encode() + b"\n\n")
    events.append(b"data: [DONE]\n\n")
    return events


def gzipped(_: bytes) -> bytes:
    body = gzip.compress(COMPLETION)
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode() + body
    )


def until_close(_: bytes) -> bytes:
    """No Content-Length, not chunked: the body ends when the server closes."""
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n" + (
        COMPLETION
    )


def large_stream(_: bytes) -> bytes:
    """A chunked event stream of a few MiB, more than the client buffers unread."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    return head + b"".join(_chunk(event) for event in _stream_events(40_000)) + b"0\r\n\r\n"


def plain(_: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(COMPLETION)}\r\n\r\n".encode() + COMPLETION
    )


def early_hints(request: bytes) -> bytes:
    """103 Early Hints before the reply, as some CDNs send."""
    return b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" + plain(request)


class WireServer(socketserver.ThreadingTCPServer):
    """Answers each request with `reply(request bytes)`; keeps what it received."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        reply: Callable[[bytes], bytes],
        tls: ssl.SSLContext | None = None,
        handler: type[socketserver.BaseRequestHandler] | None = None,
    ):
        super().__init__(("127.0.0.1", 0), handler or _Handler)
        self.reply = reply
        self.tls = tls
        self.requests: list[bytes] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])


def _read_request(connection: socket.socket) -> bytes | None:
    """One request, head and body; None when the client closed the connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        received = connection.recv(65536)
        if not received:
            return None
        data += received
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += connection.recv(65536)
    return head + b"\r\n\r\n" + body


class _Handler(socketserver.BaseRequestHandler):
    """One request a connection, answered, then the connection closed."""

    server: WireServer

    def handle(self) -> None:
        connection: socket.socket = self.request
        if self.server.tls is not None:
            connection = self.server.tls.wrap_socket(connection, server_side=True)
        request = _read_request(connection)
        if request is None:
            return
        self.server.requests.append(request)
        connection.sendall(self.server.reply(request))
        connection.close()


class _DropsTheSecond(socketserver.BaseRequestHandler):
    """Answers a connection's first request and keeps it open; at the second request it
    closes without a word, as a server whose keep-alive timer fired just then does."""

    server: WireServer

    def handle(self) -> None:
        connection: socket.socket = self.request
        first = _read_request(connection)
        if first is None:
            return
        self.server.requests.append(first)
        connection.sendall(self.server.reply(first))
        second = _read_request(connection)
        if second is not None:
            self.server.requests.append(second)
        connection.close()


@pytest.fixture
def serve() -> Iterator[Callable[..., WireServer]]:
    servers: list[WireServer] = []

    def start(
        reply: Callable[[bytes], bytes],
        tls: ssl.SSLContext | None = None,
        handler: type[socketserver.BaseRequestHandler] | None = None,
    ) -> WireServer:
        server = WireServer(reply, tls, handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _gateway_config(base_url: str, fast_path: bool) -> dict[str, object]:
    return {
        "server": {"fast_path": fast_path},
        "providers": {"up": {"type": "openai", "base_url": base_url, "api_key": "sk-wire"}},
        "models": [{"name": "wire", "provider": "up", "model": "wire-model"}],
    }


def _ask(gateway: GatewayProcess, stream: bool = False) -> httpx.Response:
    return httpx.post(
        f"{gateway.base_url}/v1/chat/completions",
        json={"model": "wire", "messages": [{"role": "user", "content": "hi"}], "stream": stream},
        timeout=30,
    )


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "translated"])
@pytest.mark.parametrize(
    "reply", [gzipped, until_close, early_hints], ids=["gzip", "until-close", "early-hints"]
)
def test_replies_as_servers_send_them(
    tmp_path: Path, serve: Callable[..., WireServer], reply: Callable[[bytes], bytes],
    fast_path: bool,
) -> None:
    server = serve(reply)
    config = _gateway_config(f"http://127.0.0.1:{server.port}/v1", fast_path)
    with run_gateway(tmp_path, config) as gateway:
        answer = _ask(gateway)
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == ANSWER
    request = server.requests[0]
    assert request.startswith(b"POST /v1/chat/completions HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{server.port}\r\n".encode() in request
    assert b"Authorization: Bearer sk-wire\r\n" in request


def test_a_large_stream_arrives_whole(tmp_path: Path, serve: Callable[..., WireServer]) -> None:
    server = serve(large_stream)
    config = _gateway_config(f"http://127.0.0.1:{server.port}/v1", True)
    with run_gateway(tmp_path, config) as gateway:
        answer = _ask(gateway, stream=True)
    assert answer.status_code == 200
    events = [line for line in answer.text.split("\n\n") if line.startswith("data: {")]
    text = "".join(
        json.loads(event[6:])["choices"][0]["delta"].get("content", "") for event in events
    )
    assert text == "".join(f"w{n} " for n in range(40_000))
    assert answer.text.rstrip().endswith("data: [DONE]")


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "relaygate test upstream")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "upstream.pem", directory / "upstream.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_https_upstreams_are_verified(tmp_path: Path, serve: Callable[..., WireServer]) -> None:
    cert_path, key_path = _certificate(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert_path, key_path)
    server = serve(plain, tls)
    config = _gateway_config(f"https://localhost:{server.port}/v1", True)

    (tmp_path / "trusted").mkdir()
    with run_gateway(tmp_path / "trusted", config, env={"SSL_CERT_FILE": str(cert_path)}) as gw:
        answer = _ask(gw)
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == ANSWER

    (tmp_path / "untrusted").mkdir()  # the system's trust store does not know this certificate
    with run_gateway(tmp_path / "untrusted", config) as gateway:
        refused = _ask(gateway)
    assert refused.status_code == 502
    assert "Could not reach the upstream provider 'up'" in refused.json()["error"]["message"]


def test_a_header_value_cannot_split_the_request() -> None:
    target = parse_url("https://api.example.com:8443/v1/chat/completions?x=1")
    head = request_head(target, {"Authorization": "Bearer k"}, 12)
    assert head.startswith(b"POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: api.example.com:8443\r\n")
    assert head.endswith(b"Authorization: Bearer k\r\n\r\n")
    with pytest.raises(ValueError, match="line break"):
        request_head(target, {"anthropic-beta": "x\r\nX-Injected: 1"}, 0)


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "translated"])
def test_a_kept_alive_connection_closed_under_the_request_is_retried_once(
    tmp_path: Path, serve: Callable[..., WireServer], fast_path: bool
) -> None:
    """The upstream read the request and closed without a byte back: sent again, once, on a
    new connection, so the client sees its answer instead of a 502."""
    server = serve(plain, handler=_DropsTheSecond)
    config = _gateway_config(f"http://127.0.0.1:{server.port}/v1", fast_path)
    with run_gateway(tmp_path, config) as gateway:
        first, second = _ask(gateway), _ask(gateway)
    assert first.status_code == 200 and second.status_code == 200, second.text
    assert second.json()["choices"][0]["message"]["content"] == ANSWER
    assert len(server.requests) == 3  # the second went out twice: dropped, then answered

