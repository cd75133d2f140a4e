"""A fake Telegram Bot API server on 127.0.0.1 (aiohttp), speaking enough of the API for python-telegram-bot.

Tests play the user: ``send_photo``, ``send_text``, ``press``; and read what the bot did in ``calls``. Failures can be
injected per method (``fail_next``) to see the bot cope with 429 and 5xx answers.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fake_server import FakeServer

BOT = {"id": 424242, "is_bot": True, "first_name": "minime", "username": "minime_test_bot", "can_join_groups": True,
       "can_read_all_group_messages": False, "supports_inline_queries": False}
JSON_FIELDS = {"reply_markup", "reply_parameters", "commands", "allowed_updates", "chat_id", "message_id", "offset",
               "timeout", "limit", "show_alert", "ephemeral_message_parameters"}


@dataclass
class Call:
    """One Bot API request the bot made."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    result: Any = None
    at: float = field(default_factory=time.perf_counter)
    filenames: dict[str, str] = field(default_factory=dict)  # the uploaded files' names, by field


class FakeTelegram(FakeServer):
    """The fake server; ``root`` goes into MINIME_TELEGRAM_API_ROOT."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.calls: list[Call] = []
        self.files: dict[str, bytes] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._file_ids = itertools.count(1)
        self._failures: dict[str, list[int]] = {}
        self.groups: dict[int, dict[str, Any]] = {}
        self._refusing: dict[str, tuple[float, int]] = {}
        self._reachable = asyncio.Event()
        self._reachable.set()
        self.languages: dict[int, str | None] = {}  # a user's Telegram app language (language_code), "en" if unset
        self.ephemeral_refused = False  # True: sendMessage with ephemeral_message_parameters answers 400
        self.ephemeral: list[dict[str, Any]] = []  # ephemeral messages sent (each seen by its receiver only)
        self._ephemeral_ids = itertools.count(1)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)

    # ---- what users do ---------------------------------------------------------------------------------------------

    def fail_next(self, method: str, *statuses: int) -> None:
        """Answer the next calls of ``method`` with these HTTP statuses (429 carries retry_after=1)."""
        self._failures.setdefault(method, []).extend(statuses)

    def cut_off(self) -> None:
        """A network partition: every API request hangs, unanswered, until ``reconnect``."""
        self._reachable.clear()

    def reconnect(self) -> None:
        """The network is back: hanging requests are answered."""
        self._reachable.set()

    def refuse_for(self, method: str, seconds: float, status: int = 500) -> None:
        """Answer every call of ``method`` with ``status`` for the next ``seconds`` (an outage of one endpoint)."""
        self._refusing[method] = (time.monotonic() + seconds, status)

    def _user(self, user_id: int) -> dict[str, Any]:
        user = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
        language = self.languages.get(user_id, "en")
        return {**user, "language_code": language} if language else user

    def _chat(self, chat_id: int) -> dict[str, Any]:
        if chat_id in self.groups:
            return self.groups[chat_id]
        return {"id": chat_id, "type": "private", "first_name": f"User{chat_id}"}

    def add_group(self, chat_id: int = -1001234567890, title: str = "Friends", *, supergroup: bool = True
                  ) -> dict[str, Any]:
        """A group chat (supergroups have ids like -100…); messages sent with ``chat=`` go there."""
        self.groups[chat_id] = {"id": chat_id, "type": "supergroup" if supergroup else "group", "title": title}
        return self.groups[chat_id]

    async def add_bot_to(self, chat_id: int, by_user: int) -> dict[str, Any]:
        """A member adds the bot to a group: Telegram sends the bot a my_chat_member update."""
        now = int(time.time())
        return await self._push({"my_chat_member": {
            "chat": self._chat(chat_id), "from": self._user(by_user), "date": now,
            "old_chat_member": {"status": "left", "user": BOT},
            "new_chat_member": {"status": "member", "user": BOT}}})

    def _new_message(self, user_id: int, chat: int | None = None, **content: Any) -> dict[str, Any]:
        chat_id = user_id if chat is None else chat
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": self._chat(chat_id),
                   "from": self._user(user_id), **content}
        self.messages[(chat_id, message["message_id"])] = message
        return message

    @staticmethod
    def _entities(text: str) -> list[dict[str, Any]]:
        """What Telegram marks in a text or caption: a leading /command (with its @botname) and @mentions.
        Offsets and lengths count UTF-16 code units, as Telegram's do."""
        def units(part: str) -> int:
            return len(part.encode("utf-16-le")) // 2

        found, offset = [], 0
        for i, word in enumerate(text.split(" ")):
            if i == 0 and word.startswith("/") and len(word) > 1:
                found.append({"type": "bot_command", "offset": 0, "length": units(word)})
            elif word.startswith("@") and len(word) > 1:
                found.append({"type": "mention", "offset": offset, "length": units(word.rstrip(",.!?"))})
            offset += units(word) + 1
        return found

    @staticmethod
    def _quoted(message: dict[str, Any]) -> dict[str, Any]:
        """A replied-to message as Telegram includes it: without its own reply_to_message."""
        return {k: v for k, v in message.items() if k != "reply_to_message"}

    async def _push(self, update: dict[str, Any]) -> dict[str, Any]:
        update["update_id"] = next(self._update_ids)
        async with self._changed:
            self._updates.append(update)
            self._changed.notify_all()
        return update

    def add_file(self, data: bytes) -> str:
        """Put a file on the server; return its file_id."""
        file_id = f"file-{next(self._file_ids)}"
        self.files[file_id] = data
        return file_id

    async def send_photo(self, user_id: int, data: bytes, *, as_document: bool = False, mime: str = "image/jpeg",
                         filename: str = "selfie.jpg", caption: str | None = None, chat: int | None = None,
                         reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
        """The user sends a picture (compressed photo, or a file), in a private chat or the group ``chat``."""
        file_id = self.add_file(data)
        if as_document:
            content = {"document": {"file_id": file_id, "file_unique_id": file_id, "file_name": filename,
                                    "mime_type": mime, "file_size": len(data)}}
        else:
            content = {"photo": [{"file_id": f"{file_id}", "file_unique_id": file_id, "width": 512, "height": 512,
                                  "file_size": len(data)}]}
        if caption:
            content["caption"] = caption
            if entities := self._entities(caption):
                content["caption_entities"] = entities
        if reply_to:
            content["reply_to_message"] = self._quoted(reply_to)
        message = self._new_message(user_id, chat, **content)
        await self._push({"message": message})
        return message

    async def send_text(self, user_id: int, text: str, *, reply_to: dict[str, Any] | None = None,
                        chat: int | None = None) -> dict[str, Any]:
        """The user types text (a command when it starts with '/'), optionally replying to a message, in a private
        chat or the group ``chat``."""
        content: dict[str, Any] = {"text": text}
        if entities := self._entities(text):
            content["entities"] = entities
        if reply_to:
            content["reply_to_message"] = self._quoted(reply_to)
        message = self._new_message(user_id, chat, **content)
        await self._push({"message": message})
        return message

    async def edit(self, message: dict[str, Any], text: str) -> dict[str, Any]:
        """The user edits a text message they sent: Telegram sends an edited_message update."""
        edited = {**message, "text": text, "edit_date": int(time.time())}
        if entities := self._entities(text):
            edited["entities"] = entities
        await self._push({"edited_message": edited})
        return edited

    async def press(self, user_id: int, message: dict[str, Any], data: str) -> str:
        """The user taps an inline button of a bot message; returns the callback query id."""
        query_id = f"cb-{next(self._update_ids)}"
        await self._push({"callback_query": {"id": query_id, "from": self._user(user_id), "message": message,
                                             "chat_instance": "1", "data": data}})
        return query_id

    # ---- what the bot did ------------------------------------------------------------------------------------------

    def sent(self, method: str, chat_id: int | None = None) -> list[Call]:
        """Calls of a method (to a chat)."""
        return [c for c in self.calls if c.method == method and (chat_id is None or c.params.get("chat_id") == chat_id)]

    async def wait_for_call(self, method: str, chat_id: int, after: int = 0, timeout: float = 60.0) -> Call:
        """The first call of ``method`` to ``chat_id`` made after ``after`` calls in total."""
        def find() -> Call | None:
            return next((c for c in self.calls[after:] if c.method == method and c.params.get("chat_id") == chat_id),
                        None)
        return await self.wait_for(find, timeout)

    # ---- the API ---------------------------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params, files, filenames = {}, {}, {}
        if request.can_read_body:
            form = await request.post()
            for key, value in form.items():
                if hasattr(value, "file"):
                    files[key] = value.file.read()
                    filenames[key] = value.filename
                elif key in JSON_FIELDS:
                    try:
                        params[key] = json.loads(value)
                    except ValueError:
                        params[key] = value
                else:
                    params[key] = value
        await self._reachable.wait()
        failures = self._failures.get(method)
        refusing_until, refusing_status = self._refusing.get(method, (0.0, 0))
        if failures or time.monotonic() < refusing_until:
            status = failures.pop(0) if failures else refusing_status
            self.calls.append(Call(method, params, files, result=f"HTTP {status}"))
            if status == 429:
                return web.json_response({"ok": False, "error_code": 429, "description": "Too Many Requests: retry "
                                          "after 1", "parameters": {"retry_after": 1}}, status=429)
            return web.Response(status=status, text="Bad Gateway")
        if method == "getUpdates":
            return web.json_response({"ok": True, "result": await self._get_updates(params)})
        if "ephemeral_message_parameters" in params and self.ephemeral_refused:
            async with self._changed:
                self.calls.append(Call(method, params, files, result="HTTP 400"))
                self._changed.notify_all()
            return web.json_response({"ok": False, "error_code": 400, "description": "Bad Request: "
                                      "ephemeral messages can't be sent to this chat"}, status=400)
        result = self._handle(method, params, files)
        async with self._changed:
            self.calls.append(Call(method, params, files, result, filenames=filenames))
            self._changed.notify_all()
        return web.json_response({"ok": True, "result": result})

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        async with self._changed:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            if not self._updates and timeout:
                try:
                    await asyncio.wait_for(self._changed.wait_for(lambda: bool(self._updates)), min(timeout, 2.0))
                except TimeoutError:
                    pass
            return list(self._updates)

    def _bot_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "from": BOT,
                   "chat": self._chat(chat_id), **content}
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def _handle(self, method: str, p: dict[str, Any], files: dict[str, bytes]) -> Any:
        markup = {"reply_markup": p["reply_markup"]} if isinstance(p.get("reply_markup"), dict) else {}
        quoted = p.get("reply_parameters") if isinstance(p.get("reply_parameters"), dict) else {}
        answered = self.messages.get((int(p.get("chat_id") or 0), int(quoted.get("message_id") or 0)))
        if answered:  # the bot's message quotes the one it answers, as Telegram shows it
            markup = {**markup, "reply_to_message": self._quoted(answered)}
        if method == "getMe":
            return BOT
        if method == "sendMessage" and isinstance(p.get("ephemeral_message_parameters"), dict):
            # Bot API 10.2: shown to receiver_user_id only, not part of the chat's history
            receiver = int(p["ephemeral_message_parameters"]["receiver_user_id"])
            message = {"message_id": 0, "ephemeral_message_id": next(self._ephemeral_ids), "date": int(time.time()),
                       "from": BOT, "chat": self._chat(int(p["chat_id"])), "receiver_user": self._user(receiver),
                       "text": p["text"], **markup}
            self.ephemeral.append(message)
            return message
        if method == "sendMessage":
            return self._bot_message(int(p["chat_id"]), text=p["text"], **markup)
        if method == "editMessageText":
            message = self.messages.get((int(p["chat_id"]), int(p["message_id"])))
            if message is None:
                return True
            message.update(text=p["text"], edit_date=int(time.time()))
            message.pop("reply_markup", None)  # an edit without reply_markup removes the inline keyboard
            message.update({k: v for k, v in markup.items() if k == "reply_markup"})
            return message
        if method in ("sendPhoto", "sendDocument", "sendAnimation"):
            field_name = {"sendPhoto": "photo", "sendDocument": "document", "sendAnimation": "animation"}[method]
            data = files.get(field_name) or self.files.get(str(p.get(field_name)), b"")
            file_id = self.add_file(data)
            media = ([{"file_id": file_id, "file_unique_id": file_id, "width": 1024, "height": 1280,
                       "file_size": len(data)}] if field_name == "photo" else
                     {"file_id": file_id, "file_unique_id": file_id, "file_size": len(data),
                     **({"width": 512, "height": 512, "duration": 4} if field_name == "animation" else {})})
            extra = {"caption": p["caption"]} if p.get("caption") else {}
            return self._bot_message(int(p["chat_id"]), **{field_name: media}, **extra, **markup)
        if method == "getFile":
            data = self.files.get(p["file_id"])
            if data is None:
                return None
            return {"file_id": p["file_id"], "file_unique_id": p["file_id"], "file_size": len(data),
                    "file_path": f"photos/{p['file_id']}.jpg"}
        return True  # setMyCommands, sendChatAction, deleteMessage, answerCallbackQuery, deleteWebhook, …

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        file_id = request.match_info["path"].split("/")[-1].removesuffix(".jpg")
        data = self.files.get(file_id)
        return web.Response(body=data) if data is not None else web.Response(status=404)
