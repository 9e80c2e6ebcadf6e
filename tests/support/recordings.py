"""Load the recorded provider exchanges in ../shared/fixtures (vcr YAML, httprr, chunks)."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

# A verbatim copy of ../shared/fixtures (see its PROVENANCE.md), kept in the repo so
# the tests run from any clone.
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "recorded"
_HOP_HEADERS = {"content-length", "transfer-encoding", "content-encoding", "connection"}


@dataclass
class Exchange:
    """One recorded request and the response the real provider gave."""

    method: str
    path: str
    request_body: bytes
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def request_json(self) -> Any:
        return json.loads(self.request_body) if self.request_body else None

    @property
    def response_json(self) -> Any:
        return json.loads(self.body)

    @property
    def is_stream(self) -> bool:
        ctype = self.headers.get("content-type", "")
        return "event-stream" in ctype or "ndjson" in ctype

    def sse_data(self) -> list[Any]:
        """The JSON payloads of an SSE body (skipping [DONE])."""
        out = []
        for line in self.body.decode().splitlines():
            if line.startswith("data:"):
                payload = line[5:].strip()
                if payload and payload != "[DONE]":
                    out.append(json.loads(payload))
        return out


def load(relative: str) -> list[Exchange]:
    """Every exchange of one fixture file, in order."""
    path = FIXTURES / relative
    if path.suffix == ".httprr":
        return _load_httprr(path.read_bytes())
    if path.name.endswith(".chunks.txt"):
        return _load_chunks(path.read_text())
    return _load_vcr(yaml.load(path.read_text(), Loader=yaml.SafeLoader))


def _headers(raw: dict[str, Any] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in (raw or {}).items():
        out[key.lower()] = value[0] if isinstance(value, list) else str(value)
    return out


def _body(node: dict[str, Any], body_key: str = "body") -> bytes:
    if "parsed_body" in node:
        return json.dumps(node["parsed_body"]).encode()
    body = node.get(body_key)
    if isinstance(body, dict):
        body = body.get("string")
    if body is None:
        return b""
    return body if isinstance(body, bytes) else body.encode()


def _load_vcr(data: dict[str, Any]) -> list[Exchange]:
    exchanges = []
    for item in data["interactions"]:
        req, resp = item["request"], item["response"]
        url = urlsplit(req["uri"])
        headers = _headers(resp.get("headers"))
        body = _body(resp)
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        exchanges.append(
            Exchange(
                method=req["method"],
                path=url.path + (f"?{url.query}" if url.query else ""),
                request_body=_body(req),
                status=resp["status"]["code"],
                headers={k: v for k, v in headers.items() if k not in _HOP_HEADERS},
                body=body,
            )
        )
    return exchanges


def _split_http(raw: bytes) -> tuple[bytes, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        key, _, value = line.decode().partition(":")
        headers[key.strip().lower()] = value.strip()
    return lines[0], headers, body


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.strip() or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return bytes(out)


def _load_httprr(raw: bytes) -> list[Exchange]:
    header, _, rest = raw.partition(b"\n")
    assert header.strip() == b"httprr trace v1"
    exchanges = []
    while rest.strip():
        sizes, _, rest = rest.partition(b"\n")
        req_len, resp_len = (int(x) for x in sizes.split())
        req_raw, resp_raw = rest[:req_len], rest[req_len : req_len + resp_len]
        rest = rest[req_len + resp_len :]
        request_line, _, req_body = _split_http(req_raw)
        method, url, _ = request_line.decode().split(" ", 2)
        status_line, headers, body = _split_http(resp_raw)
        if headers.get("transfer-encoding") == "chunked":
            body = _dechunk(body)
        parts = urlsplit(url)
        exchanges.append(
            Exchange(
                method=method,
                path=parts.path + (f"?{parts.query}" if parts.query else ""),
                request_body=req_body,
                status=int(status_line.split()[1]),
                headers={k: v for k, v in headers.items() if k not in _HOP_HEADERS},
                body=body,
            )
        )
    return exchanges


def _load_chunks(text: str) -> list[Exchange]:
    body = "".join(f"data: {line}\n\n" for line in text.splitlines() if line.strip())
    return [
        Exchange(
            method="POST",
            path="*",
            request_body=b"",
            status=200,
            headers={"content-type": "text/event-stream"},
            body=body.encode(),
        )
    ]
