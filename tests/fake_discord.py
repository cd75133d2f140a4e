"""A fake Discord (REST + gateway) on 127.0.0.1 for the real discord.py client.

discord.py has no setting for its hosts: tests point ``discord.http.Route.BASE`` and
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` here before the client starts (``patch_discord``). JSON answers
carry exactly ``Content-Type: application/json`` (discord.py parses nothing else). Tests play users: ``slash``,
``press``, ``dm``; and read what the bot did in ``calls`` and ``messages``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import yarl
from aiohttp import WSMsgType, web

from tests.fake_server import FakeServer

APP_ID = 555000000000000001
COMPONENTS_V2 = 1 << 15  # the message flag IS_COMPONENTS_V2: components only (container, text, media, rows)
BOT_USER = {"id": str(APP_ID), "username": "minime", "discriminator": "0", "global_name": "minime", "avatar": None,
            "bot": True, "flags": 0}


def walk(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every component of a message, nested ones too (a card's rows sit inside its container)."""
    found = []
    for component in components or []:
        found.append(component)
        found.extend(walk(component.get("components", [])))
    return found


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    """A message's buttons, in order, wherever they sit (a classic row or a Components v2 card)."""
    return [c for c in walk(message.get("components", [])) if c.get("type") == 2]


def text_of(message: dict[str, Any]) -> str:
    """What a message says: its content, or a Components v2 message's text displays."""
    return "\n".join([message.get("content") or "", *(c["content"] for c in walk(message.get("components", []))
                                                        if c.get("type") == 10)]).strip()


def gallery_of(message: dict[str, Any]) -> list[str]:
    """The media URLs a Components v2 message's galleries show (Discord resolves ``attachment://``)."""
    return [item["media"]["url"] for c in walk(message.get("components", [])) if c.get("type") == 12
            for item in c["items"]]


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})


@dataclass
class Call:
    """One REST request the bot made."""

    method: str
    path: str
    payload: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)


class FakeDiscord(FakeServer):
    """The fake server; ``api`` and ``gateway`` are what discord.py is pointed at."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []
        self.messages: dict[int, dict[str, Any]] = {}  # message id -> message
        self.commands: list[dict[str, Any]] = []
        self.attachments: dict[str, bytes] = {}
        self._originals: dict[str, int] = {}  # interaction token -> its original response message
        self._ids = itertools.count(1_000_000)
        self._seq = itertools.count(2)
        self._sockets: list[web.WebSocketResponse] = []
        self._identified = asyncio.Event()
        self.guild_channels: dict[int, int] = {}  # channel id -> guild id
        self.attachment_size_limit = 10 * 1024 * 1024  # what interactions say the bot may upload (a server's boost)

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/gateway/", self._gateway)
        app.router.add_get("/attachments/{id}/{name}", self._attachment)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        await super().stop()

    @property
    def api(self) -> str:
        return f"{self.root}/api/v10"

    @property
    def gateway(self) -> yarl.URL:
        return yarl.URL(self.root.replace("http", "ws") + "/gateway/")

    def snowflake(self) -> int:
        return next(self._ids)

    # ---- users ------------------------------------------------------------------------------------------------------

    @staticmethod
    def user(user_id: int) -> dict[str, Any]:
        return {"id": str(user_id), "username": f"user{user_id}", "discriminator": "0", "global_name": None,
                "avatar": None, "bot": False, "flags": 0}

    def attachment(self, data: bytes, filename: str = "selfie.jpg", content_type: str = "image/jpeg"
                   ) -> dict[str, Any]:
        """Upload a file the way a user's client does; returns the attachment object."""
        attachment_id = str(self.snowflake())
        self.attachments[attachment_id] = data
        url = f"{self.root}/attachments/{attachment_id}/{filename}"
        return {"id": attachment_id, "filename": filename, "size": len(data), "url": url, "proxy_url": url,
                "content_type": content_type}

    async def add_guild(self, guild_id: int, channel_id: int, name: str = "Book club") -> None:
        """The bot joins a server with one text channel: GUILD_CREATE, as the gateway sends it."""
        self.guild_channels[channel_id] = guild_id
        await self._dispatch("GUILD_CREATE", {
            "id": str(guild_id), "name": name, "icon": None, "owner_id": "1", "unavailable": False,
            "member_count": 3, "large": False, "features": [], "emojis": [], "stickers": [], "members": [],
            "voice_states": [], "presences": [], "threads": [], "stage_instances": [], "guild_scheduled_events": [],
            "roles": [{"id": str(guild_id), "name": "@everyone", "permissions": "104324673", "position": 0,
                       "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0}],
            "channels": [{"id": str(channel_id), "type": 0, "name": "general", "position": 0,
                          "permission_overwrites": [], "guild_id": str(guild_id), "nsfw": False}],
            "joined_at": "2026-11-22T12:00:00.000000+00:00", "preferred_locale": "en-US", "premium_tier": 0,
            "system_channel_id": str(channel_id), "verification_level": 0, "default_message_notifications": 0,
            "explicit_content_filter": 0, "mfa_level": 0, "nsfw_level": 0})

    def _member(self, user_id: int) -> dict[str, Any]:
        return {"roles": [], "joined_at": "2026-11-22T12:00:00.000000+00:00", "deaf": False, "mute": False,
                "flags": 0, "nick": None}

    async def post(self, user_id: int, channel_id: int, content: str = "",
                   attachments: list[dict[str, Any]] | None = None, reply_to: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
        """The user writes in a server channel. ``<@bot id>`` in the content mentions the bot (it is then in
        ``mentions``, as Discord lists it); a reply carries ``message_reference`` and ``referenced_message``."""
        mentions = [{**BOT_USER, "member": self._member(APP_ID)}] if f"<@{APP_ID}>" in content else []
        fields: dict[str, Any] = {"content": content, "attachments": attachments or [], "mentions": mentions,
                                  "guild_id": str(self.guild_channels[channel_id]), "member": self._member(user_id)}
        if reply_to:
            fields["message_reference"] = {"message_id": reply_to["id"], "channel_id": reply_to["channel_id"],
                                           "guild_id": fields["guild_id"]}
            fields["referenced_message"] = reply_to
        message = self._message(channel_id, self.user(user_id), **fields)
        await self._dispatch("MESSAGE_CREATE", message)
        return message

    def _message(self, channel_id: int, author: dict[str, Any], **fields: Any) -> dict[str, Any]:
        if channel_id in self.guild_channels:
            fields.setdefault("guild_id", str(self.guild_channels[channel_id]))
        message = {"id": str(self.snowflake()), "channel_id": str(channel_id), "author": author,
                   "content": fields.pop("content", "") or "", "timestamp": "2026-11-22T12:00:00.000000+00:00",
                   "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [],
                   "mention_roles": [], "attachments": [], "embeds": [], "pinned": False, "type": 0, "flags": 0,
                   "components": [], **fields}
        self.messages[int(message["id"])] = message
        return message

    async def _dispatch(self, event: str, data: dict[str, Any]) -> None:
        await asyncio.wait_for(self._identified.wait(), 30)
        payload = json.dumps({"op": 0, "t": event, "s": next(self._seq), "d": data})
        for ws in list(self._sockets):
            await ws.send_str(payload)

    async def slash(self, user_id: int, name: str, options: dict[str, Any] | None = None,
                    attachment: dict[str, Any] | None = None, channel: int | None = None, locale: str = "en-US"
                    ) -> dict[str, Any]:
        """The user runs a slash command in a DM with the bot (or in the server ``channel``), their Discord client
        set to ``locale``; returns the interaction."""
        command = next(c for c in self.commands if c["name"] == name)
        opts, resolved = [], {}
        for option in command.get("options", []):
            if option["name"] in (options or {}):
                opts.append({"name": option["name"], "type": option["type"], "value": options[option["name"]]})
            elif option["type"] == 11 and attachment is not None:
                opts.append({"name": option["name"], "type": 11, "value": attachment["id"]})
                resolved = {"attachments": {attachment["id"]: attachment}}
        data = {"id": command["id"], "name": name, "type": 1, "options": opts}
        if resolved:
            data["resolved"] = resolved
        interaction = self._interaction(user_id, 2, data, locale=locale, **self._in_channel(user_id, channel))
        await self._dispatch("INTERACTION_CREATE", interaction)
        return interaction

    def _in_channel(self, user_id: int, channel: int | None) -> dict[str, Any]:
        """An interaction's place in a server channel: guild, channel and the member instead of the user."""
        if channel is None:
            return {}
        return {"guild_id": str(self.guild_channels[channel]), "channel_id": str(channel),
                "channel": {"id": str(channel), "type": 0, "guild_id": str(self.guild_channels[channel])},
                "member": {**self._member(user_id), "user": self.user(user_id), "permissions": "104324673"},
                "context": 0}

    async def press(self, user_id: int, message: dict[str, Any], label: str, channel: int | None = None
                    ) -> dict[str, Any]:
        """The user presses the button labelled ``label`` on a message; returns the interaction."""
        button = next(c for c in buttons(message) if c.get("label") == label)
        interaction = self._interaction(user_id, 3, {"custom_id": button["custom_id"], "component_type": 2},
                                        message=message, **self._in_channel(user_id, channel))
        await self._dispatch("INTERACTION_CREATE", interaction)
        return interaction

    def _interaction(self, user_id: int, kind: int, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
        interaction = {"id": str(self.snowflake()), "application_id": str(APP_ID), "type": kind, "data": data,
                       "channel_id": str(user_id + 1), "channel": {"id": str(user_id + 1), "type": 1},
                       "user": self.user(user_id), "token": f"tok-{self.snowflake()}", "version": 1,
                       "locale": "en-US", "attachment_size_limit": self.attachment_size_limit, "app_permissions": "0",
                       "entitlements": [], "authorizing_integration_owners": {}, "context": 1, **extra}
        if "member" in extra:  # in a server Discord sends the member (with its user), not a user
            del interaction["user"]
        return interaction

    async def dm(self, user_id: int, content: str = "", attachments: list[dict[str, Any]] | None = None,
                 reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
        """The user writes in their DM channel with the bot (optionally replying to a message)."""
        fields: dict[str, Any] = {"content": content, "attachments": attachments or []}
        if reply_to:
            fields["message_reference"] = {"message_id": reply_to["id"], "channel_id": reply_to["channel_id"]}
            fields["referenced_message"] = reply_to
        message = self._message(user_id + 1, self.user(user_id), **fields)
        await self._dispatch("MESSAGE_CREATE", message)
        return message

    # ---- waiting ----------------------------------------------------------------------------------------------------

    def images_since(self, mark: int) -> list[Call]:
        """Calls since ``mark`` that carried an image file."""
        return [c for c in self.calls[mark:] if c.files]

    async def wait_for_image(self, mark: int, timeout: float = 60.0) -> Call:
        return (await self.wait_for(lambda: self.images_since(mark), timeout))[0]

    # ---- the server -------------------------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                if data["op"] == 1:
                    await ws.send_str(json.dumps({"op": 11}))
                elif data["op"] == 2:
                    ready = {"v": 10, "user": BOT_USER, "guilds": [], "session_id": "fake-session",
                             "resume_gateway_url": str(self.gateway), "application": {"id": str(APP_ID), "flags": 0},
                             "shard": [0, 1], "private_channels": [], "relationships": []}
                    await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": 1, "d": ready}))
                    self._identified.set()
        finally:
            self._sockets.remove(ws)
        return ws

    async def _attachment(self, request: web.Request) -> web.Response:
        data = self.attachments.get(request.match_info["id"])
        return web.Response(body=data) if data is not None else web.Response(status=404)

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        payload: Any = {}
        files: dict[str, bytes] = {}
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            for key, value in form.items():
                if hasattr(value, "file"):
                    files[key] = value.file.read()
                elif key == "payload_json":
                    payload = json.loads(value)
        elif request.can_read_body:
            raw = await request.read()
            payload = json.loads(raw) if raw else {}
        async with self._changed:
            self.calls.append(Call(request.method, path, payload if isinstance(payload, dict) else {"list": payload},
                                   files))
            try:
                response = self._route(request.method, path, payload, files)
            except ValueError as exc:  # what Discord refuses: 400 Invalid Form Body
                response = _json({"message": f"Invalid Form Body: {exc}", "code": 50035}, 400)
            self._changed.notify_all()
        return response

    def _route(self, method: str, path: str, payload: Any, files: dict[str, bytes]) -> web.Response:
        parts = path.strip("/").split("/")
        if path == "/users/@me":
            return _json(BOT_USER)
        if path == "/oauth2/applications/@me":
            return _json({"id": str(APP_ID), "name": "minime", "icon": None, "description": "", "rpc_origins": [],
                          "bot_public": True, "bot_require_code_grant": False, "owner": self.user(1), "summary": "",
                          "verify_key": "0" * 64, "flags": 0, "team": None, "bot": BOT_USER})
        if parts[0] == "applications" and parts[-1] == "commands" and method == "PUT":
            self.commands = [{**c, "id": str(self.snowflake()), "application_id": str(APP_ID), "version": "1",
                              "type": c.get("type", 1), "default_member_permissions": None, "nsfw": False}
                             for c in payload]
            return _json(self.commands)
        if parts[0] == "interactions" and parts[-1] == "callback":
            return self._callback(int(parts[1]), parts[2], payload, files)
        if parts[0] == "webhooks":  # interaction follow-ups and edits: /webhooks/{app}/{token}[/messages/{id}]
            if len(parts) == 3 and method == "POST":
                message = self._message(0, BOT_USER, **self._content(payload, files))
                return _json(message)
            target = parts[4] if len(parts) > 4 else None
            message = self._find(parts[2], target)
            if method == "DELETE":
                return web.Response(status=204)
            if message is None:
                return _json({"message": "Unknown Message", "code": 10008}, 404)
            message.update(self._content(payload, files, message))
            return _json(message)
        if parts[0] == "channels" and parts[-1] == "messages" and method == "POST":
            message = self._message(int(parts[1]), BOT_USER, **self._content(payload, files))
            return _json(message)
        if parts[0] == "channels" and len(parts) == 4 and method == "PATCH":
            message = self.messages.get(int(parts[3]))
            if message is None:
                return _json({"message": "Unknown Message", "code": 10008}, 404)
            message.update(self._content(payload, files, message))
            return _json(message)
        if parts[0] == "channels" and len(parts) == 2:
            return _json({"id": parts[1], "type": 1, "recipients": [], "last_message_id": None})
        return web.Response(status=204)

    def _find(self, token: str, target: str | None) -> dict[str, Any] | None:
        if target == "@original":
            return self.messages.get(self._originals.get(token, 0))
        return self.messages.get(int(target)) if target and target.isdigit() else None

    def _content(self, payload: dict[str, Any], files: dict[str, bytes], old: dict[str, Any] | None = None
                 ) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for key in ("content", "components", "flags", "message_reference"):
            if key in payload:
                fields[key] = payload[key] if payload[key] is not None else ([] if key == "components" else "")
        if files:
            names = [a.get("filename") for a in payload.get("attachments") or []]
            fields["attachments"] = [self.attachment(data, filename=(names[i] if i < len(names) and names[i]
                                                                     else f"file{i}.png"))
                                     for i, data in enumerate(files.values())]
        elif "attachments" in payload and payload["attachments"] == []:
            fields["attachments"] = []
        return self._components_v2({**(old or {}), **fields}, fields)

    @staticmethod
    def _components_v2(merged: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
        """Discord's rules for a Components v2 message: no content or embeds, and each ``attachment://`` of a media
        gallery names a file of the message (Discord then answers with that file's URL). Broken: ValueError."""
        if not (merged.get("flags") or 0) & COMPONENTS_V2:
            return fields
        if merged.get("content") or merged.get("embeds"):
            raise ValueError("a Components v2 message cannot have content or embeds")
        if len(walk(merged.get("components", []))) > 40:
            raise ValueError("a Components v2 message has at most 40 components")
        if len(text_of(merged)) > 4000:
            raise ValueError("a Components v2 message carries at most 4000 characters of text")
        urls = {a["filename"]: a["url"] for a in merged.get("attachments", [])}
        for component in walk(fields.get("components", [])):
            for item in component.get("items", []) if component.get("type") == 12 else []:
                url = item["media"]["url"]
                if url.startswith("attachment://"):
                    if url.removeprefix("attachment://") not in urls:
                        raise ValueError(f"{url} is not an attachment of the message")
                    item["media"] = {**item["media"], "url": urls[url.removeprefix("attachment://")]}
        return fields

    def _callback(self, interaction_id: int, token: str, payload: dict[str, Any], files: dict[str, bytes]
                  ) -> web.Response:
        kind = payload.get("type")
        data = payload.get("data") or {}
        if kind in (4, 5):  # a new message (type 5: "thinking…")
            message = self._message(0, BOT_USER, **self._content(data, files))
        else:  # 6/7: the component's own message is updated
            message = self._message(0, BOT_USER, **self._content(data, files))
        self._originals[token] = int(message["id"])
        return _json({"interaction": {"id": str(interaction_id), "type": 2, "response_message_id": message["id"],
                                      "response_message_loading": kind == 5,
                                      "response_message_ephemeral": bool((data.get("flags") or 0) & 64)},
                      "resource": {"type": kind, "message": message}})


def patch_discord(fake: FakeDiscord) -> None:
    """Point discord.py at the fake (the two hosts it reads)."""
    import discord.gateway
    import discord.http

    discord.http.Route.BASE = fake.api
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = fake.gateway
