"""The workshop's web app: a JSON API over a :class:`~copsim.workshop.room.Room` and three
static pages (participant, projector, facilitator), served by uvicorn.

Every participant action carries the token in the ``X-Copsim-Token`` header and the
round id and a nonce in its body; facilitator actions carry the key in
``X-Copsim-Key``. A request's headers must arrive within :data:`HEADER_SECONDS` of the
connection opening (or of the previous response), else the connection is closed (408);
bodies are read with a size limit (:data:`MAX_BODY`) and a time limit
(:data:`BODY_SECONDS`) and parsed strictly before the room (and its lock) is reached,
so slow or malformed input never holds the lock. Wrong join codes are limited per
client address (429 with Retry-After, see :class:`~copsim.workshop.checks.GuessLimit`). Room calls run in worker threads, so
a round being stepped never blocks the event loop; stepping happens only in the
facilitator's close request or in the ticker thread (timer, everyone decided).

| method and path | who | what |
|---|---|---|
| GET / , /projector , /facilitator | anyone | the pages |
| POST /api/join | with the join code | ``{code, name}`` -> ``{token, row, name}`` |
| GET /api/me | token | card, round, peers, proposals, news (and the debrief at the end) |
| POST /api/decide | token | ``{round, nonce, decision}`` |
| GET /api/status, /api/network, /api/qr.svg | anyone | what the projector shows |
| GET /api/debrief | anyone once ended (key before) | the room against the model alone |
| GET /api/facilitator, GET /api/record | key | participants and levers; the record (a download) |
| POST /api/facilitator/{open,close,pace,lever,shock,remove,end} | key | the controls |
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import re
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import h11
import segno
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from copsim.workshop.checks import WorkshopError
from copsim.workshop.room import Room

MAX_BODY = 4096  # bytes: a decision is about 200
HEADER_SECONDS = 10.0  # headers not complete within this: the connection is closed (408)
BODY_SECONDS = 5.0  # a body not received within this is refused (408)
TICK_SECONDS = 0.2
STATIC = Path(__file__).with_name("static")
PAGES = {"/": ("participant", "copsim workshop"),
         "/projector": ("projector", "copsim workshop: projector"),
         "/facilitator": ("facilitator", "copsim workshop: facilitator")}
ASSETS = {"workshop.css", "participant.js", "projector.js", "facilitator.js", "common.js"}
HOST = re.compile(r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
     b"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]
FACILITATOR_ACTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "open": ("open_round", ()), "close": ("close_round", ()),
    "pace": ("set_pace", ("round_seconds", "weeks_per_round", "auto")),
    "lever": ("set_lever", ("name", "value")), "shock": ("shock", ("depth",)),
    "remove": ("remove", ("row",)), "end": ("end", ()),
}
log = logging.getLogger("copsim.workshop")


class SecurityHeaders:
    """Adds the security headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, with_headers)


class HeaderDeadline(H11Protocol):
    """uvicorn's HTTP/1.1 connection with a deadline for each request's headers.

    uvicorn times out only connections idle between requests: one that sends its headers a
    byte at a time, or never finishes them, would hold its connection for ever. The deadline
    starts when the connection opens or a new request starts and is not moved by what
    trickles in; when it passes, the client gets a 408 and the connection is closed.
    """

    header_seconds = HEADER_SECONDS
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # type: ignore[arg-type]
        self._start_deadline()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE:  # a request's headers are still to come
            self._start_deadline()
        else:
            self._cancel_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def _start_deadline(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.header_seconds, self._too_slow)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\n"
                                 b"connection: close\r\n\r\n")
            self.transport.close()


def render_page(name: str, title: str) -> str:
    """A page: the shared shell (``page.html``) around the page's body (``<name>.html``)."""
    shell = (STATIC / "page.html").read_text(encoding="utf-8")
    body = (STATIC / f"{name}.html").read_text(encoding="utf-8")
    return shell.replace("{title}", title).replace("{page}", name).replace("{body}", body)


def refuse(status: int, code: str, message: str) -> JSONResponse:
    return refused(WorkshopError(status, code, message))


def refused(exc: WorkshopError) -> JSONResponse:
    """A refusal as JSON, with Retry-After when it passes with time."""
    headers = {} if exc.retry_after is None else {"retry-after": str(exc.retry_after)}
    return JSONResponse(exc.as_dict(), status_code=exc.status, headers=headers)


async def read_json(request: Request) -> dict[str, Any]:
    """The body as a JSON object: at most MAX_BODY bytes within BODY_SECONDS, strictly parsed."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise WorkshopError(413, "too_large", f"The request is larger than {MAX_BODY} bytes.")
    body = bytearray()

    async def collect() -> None:
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > MAX_BODY:
                raise WorkshopError(413, "too_large", f"The request is larger than {MAX_BODY} bytes.")

    try:
        await asyncio.wait_for(collect(), BODY_SECONDS)
    except TimeoutError:
        raise WorkshopError(408, "too_slow", "The request body took too long to arrive.") from None

    def no_constants(name: str) -> None:
        raise ValueError(name)

    if not body.strip():
        return {}
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise WorkshopError(400, "bad_json", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise WorkshopError(400, "bad_json", "The request body must be a JSON object.")
    return data


def fields(data: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    """The body's fields, refusing unknown ones."""
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise WorkshopError(422, "invalid", f"Unknown field: {unknown[0]}.")
    return data


async def answer(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Response:
    """Run a room method in a worker thread; refusals become JSON errors."""
    try:
        return JSONResponse(await run_in_threadpool(fn, *args, **kwargs))
    except WorkshopError as exc:
        return refused(exc)


def create_app(room: Room, public_url: str | None = None, tick: bool = True) -> Starlette:
    """The ASGI app for one room (with a ticker thread closing rounds on time)."""

    def join_url(request: Request) -> str:
        if public_url:
            return public_url
        host = request.headers.get("host", "")
        if HOST.fullmatch(host) is None:
            host = f"{request.url.hostname}:{request.url.port}"
        return f"{request.url.scheme}://{host}/"

    pages = {path: render_page(name, title) for path, (name, title) in PAGES.items()}

    async def page(request: Request) -> Response:
        return HTMLResponse(pages[request.url.path])

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS:
            return refuse(404, "not_found", "No such file.")
        kind = "text/css" if name.endswith(".css") else "text/javascript"
        return FileResponse(STATIC / name, media_type=kind)

    async def guarded(request: Request, handler: Callable[[dict[str, Any]], Any]) -> Response:
        try:
            data = await read_json(request)
            return await handler(data)
        except WorkshopError as exc:
            return refused(exc)

    async def join(request: Request) -> Response:
        async def handle(data: dict[str, Any]) -> Response:
            fields(data, ("code", "name"))
            try:
                ticket = await run_in_threadpool(room.join, data.get("code"), data.get("name"),
                                                 request.client.host if request.client else "")
            except WorkshopError as exc:
                return refused(exc)
            return JSONResponse({"token": ticket.token, "row": ticket.row, "name": ticket.name})
        return await guarded(request, handle)

    async def me(request: Request) -> Response:
        return await answer(room.me, request.headers.get("x-copsim-token"))

    async def decide(request: Request) -> Response:
        async def handle(data: dict[str, Any]) -> Response:
            fields(data, ("round", "nonce", "decision"))
            return await answer(room.decide, request.headers.get("x-copsim-token"),
                                data.get("round"), data.get("nonce"), data.get("decision"))
        return await guarded(request, handle)

    async def status(request: Request) -> Response:
        data = await run_in_threadpool(room.status)
        return JSONResponse({**data, "join_url": join_url(request)})

    async def network(request: Request) -> Response:
        return await answer(room.network)

    async def qr(request: Request) -> Response:
        buffer = io.BytesIO()
        url = join_url(request)
        if room.state != "ended":
            url += f"?code={room.code}"  # scanned, the page has the code filled in
        segno.make(url, error="m").save(buffer, kind="svg", scale=10, border=2,
                                        dark="#000000", light="#ffffff")
        return Response(buffer.getvalue(), media_type="image/svg+xml")

    async def debrief(request: Request) -> Response:
        return await answer(room.debrief, request.headers.get("x-copsim-key"))

    async def facilitator_view(request: Request) -> Response:
        return await answer(room.facilitator_view, request.headers.get("x-copsim-key"))

    async def record(request: Request) -> Response:
        try:
            data = await run_in_threadpool(room.record, request.headers.get("x-copsim-key"))
        except WorkshopError as exc:
            return refused(exc)
        return JSONResponse(data, headers={
            "content-disposition": 'attachment; filename="copsim-workshop-record.json"'})

    async def facilitator_action(request: Request) -> Response:
        action = request.path_params["action"]
        if action not in FACILITATOR_ACTIONS:
            return refuse(404, "not_found", f"No facilitator action '{action}'.")
        method, allowed = FACILITATOR_ACTIONS[action]

        async def handle(data: dict[str, Any]) -> Response:
            fields(data, allowed)
            return await answer(getattr(room, method), request.headers.get("x-copsim-key"), **data)
        return await guarded(request, handle)

    routes = [Route(path, page) for path in PAGES]
    routes += [
        Route("/static/{name}", asset),
        Route("/api/join", join, methods=["POST"]),
        Route("/api/me", me),
        Route("/api/decide", decide, methods=["POST"]),
        Route("/api/status", status),
        Route("/api/network", network),
        Route("/api/qr.svg", qr),
        Route("/api/debrief", debrief),
        Route("/api/facilitator", facilitator_view),
        Route("/api/record", record),
        Route("/api/facilitator/{action}", facilitator_action, methods=["POST"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = threading.Event()
        thread = threading.Thread(target=run_ticker, args=(room, stop), daemon=True,
                                  name="workshop-ticker")
        if tick:
            thread.start()
        try:
            yield
        finally:
            stop.set()
            if tick:
                thread.join(timeout=5)

    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(SecurityHeaders)
    return app


def run_ticker(room: Room, stop: threading.Event) -> None:
    """Close rounds on their timer (or when everyone decided) until ``stop`` is set."""
    while not stop.wait(TICK_SECONDS):
        try:
            room.tick()
        except Exception:  # a failing step must not stop the clock of later rounds
            log.exception("closing a round failed")


def serve(room: Room, host: str, port: int, public_url: str | None = None) -> None:
    """Run the app with uvicorn until interrupted."""
    import uvicorn

    config = uvicorn.Config(create_app(room, public_url), host=host, port=port, http=HeaderDeadline,
                            log_level="warning", access_log=False, timeout_keep_alive=10,
                            limit_concurrency=1000, h11_max_incomplete_event_size=16384,
                            server_header=False)
    uvicorn.Server(config).run()
