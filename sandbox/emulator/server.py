"""The aiohttp server: Bot API routes, file downloads, recording, faults and strict checks."""

from __future__ import annotations

import asyncio
import json
import logging
import mimetypes
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import methods_bot, methods_chats, methods_messages, methods_payments  # noqa: F401
from .errors import ApiError, not_found, server_error, too_many_requests, unauthorized
from .faults import Fault, FaultPlan
from .params import Params, decode_for_record, read_request
from .ratelimit import RateLimits
from .registry import METHODS, Ctx, Described
from .schema_check import SchemaMismatchError, method_names, validate, validate_result
from .state import DEFAULT_BOT_NAME, DEFAULT_BOT_USERNAME, TOKEN_RE, World
from .webhook import WebhookDelivery

if TYPE_CHECKING:
    from sandbox.client import SandboxClient

log = logging.getLogger("sandbox.emulator")

FAULT_DESCRIPTIONS = {
    400: "Bad Request: injected fault",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
}
# Large enough for Telegram's 50 MB upload limit to be the one that answers.
CLIENT_MAX_SIZE = 60 * 1024 * 1024


@dataclass
class RecordedCall:
    """One Bot API request as the emulator saw and answered it."""

    seq: int
    method: str
    params: dict[str, Any]
    files: dict[str, dict[str, Any]]
    ok: bool
    result: Any = None
    error_code: int | None = None
    description: str | None = None
    fault: str | None = None
    time: float = field(default_factory=time.time)

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "method": self.method,
            "params": self.params,
            "files": self.files,
            "ok": self.ok,
            "result": self.result,
            "error_code": self.error_code,
            "description": self.description,
            "fault": self.fault,
            "time": self.time,
        }


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(body, ensure_ascii=False),
        status=status,
        content_type="application/json",
    )


class Emulator:
    """An offline Telegram Bot API server on 127.0.0.1 with a control API for tests and pages.

    ``strict=True`` validates every result and every update against the Bot API schema; the
    problems are logged, kept in :attr:`schema_problems`, and :meth:`stop` raises on them.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        strict: bool = False,
        *,
        bot_username: str = DEFAULT_BOT_USERNAME,
        bot_name: str = DEFAULT_BOT_NAME,
        privacy_mode: bool = True,
    ) -> None:
        self.host = host
        self.port = port
        self.strict = strict
        self.world = World(bot_username, bot_name, privacy_mode)
        self.faults = FaultPlan()
        # Posts updates to the bot while a webhook is set (route() it to a local bot).
        self.webhooks = WebhookDelivery(self.world)
        # Telegram's flood limits (429 with retry_after) when set; see ratelimit.py.
        self.rate_limits: RateLimits | None = None
        # Called with every recorded call as it is answered (load tests time replies by it).
        self.observers: list[Callable[[RecordedCall], None]] = []
        self.schema_problems: list[str] = []
        self._calls: list[RecordedCall] = []
        self._ctx = Ctx(self.world)
        self._runner: web.AppRunner | None = None
        if strict:
            self.world.update_validator = self._check_update
        self.app = self._build_app()

    # --- lifecycle -----------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        from .control import setup_control_routes

        app = web.Application(client_max_size=CLIENT_MAX_SIZE)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_bot_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        setup_control_routes(app, self)
        return app

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("emulator already started")
        # Fresh asyncio primitives: the emulator may be built outside the loop that runs it.
        self.world.updates_changed = asyncio.Event()
        self._ctx.stopping = asyncio.Event()
        self.world.events.rebind()
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        address = self._runner.addresses[0]
        self.port = int(address[1])
        await self.webhooks.start()
        log.info("Telegram Bot API emulator listening on %s", self.base_url)

    async def stop(self) -> None:
        if self._runner is None:
            return
        self._ctx.stopping.set()
        await self.webhooks.stop()
        self.world.events.close()
        self.world.wake_pollers()
        for pending in [
            *self.world.callback_queries.values(),
            *self.world.pre_checkout_queries.values(),
        ]:
            if not pending.future.done():
                pending.future.cancel()
        runner, self._runner = self._runner, None
        await runner.cleanup()
        if self.strict and self.schema_problems:
            raise SchemaMismatchError(self.schema_problems)

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def client(self) -> SandboxClient:
        """A control client for this emulator (use it as an async context manager)."""
        from sandbox.client import SandboxClient

        return SandboxClient(self.base_url)

    @property
    def api_base(self) -> str:
        """What the bot takes as its Bot API base URL (``TELEGRAM_API_BASE``)."""
        return self.base_url

    # --- inspection and faults ---------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[RecordedCall]:
        if method is None:
            return list(self._calls)
        wanted = method.lower()
        return [c for c in self._calls if c.method.lower() == wanted]

    def clear_calls(self) -> None:
        self._calls.clear()

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        times: int = 1,
        description: str | None = None,
    ) -> None:
        """The next ``times`` calls of ``method`` answer ``status`` (429 carries retry_after).

        ``description`` overrides Telegram's usual text for that status, e.g.
        ``fail_next("sendMessage", status=403, description="Forbidden: user is deactivated")``.
        """
        self.faults.add(method, Fault("status", status, retry_after, description), times)

    def drop_next(self, method: str, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` get their connection closed with no answer."""
        self.faults.add(method, Fault("drop"), times)

    def timeout_next(self, method: str, seconds: float, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` get no answer for ``seconds``, then their
        connection is closed; Telegram did not act on them (the client's own timeout may end
        the wait first)."""
        self.faults.add(method, Fault("timeout", seconds=seconds), times)

    def lose_answer_next(self, method: str, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` are carried out, then their connection is
        closed before the answer: the client sees a drop although Telegram did the work."""
        self.faults.add(method, Fault("lose_answer"), times)

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` are answered normally, ``seconds`` later
        (a slow network or a slow Telegram), so tests can act while the bot waits."""
        self.faults.add(method, Fault("delay", seconds=seconds), times)

    def commands(self, scope: str = "default", language_code: str = "") -> list[dict[str, Any]]:
        """Commands set for a scope key (``default``, ``chat:<id>``, ...) and language."""
        return [dict(c) for c in self.world.commands.get((scope, language_code), [])]

    def assert_schema_clean(self) -> None:
        if self.schema_problems:
            raise SchemaMismatchError(self.schema_problems)

    # --- Bot API -------------------------------------------------------------------------------

    def _record(self, call: RecordedCall) -> RecordedCall:
        self._calls.append(call)
        self.world.events.publish("api_call", None, _call_summary(call))
        for observer in self.observers:
            observer(call)
        return call

    def _new_call(self, method: str, params: Params | None) -> RecordedCall:
        values = params.values if params else {}
        files = {k: u.describe() for k, u in params.files.items()} if params else {}
        return RecordedCall(
            seq=len(self._calls) + 1,
            method=method,
            params=decode_for_record(method, values),
            files=files,
            ok=False,
        )

    async def _handle_bot_api(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        raw_method = request.match_info["method"]
        method = method_names().get(raw_method.lower(), raw_method)
        if not TOKEN_RE.fullmatch(token):
            return self._error_response(self._new_call(method, None), unauthorized())
        self.world.adopt_token(token)
        try:
            values, files = await read_request(request)
        except ApiError as exc:
            return self._error_response(self._new_call(method, None), exc)
        params = Params(values, files)
        call = self._new_call(method, params)
        fault = self.faults.take(method)
        if fault is not None and fault.kind in ("delay", "timeout"):
            await asyncio.sleep(fault.seconds)
        if fault is not None and fault.kind not in ("delay", "lose_answer"):
            return self._apply_fault(request, call, fault)
        limited = self.rate_limits.check(method, values) if self.rate_limits else None
        if limited is not None:
            return self._error_response(call, limited)
        handler = METHODS.get(raw_method.lower())
        if handler is None:
            log.warning("Bot called %s, which the emulator does not implement", raw_method)
            return self._error_response(call, not_found())
        try:
            outcome = await handler(self._ctx, params)
        except ApiError as exc:
            return self._error_response(call, exc)
        description = None
        if isinstance(outcome, Described):
            outcome, description = outcome.value, outcome.description
        if self.strict:
            self._check_result(method, outcome)
        call.ok = True
        call.result = outcome
        if fault is not None and fault.kind == "lose_answer":
            return self._apply_fault(request, call, fault)
        self._record(call)
        body: dict[str, Any] = {"ok": True, "result": outcome}
        if description:
            body["description"] = description
        return _json(body)

    def _error_response(self, call: RecordedCall, exc: ApiError) -> web.Response:
        call.error_code = exc.error_code
        call.description = exc.description
        self._record(call)
        return _json(exc.payload(), exc.error_code)

    def _apply_fault(
        self, request: web.Request, call: RecordedCall, fault: Fault
    ) -> web.StreamResponse:
        if fault.kind in ("drop", "timeout", "lose_answer"):
            call.fault = fault.kind
            call.description = {
                "drop": "connection dropped",
                "timeout": f"no answer for {fault.seconds:g} s, connection dropped",
                "lose_answer": "done, then the connection dropped before the answer",
            }[fault.kind]
            self._record(call)
            transport = request.transport
            if transport is not None:
                transport.abort()
            # Nothing can reach the client any more; the handler just has to end.
            raise asyncio.CancelledError
        call.fault = "status"
        if fault.status == 429:
            error = too_many_requests(fault.retry_after)
        elif fault.status >= 500:
            error = server_error(fault.status)
        else:
            error = ApiError(fault.status, FAULT_DESCRIPTIONS.get(fault.status, "Bad Request"))
        if fault.description:
            error.description = fault.description
        return self._error_response(call, error)

    # --- files ---------------------------------------------------------------------------------

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        stored = self.world.files.by_path(request.match_info["path"])
        if not TOKEN_RE.fullmatch(token) or stored is None:
            return _json(not_found().payload(), 404)
        mime = stored.mime_type or mimetypes.guess_type(stored.file_path)[0]
        return web.Response(body=stored.data, content_type=mime or "application/octet-stream")

    # --- strict mode ---------------------------------------------------------------------------

    def _check_result(self, method: str, result: Any) -> None:
        try:
            problems = validate_result(method, result)
        except KeyError:
            return
        self._report(problems)

    def _check_update(self, update: dict[str, Any]) -> None:
        self._report(validate(update, "Update", "Update"))

    def _report(self, problems: list[str]) -> None:
        for problem in problems:
            log.error("Bot API schema mismatch: %s", problem)
        self.schema_problems.extend(problems)


def _call_summary(call: RecordedCall) -> dict[str, Any]:
    return {
        "seq": call.seq,
        "method": call.method,
        "ok": call.ok,
        "error_code": call.error_code,
        "description": call.description,
    }
