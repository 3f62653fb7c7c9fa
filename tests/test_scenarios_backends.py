"""Procedure scenarios end to end on every backend: the same tests, another mail system.

The tests are imported from test_scenarios and collected again here, where the `workspace`
fixture puts the bot on a fake Graph, a fake EWS or a real Dovecot instead of local folders.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from conftest import START
from test_scenarios import (  # noqa: F401  (collected here with this module's workspace)
    bot,
    test_eligible_sends_the_concern_letter_to_the_provider_with_a_copy_of_the_concern,
    test_out_of_office_reply_is_not_answered_and_is_not_the_providers_response,
    test_running_twice_at_the_same_moment_sends_nothing_twice,
    test_silent_provider_is_reminded_on_day_14_then_referred_to_the_spo,
    test_spo_decision_over_christmas_counts_five_working_days,
)

from bot.demo.harness import Workspace
from bot.store.meta_keys import TOKEN_EXPIRES


@pytest.fixture(params=["graph", "ews", "imap"])
def workspace(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Workspace]:
    module = importlib.import_module(f"backends.{request.param}")
    with module.running(tmp_path / "server") as server:
        ws = Workspace(tmp_path / "workspace", START, server=server)
        try:
            yield ws
        finally:
            ws.close()


def test_status_knows_when_the_mail_systems_access_token_runs_out(workspace: Workspace) -> None:
    workspace.run(START)
    expires = workspace.app.store.get_meta(TOKEN_EXPIRES)
    if getattr(workspace.server, "name", "") == "graph":
        # The fake hands out hour-long tokens, from the bot's clock, as Entra ID does.
        assert expires is not None
        assert datetime.fromisoformat(expires) > START
    else:
        assert expires is None  # a password login does not run out on its own
