"""Tests for the config loader: the example loads, and each mistake is reported at its line."""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.config import Config, Problem, ProblemsError, load_config
from bot.config.secret_keys import looks_like_secret
from bot.config.yamlsource import YamlDoc, load_yaml

REPO = Path(__file__).resolve().parent.parent

# A small valid config; tests break one thing in it at a time.
BASE = """\
council:
  name: Testshire County Council
  team_name: Contracts Team
  team_address: contracts@testshire.example
  own_domains: [testshire.example]
mailbox:
  backend: local
  address: concerns@testshire.example
start_date: 2026-11-01
shadow_mode: false
poll_interval_seconds: 60
store: {directory: data/store}
time:
  close_of_business: "17:00"
  closure_days:
    - {date: 2026-12-29, reason: Closed}
    - {date: 2026-12-30}
referrer_domains: [testshire.example, health.example]
people:
  - {id: ocmo, name: Olu Cmo, email: Olu.Cmo@testshire.example, roles: [cmo], manager: pspo}
  - {id: tcmo, name: Tara Cmo, email: tara.cmo@testshire.example, roles: [cmo]}
  - {id: pspo, name: Pat Spo, email: pat.spo@testshire.example, roles: [spo]}
  - {id: ssm, name: Sid Sm, email: sid.sm@testshire.example, roles: [service_manager]}
  - {id: ihm, name: Ida Ihm, email: ida.ihm@testshire.example, roles: [inhouse_service_manager]}
  - {id: rref, name: Ros Ref, email: ros.ref@health.example, roles: [referrer],
     manager: boss@health.example}
teams:
  operational_teams: [ops@testshire.example]
  service_manager: ssm
  inhouse_service_manager: ihm
rota: [ocmo, tcmo]
providers:
  - id: elm
    name: Elm House Care Ltd
    aliases: [Elm House]
    contract_reference: CON-1
    contacts: [manager@elmhouse.example]
    allocated_officer: ocmo
  - id: ash
    name: Ash Home Care
    contract_reference: CON-2
    contacts: [ash.care@gmail.com]
"""


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, marker: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing `marker`."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if marker in line]
    return hits[occurrence - 1]


def changed(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


def problems(tmp_path: Path, text: str) -> list[Problem]:
    path = write(tmp_path, text)
    with pytest.raises(ProblemsError) as caught:
        load_config(path)
    assert str(caught.value) == "\n".join(str(p) for p in caught.value.problems)
    return caught.value.problems


def only_problem(tmp_path: Path, text: str) -> Problem:
    found = problems(tmp_path, text)
    assert len(found) == 1, [str(p) for p in found]
    assert found[0].file == str(tmp_path / "config.yaml")
    assert found[0].fix
    return found[0]


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(write(tmp_path, BASE))


# The example config


def test_example_config_loads_with_the_people_and_providers_the_demo_needs() -> None:
    cfg = load_config(REPO / "config.yaml")
    assert len(cfg.people_with_role("cmo")) == 3
    assert [p.id for p in cfg.people_with_role("spo")] == ["mbrown"]
    assert len(cfg.people_with_role("head_of_procurement")) == 1
    assert len(cfg.people_with_role("referrer")) == 4
    assert cfg.service_manager() is not None and cfg.inhouse_service_manager() is not None
    assert sorted(p.service_type for p in cfg.providers) == [
        "care home",
        "day centre",
        "home-care agency",
        "supported living",
    ]
    assert sorted(cfg.closure_days_map()) == [dt.date(2026, 12, d) for d in (29, 30, 31)]
    assert cfg.start_date == dt.date(2026, 11, 1)
    assert cfg.store.directory == REPO / "var" / "store"
    assert cfg.rules.procedure == REPO / "rules" / "procedure.yaml"
    for provider in cfg.providers:  # contacts at the provider's own domain, not the council's
        assert all(not c.endswith("@council.example") for c in provider.contacts)


# Paths and defaults


def test_relative_paths_count_from_the_config_folder_and_absolute_ones_stay(
    tmp_path: Path,
) -> None:
    text = changed(
        "store: {directory: data/store}",
        "store: {directory: data/store}\n"
        f"shared_drive: {tmp_path / 'reports'}\ntemplates: ../letters",
    )
    cfg = load_config(write(tmp_path, text, "etc/config.yaml"))
    folder = (tmp_path / "etc").resolve()
    assert cfg.store.directory == folder / "data" / "store"
    assert cfg.shared_drive == tmp_path / "reports"
    assert cfg.templates == folder / ".." / "letters"
    # Left out, so taken from the defaults, which resolve the same way.
    assert cfg.mailbox.local.directory == folder / "var" / "mailbox"
    assert cfg.rules.commands == folder / "rules" / "commands.yaml"
    assert cfg.time.letters_time == dt.time(9, 0)
    assert cfg.limits.max_attachment_mb == 25


# Each kind of mistake: file, line, key, message and fix


def test_unknown_key_suggests_the_nearest_field(tmp_path: Path) -> None:
    text = changed("shadow_mode: false", "shadow_mod: false")
    problem = only_problem(tmp_path, text)
    assert problem.line == line_of(text, "shadow_mod")
    assert problem.key == "shadow_mod"
    assert "unknown key 'shadow_mod'" in problem.message
    assert problem.fix == "did you mean 'shadow_mode'?"


def test_unknown_key_inside_a_list_item_is_found_at_its_own_line(tmp_path: Path) -> None:
    text = changed("    aliases: [Elm House]", "    alias: [Elm House]")
    problem = only_problem(tmp_path, text)
    assert (problem.line, problem.key) == (line_of(text, "alias:"), "providers[0].alias")
    assert problem.fix == "did you mean 'aliases'?"


def test_wrong_type_says_what_was_expected(tmp_path: Path) -> None:
    text = changed("poll_interval_seconds: 60", "poll_interval_seconds: soon")
    problem = only_problem(tmp_path, text)
    assert (problem.line, problem.key) == (line_of(text, "poll_interval"), "poll_interval_seconds")
    assert problem.message == "'soon' is not a whole number"


def test_bad_email_points_at_the_person(tmp_path: Path) -> None:
    text = changed("tara.cmo@testshire.example", "tara.cmo.testshire.example")
    problem = only_problem(tmp_path, text)
    assert (problem.line, problem.key) == (line_of(text, "id: tcmo"), "people[1].email")
    assert "not a valid email address" in problem.message


def test_missing_required_key(tmp_path: Path) -> None:
    text = changed("start_date: 2026-11-01\n", "")
    problem = only_problem(tmp_path, text)
    assert problem.key == "start_date"
    assert problem.message == "required key 'start_date' is missing"
    assert problem.fix.startswith("add 'start_date:'")


def test_missing_key_in_a_list_item_is_reported_at_the_item(tmp_path: Path) -> None:
    text = changed("    contract_reference: CON-2\n", "")
    problem = only_problem(tmp_path, text)
    assert (problem.line, problem.key) == (
        line_of(text, "- id: ash"),
        "providers[1].contract_reference",
    )


def test_dangling_manager_suggests_a_close_id(tmp_path: Path) -> None:
    text = changed("manager: pspo}", "manager: pspp}")
    problem = only_problem(tmp_path, text)
    assert (problem.line, problem.key) == (line_of(text, "id: ocmo"), "people[0].manager")
    assert problem.message == "manager 'pspp' is not a person in people"
    assert problem.fix.startswith("did you mean 'pspo'?")


def test_allocated_officer_who_is_not_a_cmo(tmp_path: Path) -> None:
    text = changed("allocated_officer: ocmo", "allocated_officer: pspo")
    problem = only_problem(tmp_path, text)
    assert (problem.line, problem.key) == (
        line_of(text, "allocated_officer"),
        "providers[0].allocated_officer",
    )
    assert "not a cmo" in problem.message
    assert problem.fix == "add cmo to their roles, or use one of ocmo, tcmo"


def test_allocated_officer_who_does_not_exist(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, changed("allocated_officer: ocmo", "allocated_officer: ocm"))
    assert str(problem).endswith(
        "providers[0].allocated_officer: 'ocm' is not a person in people. "
        "Fix: did you mean 'ocmo'? Otherwise use one of ocmo, tcmo"
    )


def test_duplicate_person_id_is_reported_at_the_repeat(tmp_path: Path) -> None:
    text = changed("{id: tcmo,", "{id: ocmo,").replace("rota: [ocmo, tcmo]", "rota: [ocmo]")
    problem = only_problem(tmp_path, text)
    assert (problem.line, problem.key) == (line_of(text, "Tara Cmo"), "people[1].id")
    assert f"first on line {line_of(text, 'Olu Cmo')}" in problem.message


def test_duplicate_email_ignores_case(tmp_path: Path) -> None:
    text = changed("tara.cmo@testshire.example", "olu.cmo@TESTSHIRE.example")
    problem = only_problem(tmp_path, text)
    assert problem.key == "people[1].email"
    assert "'olu.cmo@testshire.example' is used twice" in problem.message


def test_secret_literal_is_refused_without_echoing_it(tmp_path: Path) -> None:
    text = changed("  backend: local\n", "  backend: local\n  smtp_password: hunter2\n")
    problem = only_problem(tmp_path, text)
    assert (problem.line, problem.key) == (line_of(text, "smtp_password"), "mailbox.smtp_password")
    assert problem.fix == (
        "secrets come from environment variables: remove it and set smtp_password_env: ENV_VAR_NAME"
    )
    assert "hunter2" not in str(problem)


def test_yaml_syntax_error_carries_its_line(tmp_path: Path) -> None:
    text = changed("rota: [ocmo, tcmo]", "rota: [ocmo, tcmo")
    problem = only_problem(tmp_path, text)
    assert problem.line == line_of(text, "providers:")  # where the parser noticed
    assert f"started on line {line_of(text, 'rota:')}" in problem.message
    assert problem.message.startswith("YAML syntax error")


def test_tab_indentation_gets_its_own_fix(tmp_path: Path) -> None:
    text = changed("  name: Testshire", "\tname: Testshire")
    problem = only_problem(tmp_path, text)
    assert problem.line == 2
    assert problem.fix == "indent with spaces, not tabs"


def test_impossible_date_is_reported_at_its_line(tmp_path: Path) -> None:
    text = changed("date: 2026-12-30", "date: 2026-12-32")
    problem = only_problem(tmp_path, text)
    assert problem.line == line_of(text, "2026-12-32")
    assert "'2026-12-32'" in problem.message


def test_unquoted_time_is_explained(tmp_path: Path) -> None:
    text = changed('close_of_business: "17:00"', "close_of_business: 17:00")
    problem = only_problem(tmp_path, text)
    assert problem.key == "time.close_of_business"
    assert problem.message == "the time was read as the number 1020"
    assert 'quotes, like "17:00"' in problem.fix


def test_unknown_role_lists_the_allowed_ones(tmp_path: Path) -> None:
    text = changed("roles: [spo]", "roles: [spo, boss]")
    problem = only_problem(tmp_path, text)
    assert problem.key == "people[2].roles[1]"
    assert "'head_of_procurement'" in problem.fix and "'cmo'" in problem.fix


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    text = changed("shadow_mode: false", "shadow_mode: false\nshadow_mode: true")
    problem = only_problem(tmp_path, text)
    assert (problem.line, problem.key) == (line_of(text, "shadow_mode", 2), "shadow_mode")


def test_several_problems_are_all_reported_in_file_order(tmp_path: Path) -> None:
    text = changed("roles: [spo]", "roles: [head_of_procurement]")
    text = text.replace("rota: [ocmo, tcmo]", "rota: [ocmo, ssm, ocmo]")
    text = text.replace("{date: 2026-12-30}", "{date: 2026-12-29}")
    found = problems(tmp_path, text)
    assert [p.key for p in found] == [
        "time.closure_days[1].date",
        "people",
        "rota[1]",
        "rota[2]",
    ]
    assert found[1].message == "nobody in people has the role spo"
    assert [p.line for p in found] == sorted(p.line for p in found)


def test_backend_needs_its_section_and_env_names(tmp_path: Path) -> None:
    text = changed("backend: local", "backend: graph")
    text += "security: {microsoft_365_internal: true}\n"
    problem = only_problem(tmp_path, text)
    assert problem.key == "mailbox.backend"
    assert "client_secret_env" in problem.fix
    graph = (
        "backend: graph\n  graph: {tenant_id: t1, client_id: c1, client_secret_env: CCBOT_SECRET}"
    )
    trusted = "security: {microsoft_365_internal: true}\n"
    cfg = load_config(write(tmp_path, changed("backend: local", graph) + trusted))
    assert cfg.mailbox.graph is not None
    assert cfg.mailbox.backend_settings() == cfg.mailbox.graph
    bad_graph = graph.replace("CCBOT_SECRET", "s3cr3t!")
    bad = problems(tmp_path, changed("backend: local", bad_graph) + trusted)
    assert [p.key for p in bad] == ["mailbox.graph.client_secret_env"]


# Safety settings: who may command the bot, alerts, retention

GRAPH = "backend: graph\n  graph: {tenant_id: t1, client_id: c1, client_secret_env: CCBOT_SECRET}"


def test_safety_sections_left_out_take_safe_defaults(config: Config) -> None:
    assert config.security.trusted_authserv_ids == []
    assert config.security.microsoft_365_internal is False
    assert config.security.require_authenticated_commands is True
    assert config.limits.max_attempts == 3
    assert config.monitoring.poll_failure_alert_minutes == 30
    assert config.monitoring.outbox_stuck_minutes == 60
    assert config.monitoring.triage_alert_working_days == 2
    assert config.retention.raw_mail_days_after_close == 730


def test_example_config_sets_the_safety_sections_for_the_local_demo() -> None:
    cfg = load_config(REPO / "config.yaml")
    assert cfg.mailbox.backend == "local"
    assert cfg.security.require_authenticated_commands is False  # nothing stamps a Maildir
    assert cfg.security.trusted_authserv_ids == ["mx.council.example"]
    assert (cfg.limits.max_attempts, cfg.monitoring.outbox_stuck_minutes) == (3, 60)
    assert cfg.retention.raw_mail_days_after_close == 730
    text = (REPO / "config.yaml").read_text(encoding="utf-8")
    line = next(t for t in text.splitlines() if "require_authenticated_commands:" in t)
    comment = text[: text.index(line)].rsplit("\n", 3)[-3:]
    assert "must set it true" in " ".join(comment)


def test_safety_settings_are_read_and_normalised(tmp_path: Path) -> None:
    text = BASE + (
        "security:\n"
        "  trusted_authserv_ids: [MX1.Testshire.example, ' mx2.testshire.example']\n"
        "  microsoft_365_internal: true\n"
        "limits: {max_attempts: 5}\n"
        "monitoring: {poll_failure_alert_minutes: 10, triage_alert_working_days: 1}\n"
        "retention: {raw_mail_days_after_close: 2190}\n"
    )
    cfg = load_config(write(tmp_path, text))
    assert cfg.security.trusted_authserv_ids == ["mx1.testshire.example", "mx2.testshire.example"]
    assert cfg.security.microsoft_365_internal and cfg.security.require_authenticated_commands
    assert (cfg.limits.max_attempts, cfg.limits.max_attachment_mb) == (5, 25)
    assert cfg.monitoring.poll_failure_alert_minutes == 10
    assert cfg.monitoring.triage_alert_working_days == 1
    assert cfg.retention.raw_mail_days_after_close == 2190


def test_unauthenticated_commands_are_refused_with_a_real_mail_system(tmp_path: Path) -> None:
    text = changed("backend: local", GRAPH) + (
        "security:\n  microsoft_365_internal: true\n  require_authenticated_commands: false\n"
    )
    problem = only_problem(tmp_path, text)
    assert (problem.line, problem.key) == (
        line_of(text, "require_authenticated_commands"),
        "security.require_authenticated_commands",
    )
    assert "backend 'graph'" in problem.message
    assert problem.fix.startswith("set require_authenticated_commands: true")


def test_a_real_mail_system_needs_a_way_to_authenticate_commands(tmp_path: Path) -> None:
    text = changed("backend: local", GRAPH)
    problem = only_problem(tmp_path, text)
    assert (problem.line, problem.key) == (line_of(text, "backend: graph"), "mailbox.backend")
    assert "every command would be quarantined" in problem.message
    assert "trusted_authserv_ids" in problem.fix and "microsoft_365_internal" in problem.fix
    with_section = text + "security: {require_authenticated_commands: true}\n"
    assert only_problem(tmp_path, with_section).line == line_of(with_section, "security:")
    served = text + "security: {trusted_authserv_ids: [mx.testshire.example]}\n"
    assert load_config(write(tmp_path, served)).security.trusted_authserv_ids


def test_the_local_mailbox_may_run_without_authentication(tmp_path: Path) -> None:
    text = BASE + "security: {require_authenticated_commands: false}\n"
    assert load_config(write(tmp_path, text)).security.require_authenticated_commands is False


def test_a_server_name_with_spaces_is_explained(tmp_path: Path) -> None:
    text = BASE + "security:\n  trusted_authserv_ids: [mx.testshire.example, our mail server]\n"
    problem = only_problem(tmp_path, text)
    assert problem.key == "security.trusted_authserv_ids[1]"
    assert problem.line == line_of(text, "trusted_authserv_ids")
    assert "'our mail server' is not a mail server name" in problem.message
    assert "Authentication-Results" in problem.fix


def test_unknown_key_in_security_suggests_the_field(tmp_path: Path) -> None:
    text = BASE + "security:\n  microsoft365_internal: true\n"
    problem = only_problem(tmp_path, text)
    assert problem.key == "security.microsoft365_internal"
    assert problem.fix == "did you mean 'microsoft_365_internal'?"


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ("limits", "max_attempts"),
        ("limits", "max_message_mb"),
        ("limits", "max_read_seconds"),
        ("monitoring", "outbox_stuck_minutes"),
        ("monitoring", "poll_stuck_minutes"),
        ("monitoring", "triage_alert_working_days"),
        ("retention", "raw_mail_days_after_close"),
    ],
)
def test_counts_must_be_positive(tmp_path: Path, section: str, key: str) -> None:
    text = BASE + f"{section}:\n  {key}: 0\n"
    problem = only_problem(tmp_path, text)
    assert (problem.line, problem.key) == (line_of(text, f"{key}: 0"), f"{section}.{key}")
    assert "greater than 0" in problem.message


def test_a_poll_alert_shorter_than_the_poll_interval_is_refused(tmp_path: Path) -> None:
    text = changed("poll_interval_seconds: 60", "poll_interval_seconds: 120")
    text += "monitoring:\n  poll_failure_alert_minutes: 2\n"
    problem = only_problem(tmp_path, text)
    assert (problem.line, problem.key) == (
        line_of(text, "poll_failure_alert_minutes"),
        "monitoring.poll_failure_alert_minutes",
    )
    assert "every poll would alert" in problem.message
    text = text.replace("poll_failure_alert_minutes: 2", "poll_failure_alert_minutes: 3")
    assert load_config(write(tmp_path, text)).monitoring.poll_failure_alert_minutes == 3


def _models(model: type[BaseModel]) -> Iterator[type[BaseModel]]:
    yield model
    for info in model.model_fields.values():
        for kind in (info.annotation, *typing.get_args(info.annotation)):
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                yield from _models(kind)


def test_every_config_field_is_described() -> None:
    undescribed = [
        f"{model.__name__}.{name}"
        for model in _models(Config)
        for name, info in model.model_fields.items()
        if not info.description
    ]
    assert len(list(_models(Config))) > 10
    assert undescribed == []


# Helpers


def test_people_lookups(config: Config) -> None:
    ocmo = config.person_by_email(" OLU.CMO@testshire.example ")
    assert ocmo is not None and ocmo.id == "ocmo" and ocmo.email == "olu.cmo@testshire.example"
    assert config.person("nobody") is None
    assert [p.id for p in config.people_with_role("cmo")] == ["ocmo", "tcmo"]
    assert config.manager_email_of("olu.cmo@testshire.example") == "pat.spo@testshire.example"
    assert config.manager_email_of("ros.ref@health.example") == "boss@health.example"
    assert config.manager_email_of("tara.cmo@testshire.example") is None
    assert config.is_staff("anyone@testshire.example") and config.is_staff("ros.ref@health.example")
    assert not config.is_staff("manager@elmhouse.example")
    assert config.may_refer("nurse@health.example") and not config.may_refer("x@elsewhere.example")
    assert [p.id for p in config.rota_officers()] == ["ocmo", "tcmo"]


def test_provider_lookups(config: Config) -> None:
    elm = config.provider("elm")
    assert elm is not None
    assert config.provider_by_address("Manager@ElmHouse.example") is elm
    assert config.provider_by_address("deputy@elmhouse.example") is elm  # whole-domain match
    assert config.provider_by_address("ash.care@gmail.com") is config.provider("ash")
    assert config.provider_by_address("someone.else@gmail.com") is None  # public domain
    assert config.provider_by_address("pat.spo@testshire.example") is None


def test_providers_named_in_text(config: Config) -> None:
    named = config.providers_named_in("Concern about ELM\nhouse and Ash Home Care staff.")
    assert [p.id for p in named] == ["elm", "ash"]
    assert config.providers_named_in("Elm Housekeeping services") == []


def test_time_helpers(config: Config) -> None:
    assert config.closure_days_map() == {
        dt.date(2026, 12, 29): "Closed",
        dt.date(2026, 12, 30): "Council closure",
    }
    assert config.close_of_business_time() == dt.time(17, 0)
    assert config.digest_time() == dt.time(8, 0)


# The generic YAML source


def test_problem_reads_as_one_line() -> None:
    problem = Problem(
        "config.yaml",
        23,
        "providers[1].allocated_officer",
        "'jsmyth' is not a person in people",
        "use one of jsmith, akhan",
    )
    assert str(problem) == (
        "config.yaml:23: providers[1].allocated_officer: 'jsmyth' is not a "
        "person in people. Fix: use one of jsmith, akhan"
    )


def test_line_for_falls_back_to_the_nearest_parent(tmp_path: Path) -> None:
    doc: YamlDoc = load_yaml(write(tmp_path, "a:\n  b:\n    - x\n    - y: 1\n"))
    assert doc.data == {"a": {"b": ["x", {"y": 1}]}}
    assert doc.line_for(("a", "b", 1, "y")) == 4
    assert doc.line_for(("a", "b", 1, "missing")) == 4
    assert doc.line_for(("a", "b", 7)) == 2
    assert doc.line_for(()) == 1


def test_missing_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(ProblemsError) as caught:
        load_config(tmp_path / "nope.yaml")
    assert caught.value.problems[0].message == "file not found"


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password", True),
        ("client_secret", True),
        ("smtpPassword", True),
        ("api-key", True),
        ("client_secret_env", False),
        ("password_env", False),
        ("name", False),
        ("keyword", False),
    ],
)
def test_secret_looking_keys(key: str, secret: bool) -> None:
    assert looks_like_secret(key) is secret


def test_empty_file_and_recursive_alias_are_problems(tmp_path: Path) -> None:
    empty = problems(tmp_path, "# nothing here\n")
    assert empty[0].message == "the file is empty or is not a set of 'key: value' lines"
    endless = problems(tmp_path, "a: &x\n  - 1\n  - *x\n")
    assert (endless[0].key, endless[0].message) == (
        "a[1]",
        "this alias refers to a block that contains it",
    )


# Letters to providers


def test_letters_default_to_approval_withheld_identity_and_the_plain_letterhead(
    config: Config,
) -> None:
    letters = config.letters
    assert (letters.approval, letters.referrer_identity, letters.concern_attachments) == (
        "required",
        "withheld",
        "drop",
    )
    assert letters.assets is None and letters.logo == ""


def test_unquoted_off_turns_approval_off(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, BASE + "letters:\n  approval: off\n")).letters.approval == (
        "off"
    )


def test_a_contact_may_be_a_named_person_or_just_an_address(tmp_path: Path) -> None:
    text = changed(
        "    contacts: [manager@elmhouse.example]\n",
        "    contacts:\n"
        "      - {email: Manager@elmhouse.example, name: Ann Elm, job_title: Registered Manager}\n"
        "      - office@elmhouse.example\n"
        "    address: [1 Elm Road, Testtown]\n",
    )
    elm = load_config(write(tmp_path, text)).provider("elm")
    assert elm is not None
    assert elm.contacts == ["manager@elmhouse.example", "office@elmhouse.example"]
    first = elm.contact("manager@elmhouse.example")
    assert first is not None and (first.name, first.job_title) == ("Ann Elm", "Registered Manager")
    assert elm.contact_list[1].name == "" and elm.address == ["1 Elm Road", "Testtown"]


def test_a_bad_contact_address_points_at_its_line(tmp_path: Path) -> None:
    text = changed(
        "    contacts: [manager@elmhouse.example]\n",
        "    contacts:\n      - {email: not-an-address, name: Ann Elm}\n",
    )
    problem = only_problem(tmp_path, text)
    assert problem.line == line_of(text, "not-an-address")
    assert "not a valid email address" in problem.message


def test_letter_assets_must_exist_with_the_files_named(tmp_path: Path) -> None:
    text = BASE + "letters:\n  assets: letterhead\n  logo: crest.svg\n"
    problem = only_problem(tmp_path, text)
    assert problem.line == line_of(text, "assets: letterhead")
    assert "does not exist" in problem.message
    (tmp_path / "letterhead").mkdir()
    problem = only_problem(tmp_path, text)
    assert problem.line == line_of(text, "logo: crest.svg")
    assert "crest.svg' is not a file in" in problem.message
    (tmp_path / "letterhead" / "crest.svg").write_text("<svg/>")
    assert load_config(write(tmp_path, text)).letters.logo == "crest.svg"


def test_a_logo_needs_an_assets_folder(tmp_path: Path) -> None:
    text = BASE + "letters:\n  logo: crest.svg\n"
    problem = only_problem(tmp_path, text)
    assert "no letters.assets folder" in problem.message
def test_an_unknown_monthly_report_recipient_is_named_at_its_line(tmp_path: Path) -> None:
    text = BASE + "reports:\n  recipients: [nobody]\n"
    problem = only_problem(tmp_path, text)
    assert problem.line == line_of(text, "recipients: [nobody]")
    assert "'nobody' is not a person in people" in str(problem)
    assert load_config(write(tmp_path, BASE)).reports.monthly is True
