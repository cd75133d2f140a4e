"""Discord's limits, in one place (https://discord.com/developers/docs)."""

PLATFORM = "discord"
INTERACTION_TOKEN_TTL_S = 15 * 60  # follow-ups after this go to the channel instead
TOKEN_MARGIN_S = 60  # … and we switch a minute early
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024  # an interaction's attachment_size_limit when unknown
DOWNLOAD_MAX_BYTES = 20 * 1024 * 1024
CUSTOM_ID_MAX = 100
ROW_WIDTH = 5  # buttons in one action row
STATUS_EDIT_INTERVAL_S = 1.0  # progress edits of the deferred response, paced
COOLDOWN_RATE, COOLDOWN_S = 3, 10.0  # per user and command: at most 3 uses in 10 seconds
DESCRIPTION_MAX = 100  # a command's or an option's description
THINGS_OPTION = "things"  # the option carrying what follows "|" in chat (/caricature name:Ada things:nurse, running)
