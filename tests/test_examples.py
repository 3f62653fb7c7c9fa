"""The mailbox examples in examples/ stay valid configs, and each opens its own backend."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import yaml

from bot.clock import LONDON, FixedClock
from bot.config import ProblemsError, load_config
from bot.demo.harness import copy_example
from bot.mailbox.factory import open_mailbox
from bot.mailbox.state import MemoryState

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "examples").glob("mailbox-*.yaml"))


def with_example(tmp_path: Path, example: Path) -> Path:
    """config.yaml with the example's top-level sections in place of its own."""
    config = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    config.update(yaml.safe_load(example.read_text(encoding="utf-8")))
    copy_example(tmp_path, source=REPO, config=False)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def test_there_is_an_example_for_every_mail_server_backend() -> None:
    assert [p.stem for p in EXAMPLES] == ["mailbox-ews", "mailbox-graph", "mailbox-imap"]


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_each_example_is_a_valid_config_for_its_backend(tmp_path: Path, example: Path) -> None:
    config = load_config(with_example(tmp_path, example))
    backend = example.stem.removeprefix("mailbox-")
    assert config.mailbox.backend == backend
    assert config.mailbox.backend_settings() is not None
    assert config.security.require_authenticated_commands


def test_an_example_with_its_secret_written_in_is_refused(tmp_path: Path) -> None:
    path = with_example(tmp_path, REPO / "examples" / "mailbox-imap.yaml")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("password_env: CCBOT_IMAP_PASSWORD", "password: hunter2"),
                    encoding="utf-8")
    with pytest.raises(ProblemsError) as refused:
        load_config(path)
    assert "password" in str(refused.value)


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_each_example_opens_its_backend_without_touching_the_network(
    tmp_path: Path, example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "graph-key.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nnot a real key\n-----END PRIVATE KEY-----\n")
    for name, value in {
        "CCBOT_GRAPH_CERTIFICATE": str(key),
        "CCBOT_EWS_PASSWORD": "example-password",
        "CCBOT_IMAP_PASSWORD": "example-password",
    }.items():
        monkeypatch.setenv(name, value)
    config = load_config(with_example(tmp_path, example))

    opened = open_mailbox(config, FixedClock(datetime(2026, 11, 2, 9, 0, tzinfo=LONDON)),
                          MemoryState())

    backend = example.stem.removeprefix("mailbox-")
    assert type(opened).__module__ == f"bot.mailbox.{backend}"
    assert opened.address == "contract.concerns@council.example"
