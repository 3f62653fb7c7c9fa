"""Names of the store's meta entries that more than one part of the bot reads or writes."""

MOVES_OWED = "moves_owed"  # inbox moves the last commit owes the mailbox
INBOX_LEFT = "inbox_left"  # when each email the last poll left in the inbox arrived
TOKEN_EXPIRES = "token_expires_at"  # when the mail system's access token runs out
POLL_FAILING_SINCE = "poll_failing_since"  # first failed poll since the last success
LOGIN_FAILURE = "login_failure"  # {problem, since} while the mail system refuses us
ALERTS_SENT = "admin_alerts_sent"  # alert kind -> the day its email was queued
RETENTION_DAY = "retention_day"  # the day raw mail retention last ran

SCHEMA_VERSION = 3  # the store layout this bot writes (docs/store.md, "Versions")
