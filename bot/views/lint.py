"""`lint`: check config, procedure, classification and command rules, and templates together."""

from __future__ import annotations

from pathlib import Path

from bot.classify import load_classification
from bot.commands import load_command_policy
from bot.config import load_config
from bot.config.yamlsource import Problem, ProblemsError
from bot.letters.document import letter_problems
from bot.letters.render import Renderer
from bot.procedure.loader import load_procedure


def lint(config_path: Path) -> int:
    problems: list[Problem] = []
    try:
        config = load_config(config_path)
    except ProblemsError as err:
        problems.extend(err.problems)
        config = None
    if config is not None:
        renderer = Renderer(config.templates)
        problems.extend(renderer.lint())
        problems.extend(letter_problems(config, renderer))
        stages: set[str] | None = None
        try:
            stages = set(load_procedure(config.rules.procedure, renderer.names()).stages)
        except ProblemsError as err:
            problems.extend(err.problems)
        for load in (
            lambda: load_classification(config.rules.classification, stages=stages),
            lambda: load_command_policy(config.rules.commands),
        ):
            try:
                load()
            except ProblemsError as err:
                problems.extend(err.problems)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s)")
        return 1
    print("ok: config, rules and templates are valid")
    return 0
