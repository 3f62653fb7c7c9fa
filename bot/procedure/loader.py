"""Loads rules/procedure.yaml into a checked Procedure, or says what is wrong and where."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from bot.config.yamlsource import ProblemsError, load_yaml, problems_from_validation
from bot.procedure.checks import check_procedure
from bot.procedure.model import Procedure


def load_procedure(path: Path, template_names: set[str] | None = None) -> Procedure:
    """Load and check the procedure; mistakes raise ProblemsError naming file, line and fix."""
    doc = load_yaml(path)
    try:
        procedure = Procedure.model_validate(doc.data)
    except ValidationError as err:
        raise ProblemsError(problems_from_validation(err, doc)) from None
    problems = check_procedure(procedure, doc, template_names)
    if problems:
        raise ProblemsError(problems)
    return procedure
