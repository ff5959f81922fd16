"""An interactive terminal chat with the bot: no token, no network (everything goes to a FakeBotAPI).

    api = FakeBotAPI(); await api.start()
    people = [api.person(1001, "王督导", started=True), api.person(1002, "李主管", started=True)]
    ... build and start the real Application against api.base_url / api.base_file_url ...
    await run_terminal_chat(api, people)

Input (one line at a time):
    text                send a text message as the current person
    /command args       send a command
    N                   press button N of the latest message that has inline buttons
    :photo PATH [cap]   send a photo          :album PATH PATH...   send an album
    :doc PATH [cap]     send a file           :sticker / :voice / :loc LAT LON / :contact PHONE
    :buttons            show the latest inline keyboard again
    :history            show the current state of the last bot messages
    :who                list people           :who N      switch to person N (index or user id)
    :help               this help             :quit       leave (EOF works too)
    \\text               send text literally (e.g. "\\:photo" or "\\3")

Bot messages are shown as the person would see them (HTML tags / Markdown markers parsed away exactly
as Telegram parses them, so a message sent without parse_mode shows its tags literally, as in Telegram;
buttons numbered [1]
[2] ...); edits, deletions, callback answers (toast / alert) and failing Bot API calls are shown too.
A message for another person (a reminder for staff while the admin types) is shown when it arrives,
headed "→ for NAME (:who N)"; a group's message "@ TITLE".
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import queue
import shlex
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .driver import Person

if TYPE_CHECKING:
    from .botapi import FakeBotAPI
    from .models import BotMessage, ChatEvent

__all__ = ["run_terminal_chat"]

HELP = (__doc__ or "").split("Input (one line at a time):", 1)[-1].split("Bot messages are shown", 1)[0].rstrip()


class _LineReader:
    """Reads lines from a (blocking) stream in a daemon thread, one line per request, so the event loop
    never blocks and nothing is read ahead (Ctrl-C / :quit leave no executor thread to wait for)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._requests: queue.SimpleQueue[tuple[asyncio.AbstractEventLoop, asyncio.Future[str]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    async def readline(self) -> str:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[str] = loop.create_future()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="terminal-stdin", daemon=True)
            self._thread.start()
        self._requests.put((loop, fut))
        return await fut

    def _run(self) -> None:
        while True:
            loop, fut = self._requests.get()
            try:
                line = self._stream.readline()
            except (OSError, ValueError):
                line = ""
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_set_line, fut, line)


def _set_line(fut: asyncio.Future[str], line: str) -> None:
    if not fut.done():
        fut.set_result(line)


def _size(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KB" if n < 1024 * 1024 else f"{n / 1048576:.1f} MB"


class _Terminal:
    def __init__(self, api: FakeBotAPI, people: list[Person], stdin: TextIO, stdout: TextIO, settle: float) -> None:
        self.api = api
        self.people = people
        self.current = 0
        self.out = stdout
        self.reader = _LineReader(stdin)
        self.settle = settle
        self.seq = 0
        self.answers_seen = 0
        self.errors_seen = len(api.errors(include_injected=True))
        self.names = {p.chat_id: p.first_name for p in people}
        self.reading = False
        isatty = getattr(stdin, "isatty", None)
        self.echo_input = not (callable(isatty) and isatty())  # scripted input: echo it, transcript-like

    @property
    def person(self) -> Person:
        return self.people[self.current]

    def write(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def prompt(self) -> None:
        self.out.write(f"{self.person.first_name}> ")
        self.out.flush()

    # -- display ---------------------------------------------------------------------------------

    def chat_name(self, chat_id: int) -> str:
        if chat_id in self.names:
            return self.names[chat_id]
        with self.api._lock:
            chat = self.api._chats.get(chat_id)
            return str(chat.chat.get("title", chat_id)) if chat else str(chat_id)

    def render(self, message: BotMessage, header: str) -> list[str]:
        lines = [header]
        if message.photo:
            biggest = message.photo[-1]
            lines.append(f"  [photo {biggest['width']}x{biggest['height']}, {_size(biggest.get('file_size', 0))}]")
        if message.document:
            doc = message.document
            lines.append(
                f"  [document {doc.get('file_name', '?')} ({doc.get('mime_type', '?')}), "
                f"{_size(doc.get('file_size', 0))}]"
            )
        if message.kind not in ("text", "photo", "document"):
            lines.append(f"  [{message.kind}]")
        text = message.content  # already parsed like Telegram does (HTML tags / Markdown markers removed)
        for line in text.splitlines() or ([""] if message.kind == "text" else []):
            lines.append(f"  {line}")
        number = 1
        for row in message.button_rows:
            cells = []
            for label in row:
                cells.append(f"[{number}] {label}")
                number += 1
            lines.append("    " + "   ".join(cells))
        if message.keyboard_labels:
            lines.append("  keyboard: " + "  ".join(f"({label})" for row in message.keyboard_labels for label in row))
        return lines

    def recipient(self, chat_id: int) -> str:
        """Where a message went, when not to the person typing: another person is named with the
        ``:who`` number that answers as them (a reminder for staff while the admin types); a group
        by its title."""
        if chat_id == self.person.chat_id:
            return ""
        index = next((i for i, p in enumerate(self.people, 1) if p.chat_id == chat_id), None)
        if index is not None:
            return f" → for {self.people[index - 1].first_name} (:who {index})"
        return f" @ {self.chat_name(chat_id)}"

    def describe(self, event: ChatEvent) -> list[str]:
        message = event.message
        where = self.recipient(event.chat_id)
        if event.kind == "deleted":
            return [f"[bot deleted message #{message.message_id}{where}]"]
        label = "bot (edited)" if event.kind == "edited" else "bot"
        return self.render(message, f"[{label} #{message.message_id}{where}]")

    def has_news(self) -> bool:
        return bool(
            self.api.events_since(self.seq)
            or len(self.api.callback_answers) > self.answers_seen
            or len(self.api.errors(include_injected=True)) > self.errors_seen
        )

    def flush(self) -> bool:
        """Print everything new; True if something was printed."""
        printed = False
        for event in self.api.events_since(self.seq):
            self.seq = event.seq
            for line in self.describe(event):
                self.write(line)
            printed = True
        answers = self.api.callback_answers
        for answer in answers[self.answers_seen :]:
            if answer.text:
                self.write(f"[{'alert' if answer.show_alert else 'toast'}] {answer.text}")
                printed = True
        self.answers_seen = len(answers)
        errors = self.api.errors(include_injected=True)
        for err in errors[self.errors_seen :]:
            self.write(f"[bot api error] {err.method} -> {err.status} {err.description}")
            printed = True
        self.errors_seen = len(errors)
        return printed

    def show_people(self) -> None:
        for index, person in enumerate(self.people, 1):
            mark = "  <- you" if index - 1 == self.current else ""
            lang = person.language_code or "-"
            self.write(f"  [{index}] {person.first_name} (id {person.user_id}, {lang}){mark}")

    # -- actions ---------------------------------------------------------------------------------

    async def handle(self, line: str) -> bool:
        """Run one input line; False = quit."""
        person = self.person
        if line.startswith("\\"):
            await person.send_text(line[1:])
            return True
        if line.startswith(":"):
            return await self.command(line)
        if line.isdigit():
            message = next((m for m in reversed(person.messages) if m.buttons), None)
            if message is None:
                self.write("! no message with buttons")
                return True
            buttons = message.inline_buttons
            index = int(line)
            if not 1 <= index <= len(buttons):
                self.write(f"! choose 1..{len(buttons)}")
                return True
            button = buttons[index - 1]
            if "callback_data" not in button:
                self.write(f"! [{index}] {button.get('text')} is not a callback button: {button}")
                return True
            self.write(f"(pressed [{index}] {button.get('text')})")
            await person.press_data(str(button["callback_data"]), message.message_id)
            return True
        if line.startswith("/"):
            command, _, payload = line[1:].partition(" ")
            await person.send_command(command, payload.strip() or None)
            return True
        await person.send_text(line)
        return True

    async def command(self, line: str) -> bool:
        try:
            parts = shlex.split(line[1:])
        except ValueError:
            parts = line[1:].split()
        if not parts:
            self.write(HELP)
            return True
        name, args = parts[0].lower(), parts[1:]
        person = self.person
        if name in ("quit", "q", "exit"):
            return False
        if name in ("help", "h", "?"):
            self.write(HELP)
        elif name == "who":
            if not args:
                self.show_people()
            else:
                self.switch(args[0])
        elif name == "photo" and args:
            await person.send_photo(_load(args[0])[1], " ".join(args[1:]) or None)
        elif name == "album" and len(args) >= 2:
            await person.send_album([_load(a)[1] for a in args])
        elif name in ("doc", "document") and args:
            file_name, data = _load(args[0])
            await person.send_document(data, file_name, _guess_mime(file_name), " ".join(args[1:]) or None)
        elif name == "sticker":
            await person.send_sticker(args[0] if args else "👍")
        elif name == "voice":
            await person.send_voice()
        elif name in ("loc", "location") and len(args) == 2:
            await person.send_location(float(args[0]), float(args[1]))
        elif name == "contact" and args:
            await person.send_contact(args[0])
        elif name == "buttons":
            message = next((m for m in reversed(person.messages) if m.buttons), None)
            for out in self.render(message, f"[bot #{message.message_id}]") if message else ["(no buttons)"]:
                self.write(out)
        elif name == "history":
            for message in person.messages[-10:]:
                for out in self.render(message, f"[bot #{message.message_id}{' (edited)' if message.edited else ''}]"):
                    self.write(out)
        else:
            self.write(f"! unknown or incomplete command {line!r}; :help lists them")
        return True

    def switch(self, arg: str) -> None:
        target = None
        if arg.isdigit() or (arg.startswith("-") and arg[1:].isdigit()):
            number = int(arg)
            if 1 <= number <= len(self.people):
                target = number - 1
            else:
                target = next((i for i, p in enumerate(self.people) if p.user_id == number), None)
        else:
            target = next((i for i, p in enumerate(self.people) if p.first_name == arg), None)
        if target is None:
            self.write(f"! no person {arg!r}")
            self.show_people()
            return
        self.current = target
        self.write(f"(you are now {self.person.first_name}, id {self.person.user_id})")

    async def settle_down(self) -> None:
        with contextlib.suppress(AssertionError):
            await self.api.idle(timeout=self.settle, quiet=0.1)
        self.flush()

    async def printer(self) -> None:
        """Show messages the bot sends on its own (reminders, jobs) while waiting for input."""
        while True:
            await self.api.changed(1.0)
            await asyncio.sleep(0.05)
            if self.reading and self.has_news():  # while an action runs, run() prints its results itself
                self.write()
                self.flush()
                self.prompt()

    async def run(self) -> None:
        self.write("Terminal chat with the bot (offline). :help for commands, :quit to leave.")
        self.show_people()
        self.flush()
        printer = asyncio.create_task(self.printer())
        try:
            while True:
                self.prompt()
                self.reading = True
                try:
                    raw = await self.reader.readline()
                finally:
                    self.reading = False
                if self.echo_input:
                    self.out.write(raw if raw.endswith("\n") or not raw else raw + "\n")
                if not raw:
                    self.write("")
                    break
                line = raw.strip()
                if not line:
                    continue
                try:
                    keep_going = await self.handle(line)
                except (OSError, ValueError, AssertionError) as exc:
                    self.write(f"! {exc}")
                    continue
                if not keep_going:
                    break
                await self.settle_down()
        finally:
            printer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await printer
            self.flush()


def _guess_mime(file_name: str) -> str:
    return mimetypes.guess_type(file_name)[0] or "application/octet-stream"


def _load(arg: str) -> tuple[str, bytes]:
    """(file name, content) of a path typed by the user (``~`` expanded)."""
    path = Path(arg).expanduser()
    return path.name, path.read_bytes()


async def run_terminal_chat(
    api: FakeBotAPI,
    people: list[Person],
    stdin: TextIO | Any = sys.stdin,
    stdout: TextIO | Any = sys.stdout,
    *,
    settle: float = 3.0,
) -> None:
    """Chat with the bot in a terminal as one of `people` (switch with ``:who N``).

    The bot must already be running against `api`. After each input the terminal waits (up to
    `settle` seconds) until the bot is idle, then prints what it did. Returns on ``:quit`` or EOF.
    """
    if not people:
        raise ValueError("run_terminal_chat needs at least one person")
    await _Terminal(api, list(people), stdin, stdout, settle).run()
