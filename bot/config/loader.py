"""Read config.yaml into a Config, or fail with every problem found, each with file and line."""

from __future__ import annotations

from pathlib import Path

import pydantic

from bot.config.checks import cross_check
from bot.config.model import Config
from bot.config.secret_keys import secret_literal_problems
from bot.config.yamlsource import (
    Problem,
    ProblemsError,
    YamlDoc,
    load_yaml,
    problems_from_validation,
)


def load_config(path: Path) -> Config:
    """Load and check a config file; relative paths in it count from the file's folder."""
    doc = load_yaml(path)
    return config_from_doc(doc)


def config_from_doc(doc: YamlDoc) -> Config:
    if not isinstance(doc.data, dict):
        raise ProblemsError(
            [
                Problem(
                    doc.file,
                    doc.line_for(()),
                    "",
                    "the file is empty or is not a set of 'key: value' lines",
                    "start from the example config.yaml",
                )
            ]
        )
    secrets = secret_literal_problems(doc)
    secret_keys = {problem.key for problem in secrets}
    context = {"base_dir": doc.path.parent.resolve()}
    try:
        config = Config.model_validate(doc.data, context=context)
    except pydantic.ValidationError as err:
        # A secret key is also an unknown key; say it once, as the secret it is.
        found = [p for p in problems_from_validation(err, doc, Config) if p.key not in secret_keys]
        raise ProblemsError(_in_file_order(secrets + found)) from None
    problems = secrets + cross_check(config, doc)
    if problems:
        raise ProblemsError(_in_file_order(problems))
    return config


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda problem: problem.line)
