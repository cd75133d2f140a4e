"""Who may use minime, and how much: the operator's allow and deny lists, admins' blocks, daily quotas and /admin."""

from __future__ import annotations

from minime.core import texts
from minime.core.admin import parse_admin
from minime.core.domain import JobState, UserKey
from minime.core.errors import AdminOnly, NotAllowed
from minime.core.logs import get_logger
from minime.core.quotas import (
    Allowance,
    Quota,
    chat_subject,
    left,
    member_share,
    member_subject,
    seconds_until_reset,
    user_subject,
)
from minime.core.settings import Settings
from minime.core.store import Store

log = get_logger("minime.access")


class Access:
    """Admission, the daily allowance of users and group chats, and the /admin command of MINIME_ADMINS."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store, self.settings = store, settings

    def is_admin(self, user: UserKey) -> bool:
        """Whether the user is one of MINIME_ADMINS."""
        return str(user) in self.settings.admins

    async def admit(self, user: UserKey, *, blocked: bool | None = None) -> None:
        """Raise NotAllowed for users outside the allow list, on the deny list, or blocked with /admin (``blocked``:
        already read with the session; None: look it up)."""
        key = str(user)
        if key in self.settings.deny_users or (self.settings.allow_users and key not in self.settings.allow_users) \
                or (blocked if blocked is not None else await self.store.is_blocked(user)):
            log.info("user not admitted", user=key)
            raise NotAllowed()

    def quotas(self, user: UserKey, chat: str | None) -> tuple[Quota, ...]:
        """The daily counts a new render takes (admins are not limited by their own quota, only counted)."""
        own = 0 if self.is_admin(user) else self.settings.daily_quota
        quotas = [Quota("user", user_subject(user), own)]
        if chat:
            quotas.append(Quota("chat", chat_subject(chat), self.settings.chat_daily_quota))
            share = 0 if self.is_admin(user) else self._share()
            if share:  # the member's part of the group's day; grants to the group or the member raise it
                quotas.append(Quota("member", member_subject(chat, user), share,
                                    lifted_by=(chat_subject(chat), user_subject(user))))
        return tuple(quotas)

    def _share(self) -> int:
        return member_share(self.settings.chat_daily_quota, self.settings.chat_member_share)

    async def allowance(self, user: UserKey, chat: str | None = None, now: float | None = None) -> Allowance:
        """Images the user (and the group chat ``chat``) may still get today; None where unlimited."""
        now = now or self.store.clock()
        own = 0 if self.is_admin(user) else self.settings.daily_quota
        images_left = left(own, *await self.store.usage_of(user_subject(user), now))
        chat_left = left(self.settings.chat_daily_quota, *await self.store.usage_of(chat_subject(chat), now)) \
            if chat else None
        share_left = None
        if chat and self._share() and not self.is_admin(user) and chat_left is not None:
            images, _ = await self.store.usage_of(member_subject(chat, user), now)
            lifted = (await self.store.usage_of(chat_subject(chat), now))[1] + \
                (await self.store.usage_of(user_subject(user), now))[1]
            share_left = min(left(self._share(), images, lifted) or 0, chat_left)  # never more than the group has
        return Allowance(images_left, chat_left, seconds_until_reset(now), share_left)

    async def admin(self, user: UserKey, text: str | None = None) -> str:
        """/admin for MINIME_ADMINS: today's usage, ``grant platform:id N``, ``block platform:id``, ``unblock …``.

        Raises AdminOnly for anyone else (its message tells nothing about the command).
        """
        if not self.is_admin(user):
            log.info("admin command refused", user=str(user))
            raise AdminOnly()
        command = parse_admin(text)
        log.info("admin command", user=str(user), action=command.action,
                 target=str(command.target) if command.target else None)
        if command.action == "usage":
            return texts.admin_usage_text(await self.store.day_usage(), await self.store.count_jobs(JobState.QUEUED),
                                          await self.store.count_jobs(JobState.RUNNING), self.settings)
        target = command.target
        assert target is not None
        if command.action == "grant":
            if await self._is_chat(target):
                await self.store.grant(chat_subject(str(target)), command.images)
                return texts.granted_text(target, command.images, await self.allowance(target, str(target)),
                                          chat=True)
            await self.store.grant(user_subject(target), command.images)
            return texts.granted_text(target, command.images, await self.allowance(target))
        if command.action == "block":
            return texts.blocked_text(target, await self.store.block(target, by=user))
        return texts.unblocked_text(target, await self.store.unblock(target), str(target) in self.settings.deny_users)

    async def _is_chat(self, target: UserKey) -> bool:
        """Whether an admin's ``platform:id`` names a group chat or channel rather than a user: Telegram's group ids
        are negative; otherwise a chat minime was asked in (Discord's channel and user ids never collide)."""
        if target.platform == "telegram" and target.user_id.startswith("-"):
            return True
        return await self.store.knows_chat(str(target))
