"""Renders letter and email templates (sandboxed Jinja2) into a subject, plain text and HTML."""

from __future__ import annotations

import os
import re
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import (
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    Undefined,
    UndefinedError,
    nodes,
    select_autoescape,
)
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from bot.config.yamlsource import Problem
from bot.letters.sample import sample_context

MESSAGE_SUFFIX = ".txt.j2"
LAYOUT = "_layout.html.j2"
LETTER_LAYOUT = "_letter.html.j2"
REQUIRED_BLOCKS = ("subject", "body")
# Joins a paragraph's lines in the HTML layout; the lines themselves are escaped by the join.
LINE_BREAK = Markup("<br>\n")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")
# Spelled out rather than strftime("%A") so output never depends on the process locale.
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
)  # fmt: skip

__all__ = ["Rendered", "Renderer", "longdate", "sample_context", "shortdate"]


@dataclass(frozen=True)
class Rendered:
    """One message ready to compose: a one-line subject and the same body as text and HTML."""

    subject: str
    text: str
    html: str


def _as_date(value: Any, filter_name: str) -> date:
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()  # documented Undefined API: raises UndefinedError
    if not isinstance(value, date):
        raise TypeError(f"{filter_name} needs a date, not {type(value).__name__}")
    return value


def longdate(value: Any) -> str:
    """'Thursday 3 December 2026'."""
    day = _as_date(value, "longdate")
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def shortdate(value: Any) -> str:
    """'03/12/2026'."""
    day = _as_date(value, "shortdate")
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def quote(value: Any) -> str:
    """Prefix each line with '> ', so quoted email text stands apart from ours."""
    return "\n".join(f"> {line}".rstrip() for line in str(value).splitlines())


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    joined = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return joined + "\n"


def _one_line(subject: str) -> str:
    # A newline in a subject would be a header injection; collapse all whitespace.
    return " ".join(subject.split())


def paragraphs(text: str) -> list[dict[str, Any]]:
    """Split tidy text into paragraphs; a paragraph of '> ' lines becomes a quotation.

    Each has its `lines`, and `html`: the lines escaped and joined with LINE_BREAK, what
    `lines|join(line_break)` gives in an autoescaped layout, made here without a filter call
    through the sandbox for every paragraph of every letter."""
    result: list[dict[str, Any]] = []
    for chunk in text.strip("\n").split("\n\n"):
        lines = chunk.split("\n")
        quoted = all(line.startswith(">") for line in lines)
        if quoted:
            lines = [line[1:].removeprefix(" ") for line in lines]
        result.append({"quoted": quoted, "lines": lines, "html": LINE_BREAK.join(lines)})
    return result


def _stamps(directory: Path) -> dict[str, tuple[int, int]]:
    """Each file's modification time and size: what changes when a template is edited."""
    found: dict[str, tuple[int, int]] = {}
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                try:
                    info = entry.stat()
                except OSError:
                    continue  # gone since the listing: the next look sees it
                found[entry.name] = (info.st_mtime_ns, info.st_size)
    except OSError:
        pass  # no folder yet: the first render says so
    return found


class _Environment(ImmutableSandboxedEnvironment):
    """The sandbox, with `item.name` on a plain dict looked up as a key at once.

    Jinja tries the attribute first and falls back to the key when that raises; the letter
    context is plain dicts, so nearly every look-up raised and was caught (half the time of a
    digest of hundreds of lines). A name dict has as an attribute (`items`, `keys`...) still
    goes the sandbox's way, so templates read exactly as before.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and not hasattr(dict, attribute):
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


class Renderer:
    """Loads templates from one directory; email text only ever enters as context values."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._loader = FileSystemLoader(str(self.directory))
        # Immutable: a template may read the context but never change the caller's case data.
        self._env = _Environment(
            loader=self._loader,
            undefined=StrictUndefined,
            autoescape=select_autoescape(
                enabled_extensions=("html.j2", "html"), default_for_string=False, default=False
            ),
            trim_blocks=True,
            lstrip_blocks=True,
            # Edits are looked for once per poll and tick (`refresh`): jinja's own check looks
            # at each template and its layouts on the disk every time a letter uses them.
            auto_reload=False,
        )
        self._env.filters.update(longdate=longdate, shortdate=shortdate, quote=quote)
        # Whether each loaded template extends a layout, so its source is parsed once, not per
        # letter; keyed by the Template object, which jinja replaces when the file changes.
        self._extends_cache: dict[str, tuple[Template, bool]] = {}
        self._stamps = _stamps(self.directory)
        self._html_layout: Template | None = None

    def refresh(self) -> bool:
        """Templates edited since the last look are read again when next used; True if any
        was. The bot looks once at the start of each poll and tick."""
        stamps = _stamps(self.directory)
        if stamps == self._stamps:
            return False
        self._stamps = stamps
        if self._env.cache is not None:
            self._env.cache.clear()
        self._extends_cache.clear()
        self._html_layout = None
        return True

    def names(self) -> set[str]:
        """Message template names: every `<name>.txt.j2` not starting with '_'."""
        return {
            path.name.removesuffix(MESSAGE_SUFFIX)
            for path in self.directory.glob(f"*{MESSAGE_SUFFIX}")
            if not path.name.startswith("_")
        }

    def render(self, name: str, context: Mapping[str, Any]) -> Rendered:
        if not _NAME.match(name):
            raise TemplateNotFound(f"{name}{MESSAGE_SUFFIX}")
        template = self._env.get_template(f"{name}{MESSAGE_SUFFIX}")
        # One context for the subject and the body: the template reads it and cannot change
        # it (the sandbox is immutable, and a block's `set` stays in the block).
        values = template.new_context(dict(context))
        subject = _one_line(self._block(template, "subject", values))
        if self._extends(template):
            text = self._whole(template, values)
        else:
            # A stand-alone template would print its subject too; take only the body.
            text = self._block(template, "body", values)
        text = _tidy(text)
        html = self._layout().render(
            subject=subject, paragraphs=paragraphs(text), line_break=LINE_BREAK
        )
        return Rendered(subject=subject, text=text, html=html)

    def _layout(self) -> Template:
        """The HTML layout, held between letters (`refresh` lets it go with the others)."""
        if self._html_layout is None:
            self._html_layout = self._env.get_template(LAYOUT)
        return self._html_layout

    def render_page(self, layout: str, values: Mapping[str, Any]) -> str:
        """An HTML page from a layout template (autoescaped), such as the letterhead."""
        return self._env.get_template(layout).render(dict(values))

    def _block(self, template: Template, block: str, values: Context) -> str:
        render_block = template.blocks.get(block)
        if render_block is None:
            raise TemplateError(f"{template.name} has no {{% block {block} %}}")
        try:
            return "".join(render_block(values))
        except Exception:
            # Re-raised with the traceback mapped to template lines, as Template.render does.
            self._env.handle_exception()

    def _whole(self, template: Template, values: Context) -> str:
        """What Template.render gives, from a context already made."""
        try:
            return "".join(template.root_render_func(values))
        except Exception:
            self._env.handle_exception()

    def _extends(self, template: Template) -> bool:
        name = template.name or ""
        cached = self._extends_cache.get(name)
        if cached is not None and cached[0] is template:
            return cached[1]
        source, _, _ = self._loader.get_source(self._env, name)
        extends = self._env.parse(source).find(nodes.Extends) is not None
        self._extends_cache[name] = (template, extends)
        return extends

    def lint(self, context: Mapping[str, Any] | None = None) -> list[Problem]:
        """Syntax errors, missing blocks and render failures, each with file and line.

        Each message template is rendered with `context`, or by default with
        `sample_context(name)`, so every variable it uses must exist in the letter context.
        """
        found: dict[tuple[str, int, str], Problem] = {}

        def add(path: Path, line: int, message: str, fix: str) -> None:
            problem = Problem(file=str(path), line=line, key=path.name, message=message, fix=fix)
            found.setdefault((problem.file, problem.line, problem.message), problem)

        for layout in (LAYOUT, LETTER_LAYOUT):
            if not (self.directory / layout).is_file():
                add(self.directory / layout, 1, f"the shared HTML layout {layout} is missing",
                    f"restore templates/{layout} from the release")  # fmt: skip
        for path in sorted(self.directory.glob("*.j2")):
            try:
                tree = self._env.parse(path.read_text(encoding="utf-8"), path.name, str(path))
            except TemplateSyntaxError as err:
                add(path, err.lineno, f"syntax error: {err.message}", "correct the Jinja syntax")
                continue
            except UnicodeDecodeError:
                add(path, 1, "the file is not UTF-8 text", "save it as UTF-8")
                continue
            if path.name.startswith("_") or not path.name.endswith(MESSAGE_SUFFIX):
                continue
            defined = {block.name for block in tree.find_all(nodes.Block)}
            # A template that extends a layout may inherit its body; the subject is always its own.
            required = ("subject",) if tree.find(nodes.Extends) else REQUIRED_BLOCKS
            missing = [block for block in required if block not in defined]
            for block in missing:
                add(
                    path,
                    1,
                    f"no {{% block {block} %}}",
                    f"add {{% block {block} %}}...{{% endblock %}}",
                )
            if missing:
                continue
            name = path.name.removesuffix(MESSAGE_SUFFIX)
            values = context if context is not None else sample_context(name)
            try:
                self.render(name, values)
            except UndefinedError as err:
                add(*self._where(err, path), f"undefined variable: {err.message}",
                    "use only the letter context variables, or guard it with "
                    "'{% if ... is defined %}'")  # fmt: skip
            except Exception as err:  # any failure in a council-edited template is a lint finding
                add(*self._where(err, path), f"{type(err).__name__}: {err}",
                    "correct the expression on that line")  # fmt: skip
        return list(found.values())

    def _where(self, err: BaseException, fallback: Path) -> tuple[Path, int]:
        """The innermost template frame of a rendering error (may be a base template)."""
        for frame in reversed(traceback.extract_tb(err.__traceback__)):
            if frame.filename.endswith(".j2") and frame.lineno is not None:
                return Path(frame.filename), frame.lineno
        return fallback, 1
