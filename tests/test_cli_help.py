"""One rule for the command line's help texts: "Svensk text. (English text.)" — Swedish first, English in
parentheses. It holds for every group, command, argument and option in the whole tree (README, "The command
line")."""

from __future__ import annotations

import pytest
import typer
import typer.main

from indikera.cli import app


def split_help(text: str | None) -> tuple[str, str] | None:
    """(Swedish, English) of a help text that follows the rule, else None.

    The English part is the balanced parenthesis that ends the text; both parts must hold words and end as
    sentences do, and they must differ (an English text twice is no Swedish text)."""
    text = " ".join((text or "").split())
    if not text.endswith(")"):
        return None
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(text[i], 0)
        if depth == 0:
            break
    else:
        return None
    swedish, english = text[:i].strip(), text[i + 1 : -1].strip()
    if not (swedish and english and any(c.isalpha() for c in swedish) and any(c.isalpha() for c in english)):
        return None
    if swedish[-1] not in ".!?" or english[-1] not in ".!?" or swedish == english:
        return None
    return swedish, english


def _walk(command, path: str):
    yield path, command
    if hasattr(command, "list_commands"):  # a group
        ctx = typer.Context(command)
        for name in command.list_commands(ctx):
            yield from _walk(command.get_command(ctx, name), f"{path} {name}")


def help_texts() -> list[tuple[str, str | None]]:
    """(where, help text) of every group, command, argument and option under ``indikera``."""
    found = []
    for path, command in _walk(typer.main.get_command(app), "indikera"):
        found.append((path, command.help))
        for param in command.params:
            if param.name == "help" or getattr(param, "hidden", False):  # --help is the framework's own
                continue
            found.append((f"{path} {'/'.join(param.opts)}", getattr(param, "help", None)))
    return found


def test_the_tree_is_walked_whole():
    where = [w for w, _ in help_texts()]
    for expected in ("indikera catalog publish", "indikera import approve", "indikera certs csr",
                     "indikera conformance run", "indikera db upgrade --db"):
        assert expected in where
    assert len(where) > 150


def test_every_help_text_is_swedish_then_english_in_parentheses():
    offenders = [f"{where}: {text!r}" for where, text in help_texts() if split_help(text) is None]
    assert not offenders, f'{len(offenders)} help texts do not read "Svensk text. (English text.)":\n' + "\n".join(offenders)


@pytest.mark.parametrize("text, parts", [
    ("Lista importomgångar. (List import batches.)", ("Lista importomgångar.", "List import batches.")),
    ("Fil (JSON) att läsa. (File (JSON) to read.)", ("Fil (JSON) att läsa.", "File (JSON) to read.")),
    ("List import batches.", None),                           # English only
    ("Lista importomgångar.", None),                          # Swedish only
    ("(List import batches.)", None),                         # no Swedish part
    ("Lista importomgångar. ()", None),                       # empty English part
    ("List batches. (List batches.)", None),                  # the same text twice
    ("Lista (List import batches.)", None),                   # the Swedish part is no sentence
    (None, None),
])
def test_the_rule_itself(text, parts):
    assert split_help(text) == parts
