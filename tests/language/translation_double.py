"""A test double for remote translation services: a real HTTP server on localhost that speaks
the documented request and response formats of LibreTranslate, DeepL and OpenAI-compatible
chat completions, "translating" by a rule the test can predict.

The "translation" upper-cases Latin words and prefixes the target code (``[zh] HELLO [[0]]``),
leaving placeholders alone, so tests can see that text went through and that what had to
survive did. A test may queue canned answers (status, body, headers) that come first, and a
delay to provoke timeouts; every request is recorded.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PLACEHOLDER = re.compile(r"\[\[\d+\]\]")


def fake_translation(text: str, target: str) -> str:
    pieces = PLACEHOLDER.split(text)
    holders = PLACEHOLDER.findall(text)
    out = pieces[0].upper()
    for holder, piece in zip(holders, pieces[1:], strict=True):
        out += holder + piece.upper()
    return f"[{target}] {out}"


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class TranslationDouble:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    canned: list[tuple[int, Any, dict[str, str]]] = field(default_factory=list)
    delay: float = 0.0

    def answer_next(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.canned.append((status, body, headers or {}))

    def respond(self, path: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        if self.canned:
            return self.canned.pop(0)
        if path == "/translate":  # LibreTranslate
            texts = body["q"] if isinstance(body["q"], list) else [body["q"]]
            return 200, {"translatedText": [fake_translation(t, body["target"]) for t in texts]}, {}
        if path == "/v2/translate":  # DeepL
            items = [
                {"detected_source_language": body.get("source_lang", "EN"), "text": t}
                for t in (fake_translation(t, body["target_lang"]) for t in body["text"])
            ]
            return 200, {"translations": items}, {}
        if path == "/v1/chat/completions":  # OpenAI-compatible
            text = body["messages"][-1]["content"]
            message = {"role": "assistant", "content": fake_translation(text, body["model"])}
            return 200, {"choices": [{"index": 0, "message": message}]}, {}
        return 404, {"error": "not found"}, {}


def serve() -> Iterator[TranslationDouble]:
    double = TranslationDouble()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"null")
            double.requests.append(Recorded(self.path, dict(self.headers.items()), body))
            if double.delay:
                time.sleep(double.delay)
            status, answer, headers = double.respond(self.path, body)
            payload = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    double.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield double
    finally:
        double.delay = 0.0
        server.shutdown()
        server.server_close()
