"""Checks of the letters section: the assets folder and the files it names exist."""

from __future__ import annotations

from bot.config.letter_settings import LetterSettings
from bot.config.yamlsource import Problem, YamlDoc


def letter_problems(letters: LetterSettings, doc: YamlDoc) -> list[Problem]:
    """The logo and signature picture must be files in the assets folder, which must exist."""
    problems: list[Problem] = []
    named = [(key, getattr(letters, key)) for key in ("logo", "signature_image")]
    if letters.assets is None:
        for key, value in named:
            if value:
                problems.append(
                    doc.problem(
                        ("letters", key),
                        f"{key} '{value}' is given but there is no letters.assets folder",
                        "add 'assets: <folder>' to letters, holding the file",
                    )
                )
        return problems
    if not letters.assets.is_dir():
        return [
            doc.problem(
                ("letters", "assets"),
                f"the letters assets folder {letters.assets} does not exist",
                "create it (with the logo and letter.css), or remove the key for the plain "
                "built-in letterhead",
            )
        ]
    for key, value in named:
        if not value:
            continue
        path = letters.assets / value
        if "/" in value or "\\" in value or not path.is_file():
            problems.append(
                doc.problem(
                    ("letters", key),
                    f"{key} '{value}' is not a file in {letters.assets}",
                    "give the name of a file in the assets folder, like logo.svg",
                )
            )
    return problems
