"""Telegram handlers: short translations from updates to Studio calls. Registered in app.build_application."""

from __future__ import annotations

from telegram import CallbackQuery, Chat, ChatMember, Document, InputFile, Message, ReplyParameters, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from minime.bots.telegram_bot import groups
from minime.bots.telegram_bot.address import TelegramReply
from minime.bots.telegram_bot.delivery import chat_action, send_figure_file, with_retries
from minime.bots.telegram_bot.keyboards import forget_keyboard, parse, result_id_of, result_keyboard, themes_keyboard
from minime.bots.telegram_bot.limits import DOWNLOAD_MAX_BYTES, FILE_MAX_BYTES, PHOTO_MAX_BYTES, PLATFORM
from minime.bots.telegram_bot.private import PrivateReplies
from minime.core import i18n, texts
from minime.core.buttons import ANOTHER_THEME, BUTTONS, TURNTABLE
from minime.core.domain import UserKey
from minime.core.errors import (
    ArgumentRequired,
    FigureBusy,
    ImageTooLarge,
    MinimeError,
    NoSelfie,
    NothingToCancel,
    NotYourJob,
    NotYours,
    UnsupportedImage,
)
from minime.core.i18n import gettext as _
from minime.core.intake import encode_for_platform, looks_like_image
from minime.core.logs import get_logger
from minime.core.settings import Settings
from minime.core.studio import Studio, Undone

log = get_logger("minime.telegram")


def _studio(context: ContextTypes.DEFAULT_TYPE) -> Studio:
    return context.bot_data["studio"]


def _user(update: Update) -> UserKey:
    return UserKey(PLATFORM, str(update.effective_user.id))


def _chat(update: Update) -> str | None:
    """The group chat a message came from (``telegram:<id>``, for its quota); None in a private chat."""
    chat = update.effective_chat
    return f"{PLATFORM}:{chat.id}" if chat and chat.type in (Chat.GROUP, Chat.SUPERGROUP) else None


def _reply_to(message: Message, status: Message | None = None) -> dict[str, object]:
    return TelegramReply.to(message, status).as_dict()


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Before every handler: answer this update in its sender's language (Telegram's ``language_code``)."""
    user = update.effective_user
    i18n.use(user.language_code if user else None)


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, status: Message | None = None
                  ) -> None:
    """Answer the asker: in a group only them (an ephemeral message, else a quiet reply; the status line goes); in a
    private chat the status line edited, or a reply."""
    message = update.message
    if groups.is_group(message):
        if status is not None:
            try:
                await status.delete()
            except BadRequest:
                pass
        private: PrivateReplies = context.bot_data["private"]
        await private.tell(message.chat_id, update.effective_user.id, text, reply_to=message.message_id)
    elif status is not None:
        await status.edit_text(text)
    else:
        await message.reply_text(text)


async def _refuse(update: Update, context: ContextTypes.DEFAULT_TYPE, exc: MinimeError, status: Message) -> None:
    """A request that cannot run: a question (which selfie, which name) stays in the group for its reply; anything
    else (a quota, an error) goes to the asker alone."""
    if groups.is_group(update.message) and isinstance(exc, (NoSelfie, ArgumentRequired)):
        await status.edit_text(exc.user_message + texts.group_hint(exc))
    else:
        await _answer(update, context, exc.user_message, status)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start and /help: what minime does and how to use it."""
    studio = _studio(context)
    await update.message.reply_text(texts.help_text(studio.themes(), studio.settings))


async def privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/privacy: what is kept, and for how long."""
    settings: Settings = context.bot_data["settings"]
    await update.message.reply_text(texts.privacy_text(settings))


async def themes(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/themes: the gallery picture and a button per theme."""
    studio = _studio(context)
    await update.message.reply_chat_action("upload_photo")
    await update.message.reply_photo(InputFile(await studio.gallery(), filename="minime-themes.png"),
                                     caption=_("Every look I make. Tap one (send a selfie first)."),
                                     reply_markup=themes_keyboard(studio.themes()))


async def theme_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A theme command: /figurine MyName, /retro 80s, /polaroid Summer '25, /popart (also /figurine@bot Ada)."""
    command = update.message.text.split()[0].lstrip("/").split("@")[0]
    status = await update.message.reply_text(_(texts.ON_IT))
    try:
        await _studio(context).apply_theme(_user(update), command, " ".join(context.args) or None,
                                           reply_to=_reply_to(update.message, status), chat=_chat(update))
    except MinimeError as exc:
        await _refuse(update, context, exc, status)


async def photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A selfie sent as a compressed photo; with a command as its caption, the selfie and that request at once."""
    if await _for_me(update, context):
        largest = update.message.photo[-1]
        await _take_selfie(update, context, largest.file_id, largest.file_size)


async def document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A selfie sent as a file (uncompressed, PNG, HEIC); anything else gets a friendly refusal."""
    if not await _for_me(update, context):
        return
    doc = update.message.document
    if not _is_image_document(doc):
        await update.message.reply_text(UnsupportedImage.user_message)
        return
    await _take_selfie(update, context, doc.file_id, doc.file_size)


async def _for_me(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Whether a picture is minime's to take: always in a private chat; in a group when its caption is a command
    for minime, when it replies to or mentions minime, or when its sender was asked for a selfie."""
    message = update.message
    if not groups.is_group(message) or groups.replies_to_bot(message) or groups.mentions_bot(message):
        return True
    request = groups.split_command(message, message.caption or "")
    if request and (request[0] in _studio(context).theme_command_names() or "@" in (message.caption or "").split()[0]):
        return True
    return await _studio(context).waiting_for(_user(update)) == "selfie"


async def _take_selfie(update: Update, context: ContextTypes.DEFAULT_TYPE, file_id: str, size: int | None) -> None:
    if size and size > DOWNLOAD_MAX_BYTES:
        await update.message.reply_text(ImageTooLarge(_("That file is {mb} MB; I can only fetch files up to 20 MB "
                                                        "from Telegram. Please send a smaller one.").format(
                                                          mb=f"{size / 1e6:.0f}"))
                                        .user_message)
        return
    studio, user, message = _studio(context), _user(update), update.message
    request = groups.split_command(message, message.caption or "")
    if request and request[0] not in studio.theme_command_names():
        request = None  # another command as a caption (/start…): the photo is just a selfie
    status = await message.reply_text(_(texts.CHECKING_SELFIE))
    try:
        file = await context.bot.get_file(file_id)
        data = bytes(await file.download_as_bytearray())
        received = await studio.receive_selfie(user, data, reply_to=_reply_to(message, status), chat=_chat(update),
                                               run_pending=request is None)
        if request:
            await studio.apply_theme(user, request[0], request[1], reply_to=_reply_to(message, status),
                                     chat=_chat(update))
    except MinimeError as exc:
        await _refuse(update, context, exc, status)
        return
    started = bool(received.job or request)
    reply = texts.selfie_received(started, _("Pick a look, or type e.g. /figurine YourName."))
    await status.edit_text(received.with_notice(reply),
                           reply_markup=None if started else themes_keyboard(studio.themes()))


async def text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Plain text (in a group: a reply to minime or a mention of it): the name a theme asked for, or a refinement of
    the replied-to (or latest) image."""
    message = update.message
    replied = message.reply_to_message
    result_id = result_id_of(replied.reply_markup) if replied and replied.from_user and replied.from_user.is_bot \
        else None
    words = groups.without_mention(message, message.text)
    if not words:
        await message.reply_text(texts.help_text(_studio(context).themes()))
        return
    status = await message.reply_text(_(texts.ON_IT))
    try:
        outcome = await _studio(context).text(_user(update), words, result_id=result_id,
                                              reply_to=_reply_to(message, status), chat=_chat(update))
    except MinimeError as exc:
        await _refuse(update, context, exc, status)
        return
    if isinstance(outcome, Undone):
        await status.delete()
        await _send_undone(message, outcome)


async def added_to_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """minime was added to a group: a short hello saying how it works there."""
    change = update.my_chat_member
    was_out = change.old_chat_member.status in (ChatMember.LEFT, ChatMember.BANNED)
    now_in = change.new_chat_member.status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR)
    if change.chat.type in (Chat.GROUP, Chat.SUPERGROUP) and was_out and now_in:
        await context.bot.send_message(change.chat.id, texts.group_intro_text(context.bot.username))


async def verify(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/verify as a reply to an image, or as the caption of one: did minime make it?"""
    message = update.message
    source = message if (message.photo or message.document) else message.reply_to_message
    file_id, size = _image_file(source) if source else (None, None)
    if not file_id:
        await message.reply_text(_("Send me the image with /verify as its caption, or reply /verify to it, and "
                                   "I'll tell you whether I made it."))
        return
    if size and size > DOWNLOAD_MAX_BYTES:
        await message.reply_text(ImageTooLarge.user_message)
        return
    status = await message.reply_text(_(texts.CHECKING_IMAGE))
    try:
        file = await context.bot.get_file(file_id)
        answer = await _studio(context).verify(_user(update), bytes(await file.download_as_bytearray()))
    except MinimeError as exc:
        await status.edit_text(exc.user_message)
        return
    await status.edit_text(answer.message())


def _image_file(message: Message) -> tuple[str | None, int | None]:
    if message.photo:
        return message.photo[-1].file_id, message.photo[-1].file_size
    doc = message.document
    if doc and _is_image_document(doc):
        return doc.file_id, doc.file_size
    return None, None


def _is_image_document(doc: Document) -> bool:
    return looks_like_image(doc.mime_type, doc.file_name)


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats: the user's images and the energy they took."""
    try:
        answer = await _studio(context).stats(_user(update))
    except MinimeError as exc:
        await update.message.reply_text(exc.user_message)
        return
    await update.message.reply_text(answer.message())


async def undo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/undo: back to the previous image."""
    try:
        outcome = await _studio(context).undo(_user(update))
    except MinimeError as exc:
        await update.message.reply_text(exc.user_message)
        return
    await _send_undone(update.message, outcome)


async def _send_undone(message: Message, outcome: Undone) -> None:
    photo = encode_for_platform(outcome.image, max_bytes=PHOTO_MAX_BYTES, stem="minime")
    await with_retries(message.get_bot().send_photo, message.chat_id, InputFile(photo.data, filename=photo.filename),
                       caption=_(texts.BACK_ONE_STEP), reply_markup=result_keyboard(outcome.result.id, outcome.buttons),
                       reply_parameters=ReplyParameters(message.message_id, allow_sending_without_reply=True))


async def forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/forget: ask before deleting everything of the user."""
    await update.message.reply_text(_(texts.FORGET_CONFIRM), reply_markup=forget_keyboard(_user(update).user_id))


async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/status: where the user's image is in the queue, and the images left today."""
    user = _user(update)
    state = await _studio(context).status(user, _chat(update))
    await _answer(update, context, texts.status_reply(state, user, _chat(update)))


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel: call off the user's waiting or running image (its status line then says so)."""
    try:
        await _studio(context).cancel(_user(update))
    except MinimeError as exc:
        await _answer(update, context, exc.user_message)


async def admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/admin [grant platform:id N | block platform:id | unblock platform:id]: for MINIME_ADMINS only."""
    try:
        answer = await _studio(context).admin(_user(update), " ".join(context.args or ()))
    except MinimeError as exc:
        answer = exc.user_message
    message = update.message
    if groups.is_group(message):  # never in the group: a direct message (or one only the admin sees)
        private: PrivateReplies = context.bot_data["private"]
        await private.direct(message.chat_id, update.effective_user.id, answer, reply_to=message.message_id,
                             sent_note=_(texts.SENT_PRIVATELY), blocked_note=_(texts.OPEN_PRIVATE_CHAT))
    else:
        await message.reply_text(answer)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Commands we do not have (in a group, only those addressed to minime by name: others may be another bot's)."""
    message = update.message
    if groups.is_group(message) and (groups.split_command(message, message.text) is None
                                     or "@" not in message.text.split()[0]):
        return
    await message.reply_text(_("I don't know that command. Try /help or /themes."))


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every inline button: always answered, even when it cannot be done."""
    query = update.callback_query
    pressed = parse(query.data)
    studio, user = _studio(context), _user(update)
    if pressed is None:
        await query.answer(_("That button has expired."))
        return
    if pressed.kind == "forget":
        if pressed.owner and pressed.owner != user.user_id:
            await query.answer(_(texts.NOT_YOUR_BUTTON))
            return
        await query.answer()
        if pressed.action == "yes":
            await studio.forget(user)
            await query.edit_message_text(_(texts.FORGOTTEN))
        else:
            await query.edit_message_text(_(texts.NOT_FORGOTTEN))
        return
    if pressed.kind == "cancel":
        try:
            await studio.cancel(user, pressed.job_id)
        except (NotYourJob, NothingToCancel) as exc:  # someone else's: a note to the tapper, nothing changes
            await query.answer(exc.user_message[:200])
            return
        await query.answer(_(texts.CANCELLING))
        return
    if pressed.kind == "result" and pressed.action == ANOTHER_THEME:
        try:
            await studio.owned_result(user, pressed.result_id)
        except MinimeError as exc:
            await query.answer(exc.user_message[:200], show_alert=not isinstance(exc, NotYours))
            return
        await query.answer()
        await query.message.reply_text(_(texts.WHICH_LOOK),
                                       reply_markup=themes_keyboard(studio.themes(), pressed.result_id))
        return
    if pressed.kind == "result" and pressed.action in BUTTONS and BUTTONS[pressed.action].sends:
        await _send_figure(query, studio, user, pressed.result_id, BUTTONS[pressed.action].sends,
                           context.bot_data["private"], _chat(update))
        return
    message, status_ = query.message, None
    try:
        if pressed.kind == "pick":
            await query.answer()
            status_ = await message.reply_text(_(texts.ON_IT))
            await studio.apply_theme(user, pressed.theme_id, reply_to=_reply_to(message, status_), by_id=True,
                                     chat=_chat(update))
            return
        action = f"theme:{pressed.theme_id}" if pressed.kind == "swap" else pressed.action
        outcome = await studio.refine(user, action=action, result_id=pressed.result_id,
                                      reply_to=_reply_to(message), chat=_chat(update))
    except MinimeError as exc:  # someone else's picture: a short note to the tapper, and nothing changes
        if status_ is None:
            await query.answer(exc.user_message[:200], show_alert=not isinstance(exc, NotYours))
        elif message.chat.type in (Chat.GROUP, Chat.SUPERGROUP):  # a picked look refused: for the tapper alone
            await status_.delete()
            private: PrivateReplies = context.bot_data["private"]
            await private.tell(message.chat_id, update.effective_user.id, exc.user_message)
        else:
            await status_.edit_text(exc.user_message)
        return
    await query.answer(_("Undone") if isinstance(outcome, Undone) else _("On it…"))
    if isinstance(outcome, Undone):
        await _send_undone(message, outcome)


async def _send_figure(query: CallbackQuery, studio: Studio, user: UserKey, result_id: str | None, kind: str,
                       private: PrivateReplies, chat: str | None) -> None:
    """🔄 Turn and 🧊 3D file: the figure's loop as an animation, or its mesh as a document (seconds of work); what
    goes wrong is told to the presser alone."""
    try:
        result = await studio.owned_result(user, result_id)
    except MinimeError as exc:  # someone else's picture: a short note to the tapper
        await query.answer(exc.user_message[:200], show_alert=not isinstance(exc, NotYours))
        return
    if studio.figure_busy(user):  # one at a time: the file of the last press is still being made
        await query.answer(FigureBusy().user_message[:200])
        return
    turntable = kind == TURNTABLE
    await query.answer(_(texts.MAKING_TURNTABLE if turntable else texts.MAKING_MESH))
    message, bot = query.message, query.get_bot()
    try:
        async with chat_action(bot, message.chat_id,
                               ChatAction.UPLOAD_VIDEO if turntable else ChatAction.UPLOAD_DOCUMENT):
            figure = await studio.figure_file(user, result.id, kind, chat=chat, max_bytes=FILE_MAX_BYTES)
            await send_figure_file(bot, message.chat_id, figure, message.message_id)
    except MinimeError as exc:
        await private.tell(message.chat_id, query.from_user.id, exc.user_message, reply_to=message.message_id)


async def error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Anything unexpected: log it (no message contents) and tell the user something friendly."""
    log.error("telegram handler failed", error_type=type(context.error).__name__, error=str(context.error))
    if isinstance(update, Update) and update.effective_chat:
        try:
            await context.bot.send_message(update.effective_chat.id, _(texts.SORRY))
        except Exception:  # the platform itself is failing: nothing more to do for this update
            pass
