"""The one settings loader: dataclass defaults, then a TOML table, then environment variables.

Used for the application's ``Settings`` (config.py), the VP stand-in's ``PlatformSettings`` and the
connection profiles (platform/). A field's type annotation decides how a raw value is read; an unknown
name, in the file or in the environment, is an error naming it, and so is a value of the wrong type (the
message names the setting and where the value came from). Messages are Swedish first, then English.
Stdlib only, so every layer can use it.
"""

from __future__ import annotations

import difflib
import math
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path
from typing import Any

TRUE = frozenset({"1", "true", "yes", "on", "ja"})
FALSE = frozenset({"0", "false", "no", "off", "nej", ""})


class ConfigError(ValueError):
    """A setting that cannot be used; ``str()`` is "Svenska. (English.)"."""

    def __init__(self, sv: str, en: str) -> None:
        super().__init__(f"{sv}. ({en}.)")
        self.sv, self.en = sv, en


@dataclass(frozen=True)
class Source:
    """Where values come from, for messages: a file (and table) or an environment variable."""

    sv: str
    en: str

    @classmethod
    def file(cls, path: Path | str, table: str | None = None) -> "Source":
        where = f"{path} [{table}]" if table else str(path)
        return cls(f"filen {where}", f"file {where}")

    @classmethod
    def variable(cls, name: str) -> "Source":
        return cls(f"miljövariabeln {name}", f"environment variable {name}")


@dataclass(frozen=True)
class _Kind:
    base: type  # bool, int, float, str, Path, tuple, dict
    optional: bool


@cache
def _kinds(cls: type) -> dict[str, _Kind]:
    hints = typing.get_type_hints(cls)
    out = {}
    for f in fields(cls):
        hint = hints[f.name]
        args = typing.get_args(hint)
        optional = typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args
        if optional:
            hint = next(a for a in args if a is not type(None))
        base = typing.get_origin(hint) or hint
        if base not in (bool, int, float, str, Path, tuple, dict):
            raise TypeError(f"{cls.__name__}.{f.name}: no reader for {hint!r}")
        out[f.name] = _Kind(base, optional)
    return out


def _bad(name: str, raw: Any, source: Source, sv: str, en: str) -> ConfigError:
    return ConfigError(f"{source.sv}: {name} = {raw!r} är inte {sv}", f"{source.en}: {name} = {raw!r} is not {en}")


def _scalar(raw: Any) -> bool:
    return isinstance(raw, (str, int, float)) and not isinstance(raw, bool)


def coerce(cls: type, name: str, raw: Any, source: Source) -> Any:
    """``raw`` (a TOML value or an environment string) as field ``name`` of ``cls`` wants it."""
    kind = _kinds(cls)[name]
    base = kind.base
    if kind.optional and (raw is None or raw == ""):
        return None
    if base is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower() if _scalar(raw) else None
        if text in TRUE or text in FALSE:
            return text in TRUE
        raise _bad(name, raw, source, "ett sanningsvärde (true/false)", "a boolean (true/false)")
    if base is int:
        try:
            if isinstance(raw, float) and raw.is_integer():
                return int(raw)
            if isinstance(raw, int) and not isinstance(raw, bool):
                return raw
            if isinstance(raw, str):
                return int(raw.strip())
        except ValueError:
            pass
        raise _bad(name, raw, source, "ett heltal", "a whole number")
    if base is float:
        try:
            value = float(raw.strip() if isinstance(raw, str) else raw) if _scalar(raw) else math.nan
        except ValueError:
            value = math.nan
        if math.isfinite(value):
            return value
        raise _bad(name, raw, source, "ett ändligt tal", "a finite number")
    if base is str:
        if _scalar(raw):
            return str(raw)
        raise _bad(name, raw, source, "en text", "a string")
    if base is Path:
        if isinstance(raw, str):
            return Path(raw)
        raise _bad(name, raw, source, "en sökväg", "a path")
    if base is tuple:
        items = raw.split(",") if isinstance(raw, str) else raw
        if isinstance(items, (list, tuple)) and all(_scalar(x) for x in items):
            return tuple(str(x).strip() for x in items if str(x).strip())
        raise _bad(name, raw, source, "en lista (kommaseparerad i miljön)", "a list (comma-separated in the environment)")
    # dict: {text: number}, from a TOML table or "key=number,key=number"
    if isinstance(raw, Mapping):
        pairs = list(raw.items())
    elif isinstance(raw, str):
        pairs = [(k.strip(), v) for k, _, v in (p.partition("=") for p in raw.split(",") if p.strip())]
    else:
        pairs = None
    try:
        if pairs is not None and not any(isinstance(v, bool) for _, v in pairs):
            table = {str(k): float(v) for k, v in pairs}
            if len(table) == len(pairs) and all(k and math.isfinite(v) for k, v in table.items()):
                return table
    except (TypeError, ValueError):
        pass
    raise _bad(name, raw, source, "en tabell {namn = tal}", "a table {name = number}")


def _unknown(cls: type, key: str, source: Source, known: Iterable[str]) -> ConfigError:
    near = difflib.get_close_matches(key, list(known), n=1)
    hint_sv, hint_en = (f"; menar du {near[0]!r}?", f"; did you mean {near[0]!r}?") if near else ("", "")
    return ConfigError(f"{source.sv}: okänd inställning {key!r}{hint_sv}",
                       f"{source.en}: unknown setting {key!r}{hint_en}")


def from_mapping(cls: type, data: Mapping[str, Any], source: Source, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """Every name of ``data`` read as a field of ``cls``; a name that is no field (or excluded) is an error."""
    known = [n for n in _kinds(cls) if n not in set(exclude)]
    values = {}
    for key, raw in data.items():
        if key not in known:
            raise _unknown(cls, key, source, known)
        values[key] = coerce(cls, key, raw, source)
    return values


def from_environment(cls: type, env: Mapping[str, str], prefix: str, *, ignore: Iterable[str] = ()) -> dict[str, Any]:
    """``<prefix><NAME>`` variables as fields of ``cls``. Other variables with the prefix are errors, except
    ``ignore`` (full names, or prefixes ending in ``_*``) that belong to something else."""
    kinds = _kinds(cls)
    exact = {i for i in ignore if not i.endswith("*")}
    starts = tuple(i[:-1] for i in ignore if i.endswith("*"))
    values = {}
    for var, raw in env.items():
        if not var.startswith(prefix) or var in exact or (starts and var.startswith(starts)):
            continue
        name = var[len(prefix):].lower()
        if name not in kinds:
            raise _unknown(cls, var, Source.variable(var), [prefix + k.upper() for k in kinds])
        values[name] = coerce(cls, name, raw, Source.variable(var))
    return values


def read_toml(path: Path, table: str | None = None) -> tuple[dict[str, Any], Source]:
    """The file's settings: the ``[table]`` if there is one, else the top level."""
    with Path(path).open("rb") as fh:
        try:
            data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"filen {path} är ingen giltig TOML: {exc}", f"file {path} is not valid TOML: {exc}") from None
    if table and table in data:
        found = data[table]
        if not isinstance(found, dict):
            raise ConfigError(f"filen {path}: [{table}] ska vara en tabell", f"file {path}: [{table}] must be a table")
        return found, Source.file(path, table)
    return data, Source.file(path)


def load(cls: type, *, file: Path | None = None, table: str | None = None, env: Mapping[str, str] | None = None,
         prefix: str | None = None, ignore_env: Iterable[str] = ()) -> Any:
    """``cls`` from its defaults, then ``file`` (its ``[table]`` or top level), then ``prefix`` variables of ``env``."""
    values: dict[str, Any] = {}
    if file is not None:
        data, source = read_toml(file, table)
        values.update(from_mapping(cls, data, source))
    if env is not None and prefix:
        values.update(from_environment(cls, env, prefix, ignore=ignore_env))
    return cls(**values)


__all__ = ["ConfigError", "Source", "coerce", "from_environment", "from_mapping", "load", "read_toml"]
