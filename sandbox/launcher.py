"""`make run` with no BOT_TOKEN: the whole bot, offline, in a browser, with one command.

Starts, in this order: the Telegram Bot API emulator (127.0.0.1, a free port), the chat page at
``http://SANDBOX_HOST:SANDBOX_PORT``, and the unmodified bot as a subprocess (``python -m bot``)
pointed at the emulator. The emulator is pre-populated with one Telegram user per person of the
demo register and a forum supergroup for support with two demo operators, so both sides of the
service can be tried. Ctrl+C (or SIGTERM) stops the bot first, then the servers; a second
Ctrl+C stops waiting for the bot, a repeated SIGTERM does not.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ctypes
import ctypes.util
import os
import shutil
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from bot.i18n import create_texts
from bot.settings import Settings
from core.errors import RegisterFileError
from sandbox.emulator import Emulator
from sandbox.emulator.actions import add_member

try:  # the `sandbox` extra; without it the sandbox runs without a mailbox (and email)
    from sandbox.mailbox import Mailbox
except ImportError:  # pragma: no cover - make run installs it
    Mailbox = None  # type: ignore[assignment,misc]
from sandbox.web.app import DemoOperator, DemoPerson, PageConfig, build_page_app
from storage.register import load_register

# Any token of the right shape works with the emulator; this one can never be a real one.
SANDBOX_TOKEN = "100000001:SANDBOX-offline-demo-token"
DEFAULT_SUPPORT_CHAT_ID = -1001000000001
OPERATOR_USER_ID = 600000001
SECOND_OPERATOR_USER_ID = 600000002
# Demo operators have real first names: the citizen reads "operator Anna joined", not
# "operator Operator". The keys hold the names in the default language.
OPERATOR_NAME_KEYS = {
    OPERATOR_USER_ID: "sandbox.operator_name",
    SECOND_OPERATOR_USER_ID: "sandbox.second_operator_name",
}
FIRST_PERSON_USER_ID = 700000000
# Written into the sandbox data folder so that only a folder we made is ever wiped.
MARKER_NAME = ".oms-sandbox"
READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0
LOG_TAIL_LINES = 25
# Settings the launcher decides for the bot; everything else passes through unchanged.
OWN_VARIABLES = (
    "BOT_TOKEN",
    "TELEGRAM_API_BASE",
    "DATA_DIR",
    "SUPPORT_CHAT_ID",
    "OPERATOR_IDS",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "WEB_HOST",
    "WEB_PORT",
    "SANDBOX_CLOCK",
    "SMTP_URL",
    "SMTP_FROM",
)
# A visitor moves the clock and watches a reminder come: look often (unless .env says).
SANDBOX_REMINDER_TICK_SECONDS = "1"


class SandboxError(Exception):
    """Something the person running the sandbox must fix; shown as one line, no traceback."""


def say(message: str) -> None:
    print(f"sandbox: {message}", flush=True)


def page_url(host: str, port: int) -> str:
    # A wildcard address is where the server listens, not something a browser can open.
    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    return f"http://{shown}:{port}"


def prepare_data_dir(path: Path) -> Path:
    """A fresh data folder every run: the emulator's world starts empty, so must the bot's."""
    path = path.resolve()
    marker = path / MARKER_NAME
    if path.exists() and any(path.iterdir()):
        if not marker.exists():
            raise SandboxError(
                f"{path} holds files the sandbox did not create; move them or set DATA_DIR"
            )
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    marker.write_text("Sandbox data, wiped at every start.\n", encoding="utf-8")
    return path


def demo_people(settings: Settings) -> list[DemoPerson]:
    register = load_register(settings.registry_path)
    return [
        DemoPerson(FIRST_PERSON_USER_ID + index, person)
        for index, person in enumerate(register.people())
    ]


def populate(emu: Emulator, config: PageConfig, group_title: str) -> None:
    """The Telegram side the bot expects: the people, the support forum and its operator."""
    world = emu.world
    for demo in config.people:
        person = demo.person
        world.add_user(
            demo.user_id, person.first_name, person.last_name, None, config.default_locale
        )
    group = world.add_group(
        config.support_chat_id,
        group_title,
        type_="supergroup",
        is_forum=True,
        bot_status="administrator",
    )
    for operator in config.operators:
        add_member(
            world,
            group,
            operator.user_id,
            operator.first_name,
            language_code=config.default_locale,
            status="administrator",
        )


def bot_environment(
    data_dir: Path, emu: Emulator, support_chat_id: int, mailbox: Mailbox | None = None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.upper() not in OWN_VARIABLES}
    env.setdefault("REMINDER_TICK_SECONDS", SANDBOX_REMINDER_TICK_SECONDS)
    if mailbox is not None:
        # The page's mailbox pane shows what the bot emails (sandbox/mailbox.py).
        env.update({"SMTP_URL": mailbox.url, "SMTP_FROM": "OMS bot <noreply@sandbox.local>"})
    env.update(
        {
            "BOT_TOKEN": SANDBOX_TOKEN,
            "TELEGRAM_API_BASE": emu.api_base,
            "DATA_DIR": str(data_dir),
            "SUPPORT_CHAT_ID": str(support_chat_id),
            "OPERATOR_IDS": ",".join(str(user_id) for user_id in OPERATOR_NAME_KEYS),
            # Polling even if .env sets a webhook; its /healthz on a free loopback port, so
            # it never clashes with a real bot or another sandbox.
            "WEBHOOK_URL": "",
            "WEBHOOK_SECRET": "",
            "WEB_HOST": "127.0.0.1",
            "WEB_PORT": str(free_port()),
            "PYTHONUNBUFFERED": "1",
            # The page's "+1 hour" / "+1 day" move the emulator's clock; the bot follows it.
            "SANDBOX_CLOCK": "1",
        }
    )
    return env


def free_port() -> int:
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:
    """Runs in the bot's process before exec (Linux): if the launcher is killed outright, the
    kernel sends the bot SIGTERM instead of leaving it polling a dead emulator."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


class BotProcess:
    """``python -m bot`` in its own session, its output echoed and the last lines kept."""

    def __init__(self, command: Sequence[str], env: dict[str, str]) -> None:
        self.command = list(command)
        self.env = env
        self.process: asyncio.subprocess.Process | None = None
        self.tail: collections.deque[str] = collections.deque(maxlen=LOG_TAIL_LINES)
        self._pump: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *self.command,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            # Its own session: a terminal's Ctrl+C reaches only the launcher, which then stops
            # the bot before the servers it talks to.
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        self._pump = asyncio.create_task(self._echo(self.process.stdout))

    async def _echo(self, stream: asyncio.StreamReader | None) -> None:
        if stream is None:
            return
        while line := await stream.readline():
            text = line.decode("utf-8", errors="replace").rstrip()
            self.tail.append(text)
            print(text, file=sys.stderr, flush=True)

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.returncode

    async def wait(self) -> int:
        assert self.process is not None
        code = await self.process.wait()
        if self._pump is not None:
            # Let the last lines (often the reason it stopped) reach the tail.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._pump), 2.0)
        return code

    async def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.returncode is None:
            # SIGTERM, not SIGINT: aiogram stops polling gracefully on either, and a bot still
            # importing simply ends instead of printing a KeyboardInterrupt traceback.
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.wait(), STOP_TIMEOUT_SECONDS)
            except TimeoutError:
                say("the bot did not stop in time; killing it")
                self.kill()
        code = await self.wait()
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        return code

    def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()


class Sandbox:
    def __init__(self, settings: Settings, bot_command: Sequence[str]) -> None:
        self.settings = settings
        self.bot_command = bot_command
        self.stopping = asyncio.Event()
        self.texts = create_texts(settings.default_locale)
        # A Russian interface gets a Russian display name for the bot, as a deployer would set
        # with @BotFather.
        bot_name = self.texts.t("sandbox.bot_name", locale=settings.default_locale)
        self.emulator = Emulator(host="127.0.0.1", port=0, bot_name=bot_name)
        self.page_runner: web.AppRunner | None = None
        self.bot: BotProcess | None = None
        self.mailbox: Mailbox | None = None

    def request_stop(self, signum: int = signal.SIGINT) -> None:
        """The first SIGINT or SIGTERM stops everything gracefully; only a second Ctrl+C kills.

        A repeated SIGTERM is not impatience: `kill -TERM` of `make run`'s process group reaches
        the launcher twice, once from the kill and once from make passing it on to its child."""
        if not self.stopping.is_set():
            self.stopping.set()
            return
        if signum == signal.SIGINT and self.bot is not None and self.bot.returncode is None:
            say("second Ctrl+C: not waiting for the bot any longer")
            self.bot.kill()

    async def run(self) -> int:
        settings = self.settings
        texts = self.texts
        locale = settings.default_locale
        try:
            people = await asyncio.to_thread(demo_people, settings)
        except RegisterFileError as error:
            raise SandboxError(f"REGISTRY_PATH: {error}") from error
        data_dir = prepare_data_dir(settings.data_dir / "sandbox")
        support_chat_id = settings.support_chat_id or DEFAULT_SUPPORT_CHAT_ID
        config = PageConfig(
            people=people,
            support_chat_id=support_chat_id,
            operators=[
                DemoOperator(user_id, texts.t(key, locale=locale))
                for user_id, key in OPERATOR_NAME_KEYS.items()
            ],
            default_locale=locale,
            timezone=settings.timezone.key,
        )
        try:
            await self.emulator.start()
            populate(self.emulator, config, texts.t("sandbox.support_group_title", locale=locale))
            await self._start_mailbox()
            await self._start_page(config)
            env = bot_environment(data_dir, self.emulator, support_chat_id, self.mailbox)
            self.bot = BotProcess(self.bot_command, env)
            await self.bot.start()
            assert self.bot.process is not None
            say(
                f"starting the bot (pid {self.bot.process.pid}); its data: {data_dir},"
                " wiped at every start"
            )
            if not await self._until_ready():
                return 0  # stopped while starting
            url = page_url(settings.sandbox_host, settings.sandbox_port)
            print(f"\nSandbox ready: open {url} in a browser (Ctrl+C stops it)\n", flush=True)
            return await self._until_done()
        finally:
            await self._shutdown()

    async def _start_mailbox(self) -> None:
        if Mailbox is None:
            say("aiosmtpd is not installed (pip install '.[sandbox]'): no mailbox, no email")
            return
        world = self.emulator.world
        self.mailbox = Mailbox(on_mail=lambda mail: world.events.publish("mail", None, {}))
        await self.mailbox.start()

    async def _start_page(self, config: PageConfig) -> None:
        app = build_page_app(self.emulator, config, self.mailbox)
        self.page_runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self.page_runner.setup()
        host, port = self.settings.sandbox_host, self.settings.sandbox_port
        try:
            await web.TCPSite(self.page_runner, host, port).start()
        except OSError as error:
            raise SandboxError(
                f"cannot serve the page on {host}:{port} ({error.strerror or error});"
                " set SANDBOX_PORT to a free port"
            ) from error

    async def _first_of(self, *aws: asyncio.Future[object]) -> set[asyncio.Future[object]]:
        done, pending = await asyncio.wait(aws, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        return done

    async def _polling(self) -> None:
        # The bot is ready once it starts asking for updates (after getMe and setMyCommands);
        # the emulator wakes this event whenever a getUpdates begins.
        world = self.emulator.world
        while world.polling_generation == 0:
            await world.updates_changed.wait()

    async def _until_ready(self) -> bool:
        assert self.bot is not None
        ready = asyncio.ensure_future(asyncio.wait_for(self._polling(), READY_TIMEOUT_SECONDS))
        died = asyncio.ensure_future(self.bot.wait())
        stop = asyncio.ensure_future(self.stopping.wait())
        done = await self._first_of(ready, died, stop)
        if died in done:
            raise SandboxError(self._death_report())
        if stop in done:
            return False
        if ready.exception() is not None:
            raise SandboxError(f"the bot did not start within {READY_TIMEOUT_SECONDS:.0f} s")
        return True

    async def _until_done(self) -> int:
        assert self.bot is not None
        died = asyncio.ensure_future(self.bot.wait())
        stop = asyncio.ensure_future(self.stopping.wait())
        done = await self._first_of(died, stop)
        if died in done and not self.stopping.is_set():
            raise SandboxError(self._death_report())
        return 0

    def _death_report(self) -> str:
        assert self.bot is not None
        lines = "\n".join(f"  | {line}" for line in self.bot.tail) or "  | (no output)"
        code = self.bot.returncode
        return f"the bot stopped unexpectedly (exit code {code}); its last lines:\n{lines}"

    async def _shutdown(self) -> None:
        if self.bot is not None and self.bot.returncode is None:
            say("stopping the bot")
        if self.bot is not None:
            code = await self.bot.stop()
            # Ended by our SIGTERM before it could handle it (still starting): a normal stop.
            if code not in (0, None, -signal.SIGTERM) and self.stopping.is_set():
                say(f"the bot exited with code {code}")
        if self.mailbox is not None:
            await self.mailbox.stop()
        # The emulator first: closing its event log ends the page's open SSE streams.
        await self.emulator.stop()
        if self.page_runner is not None:
            await self.page_runner.cleanup()


async def _main(settings: Settings, bot_command: Sequence[str]) -> int:
    sandbox = Sandbox(settings, bot_command)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl+C raises instead
            loop.add_signal_handler(signum, sandbox.request_stop, signum)
    try:
        return await sandbox.run()
    except SandboxError as error:
        say(str(error))
        return 1


def run_sandbox(settings: Settings, *, bot_command: Sequence[str] | None = None) -> int:
    """Run the offline sandbox until Ctrl+C; the exit code for ``python -m bot``.

    ``bot_command`` replaces ``python -m bot`` (tests use a stand-in bot)."""
    if settings.bot_token is None:
        say("no BOT_TOKEN set: starting the offline sandbox (set BOT_TOKEN to run the real bot)")
    else:
        say("starting the offline sandbox; the configured BOT_TOKEN is not used")
    command = bot_command or [sys.executable, "-m", "bot"]
    try:
        code = asyncio.run(_main(settings, command))
    except KeyboardInterrupt:
        code = 0
    say("stopped")
    return code
