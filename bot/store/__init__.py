"""The case store: one bot's durable memory of cases, mail, letters, triage and history."""

from bot.store.errors import StoreError, StoreLocked
from bot.store.store import Store

__all__ = ["Store", "StoreError", "StoreLocked"]
