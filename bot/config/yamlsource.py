"""Load YAML with the line of every key and item; turn mistakes into Problems a person can fix."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydantic
import yaml
from pydantic.fields import FieldInfo
from yaml.nodes import MappingNode, Node, SequenceNode

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file, said so that a person can fix it."""

    file: str
    line: int
    key: str
    message: str
    fix: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line > 0 else self.file
        key = f" {self.key}:" if self.key else ""
        fix = f" Fix: {self.fix}" if self.fix else ""
        return f"{where}:{key} {self.message}.{fix}"


class ProblemsError(Exception):
    """Raised when a file cannot be used; carries every problem found, not just the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class YamlDoc:
    """Parsed YAML plus the 1-based line where each key or sequence item starts."""

    data: Any
    path: Path
    lines: dict[Loc, int] = field(default_factory=dict)

    @property
    def file(self) -> str:
        return str(self.path)

    def line_for(self, loc: Sequence[str | int]) -> int:
        """Line of the key or item at `loc`, or of its nearest parent that exists."""
        prefix: Loc = tuple(loc)
        while prefix:
            if prefix in self.lines:
                return self.lines[prefix]
            prefix = prefix[:-1]
        return self.lines.get((), 1)

    def has(self, loc: Sequence[str | int]) -> bool:
        return tuple(loc) in self.lines

    def problem(self, loc: Sequence[str | int], message: str, fix: str) -> Problem:
        """A Problem placed at `loc` in this document."""
        return Problem(self.file, self.line_for(loc), format_loc(loc), message, fix)


def format_loc(loc: Sequence[str | int]) -> str:
    """`("providers", 1, "allocated_officer")` -> `providers[1].allocated_officer`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def load_yaml(path: Path) -> YamlDoc:
    """Read and parse a YAML file; any read or syntax error becomes a ProblemsError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        fix = "check the path (relative paths count from the config file's folder)"
        raise ProblemsError([Problem(str(path), 0, "", "file not found", fix)]) from None
    except (OSError, UnicodeDecodeError) as exc:
        fix = "make the file readable and save it as UTF-8"
        raise ProblemsError([Problem(str(path), 0, "", f"cannot read file: {exc}", fix)]) from None
    if _FastLoader is not None:
        try:
            return _parse(_FastLoader(text), path)
        except (yaml.YAMLError, ProblemsError):
            pass  # read again below: the pure-Python parser words mistakes better
    return _parse(_Loader(text), path)


def _parse(loader: yaml.SafeLoader, path: Path) -> YamlDoc:
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
        lines: dict[Loc, int] = {(): 1}
        found: list[Problem] = []
        if node is not None:
            lines[()] = node.start_mark.line + 1
            _record_lines(loader, node, (), lines, found, str(path))
    except _UnreadableValue as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        fix = "write a real date like 2026-12-31, or put the value in quotes if it is text"
        raise ProblemsError([Problem(str(path), line, "", str(exc.problem), fix)]) from None
    except yaml.MarkedYAMLError as exc:
        raise ProblemsError([_syntax_problem(str(path), exc)]) from None
    except yaml.YAMLError as exc:
        fix = "check the YAML syntax"
        raise ProblemsError([Problem(str(path), 0, "", f"YAML error: {exc}", fix)]) from None
    finally:
        loader.dispose()
    if found:
        raise ProblemsError(found)
    return YamlDoc(data=data, path=path, lines=lines)


class _UnreadableValue(yaml.MarkedYAMLError):
    """A scalar YAML recognised (a date, say) but could not build, such as 2026-02-30."""


class _Values:
    """Builds values like SafeLoader, giving a value it cannot build the node's line."""

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)  # type: ignore[misc]
        except (ValueError, OverflowError) as exc:
            # PyYAML raises these without a position; give the node's line.
            raise _UnreadableValue(
                problem=f"cannot read {node.value!r}: {exc}", problem_mark=node.start_mark
            ) from exc


class _Loader(_Values, yaml.SafeLoader):
    """The pure-Python parser, whose messages the syntax problems are worded from."""


# libyaml's parser, several times faster with the same line marks, reads files with no
# mistakes; a file it refuses is read again by _Loader to say what is wrong.
_FastLoader: Any = (
    type("_FastLoader", (_Values, yaml.CSafeLoader), {}) if yaml.__with_libyaml__ else None
)


def _syntax_problem(file: str, exc: yaml.MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 0
    what = str(exc.problem or exc)
    context = exc.context_mark
    if exc.context and context is not None and context.line + 1 != line:
        what += f" ({exc.context} started on line {context.line + 1})"
    elif exc.context:
        what = f"{exc.context}: {what}"
    fix = "check indentation, colons, brackets and quoting on this line and the ones above"
    if "\t" in what or "\\t" in what:
        fix = "indent with spaces, not tabs"
    return Problem(file, line, "", f"YAML syntax error: {what}", fix)


def _record_lines(
    loader: yaml.SafeLoader,
    node: Node,
    loc: Loc,
    lines: dict[Loc, int],
    found: list[Problem],
    file: str,
    open_nodes: frozenset[int] = frozenset(),
) -> None:
    if id(node) in open_nodes:  # an alias inside its own anchor: the data would be endless
        line = node.start_mark.line + 1
        message = "this alias refers to a block that contains it"
        found.append(Problem(file, line, format_loc(loc), message, "copy the values instead"))
        return
    open_nodes = open_nodes | {id(node)}
    if isinstance(node, MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int):
                key = str(key)
            child = (*loc, key)
            if key in seen:
                fix = "keep one of them and delete the other"
                found.append(
                    Problem(
                        file,
                        key_node.start_mark.line + 1,
                        format_loc(child),
                        f"key '{key}' appears twice",
                        fix,
                    )
                )
            seen.add(key)
            lines[child] = key_node.start_mark.line + 1
            _record_lines(loader, value_node, child, lines, found, file, open_nodes)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*loc, index)] = item.start_mark.line + 1
            _record_lines(loader, item, (*loc, index), lines, found, file, open_nodes)


def problems_from_validation(
    err: pydantic.ValidationError,
    doc: YamlDoc,
    model: type[pydantic.BaseModel] | None = None,
) -> list[Problem]:
    """One Problem per pydantic error, in plain English, at the line the error points to.

    Pass the validated `model` so an unknown key can be matched against the right field names.
    """
    problems: list[Problem] = []
    for error in err.errors():
        loc = _data_loc(tuple(error["loc"]), doc)
        message, fix = _explain(error, loc, model)
        problems.append(Problem(doc.file, doc.line_for(loc), format_loc(loc), message, fix))
    return problems


def _data_loc(loc: Loc, doc: YamlDoc) -> Loc:
    """Drop the parts pydantic adds that are not in the data (union member names, '[key]')."""
    kept: list[str | int] = []
    for index, part in enumerate(loc):
        candidate = (*kept, part)
        is_last = index == len(loc) - 1
        if doc.has(candidate) or (is_last and not str(part).startswith(("function-", "["))):
            kept.append(part)
    return tuple(kept)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_TYPE_WORDS = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "date_type": "a date like 2026-11-01",
    "date_parsing": "a date like 2026-11-01",
    "date_from_datetime_parsing": "a date like 2026-11-01",
    "date_from_datetime_inexact": "a date like 2026-11-01",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "dict_type": "a set of 'key: value' lines",
    "model_type": "a set of 'key: value' lines",
    "model_attributes_type": "a set of 'key: value' lines",
    "path_type": "a file or folder path",
}


def _explain(error: Any, loc: Loc, model: type[pydantic.BaseModel] | None) -> tuple[str, str]:
    kind: str = error["type"]
    ctx: dict[str, Any] = error.get("ctx") or {}
    name = str(loc[-1]) if loc else "value"
    if kind == "missing":
        field = _fields_at(model, loc[:-1]).get(name)
        about = f" ({field.description})" if field is not None and field.description else ""
        return f"required key '{name}' is missing", f"add '{name}:' here{about}"
    if kind == "extra_forbidden":
        allowed = sorted(_fields_at(model, loc[:-1]))
        close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
        if close:
            return f"unknown key '{name}'", f"did you mean '{close[0]}'?"
        if allowed:
            return f"unknown key '{name}'", f"remove it; keys allowed here: {', '.join(allowed)}"
        return f"unknown key '{name}'", "remove it or check its spelling"
    if kind in _TYPE_WORDS:
        what = _TYPE_WORDS[kind]
        return f"{_show(error.get('input'))} is not {what}", f"write {what} here"
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        return f"{_show(error.get('input'))} is not allowed here", f"use one of {expected}"
    if "fix" in ctx:  # our own validators raise PydanticCustomError with a ready-made fix
        return str(error["msg"]), str(ctx["fix"])
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        return f"{_show(error.get('input'))}: {error['msg'].lower()}", "change the number"
    if kind in {"too_short", "too_long"}:
        return f"{error['msg'].lower()}", "add items" if kind == "too_short" else "remove items"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, "), "correct the value"
    return f"{_show(error.get('input'))}: {error['msg']}", "correct the value"


def _fields_at(model: type[pydantic.BaseModel] | None, loc: Loc) -> dict[str, FieldInfo]:
    """The fields accepted at `loc` inside `model`, found by following its annotations."""
    current: list[Any] = [model] if model is not None else []
    for part in loc:
        following: list[Any] = []
        for kind in _flatten(current):
            if isinstance(kind, type) and issubclass(kind, pydantic.BaseModel):
                if isinstance(part, str) and part in kind.model_fields:
                    following.append(kind.model_fields[part].annotation)
            elif typing.get_origin(kind) in (list, tuple, set, frozenset, dict, Sequence):
                args = typing.get_args(kind)
                following.extend(args[-1:] if typing.get_origin(kind) is dict else args)
        current = following
    fields: dict[str, FieldInfo] = {}
    for kind in _flatten(current):
        if isinstance(kind, type) and issubclass(kind, pydantic.BaseModel):
            fields.update(kind.model_fields)
    return fields


def _flatten(kinds: list[Any]) -> list[Any]:
    """Unwrap Optional, Union and Annotated into the plain types inside them."""
    out: list[Any] = []
    for kind in kinds:
        origin = typing.get_origin(kind)
        if origin is typing.Annotated:
            out.extend(_flatten([typing.get_args(kind)[0]]))
        elif origin in (typing.Union, types.UnionType):
            out.extend(_flatten(list(typing.get_args(kind))))
        else:
            out.append(kind)
    return out
