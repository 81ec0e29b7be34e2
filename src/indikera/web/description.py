"""What the indicator page shows of a catalogue description.

The description comes typed from the catalogue's one reader (``catalog.store.description_versions``),
which reads a stored document leniently: a missing field shows as "not described" rather than failing the
page, because the page must still show results for an indicator whose description is incomplete or absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..catalog.localize import in_language, localized
from ..catalog.model import Description, Direction

# The four texts the catalogue requires, then the sources of error: (JSON key, i18n label key).
REQUIRED_TEXTS: tuple[tuple[str, str], ...] = (
    ("coverage", "text_coverage"),
    ("dropout", "text_dropout"),
    ("reporting", "text_reporting"),
    ("interpretation", "text_interpretation"),
    ("sourcesOfError", "text_sources_of_error"),
)
OPTIONAL_TEXTS: tuple[tuple[str, str], ...] = (("interpretationPublic", "text_interpretation_public"),)

_DIRECTIONS = {Direction.HIGH: "direction_high", Direction.LOW: "direction_low"}


@dataclass(frozen=True)
class TextItem:
    key: str
    label_key: str
    text: str | None  # None: the description does not say
    lang: str = "sv"  # the language the text is written in (en only where English was asked for and written)


@dataclass(frozen=True)
class TargetItem:
    level: str
    organisation: str
    value: float


@dataclass(frozen=True)
class DescriptionView:
    present: bool  # False: no catalogue description stored; the page falls back to the indicator row
    version: str | None = None
    description: str | None = None
    purpose: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    value_definition: str | None = None
    inclusion: str | None = None
    exclusion: str | None = None
    unit: str | None = None
    direction_key: str | None = None
    indicator_type: str | None = None
    sources: tuple[str, ...] = ()
    texts: tuple[TextItem, ...] = field(default_factory=tuple)
    targets: tuple[TargetItem, ...] = ()
    title_en: str | None = None  # the English title, when asked for and written
    langs: dict[str, str] = field(default_factory=dict)  # JSON path (description, texts.coverage, …) → sv | en

    def lang_of(self, path: str) -> str:
        """The ``lang`` attribute for a text: what it is really written in."""
        return self.langs.get(path, "sv")


def _clean(value: str | None) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def read(d: Description | None, lang: str = "sv") -> DescriptionView:
    """The page's view of ``d``; with ``lang="en"`` its English texts where written (Swedish elsewhere)."""
    if d is None:
        return DescriptionView(present=False, texts=tuple(TextItem(k, label, None) for k, label in REQUIRED_TEXTS))
    langs = {path: t["lang"] for path, t in localized(d, lang).items()}
    d = in_language(d, lang)
    texts = [TextItem(k, label, _clean(d.texts.get(k)), langs.get(f"texts.{k}", "sv")) for k, label in REQUIRED_TEXTS]
    texts += [TextItem(k, label, t, langs.get(f"texts.{k}", "sv")) for k, label in OPTIONAL_TEXTS if (t := _clean(d.texts.get(k)))]
    return DescriptionView(
        present=True,
        version=d.version_text,
        description=_clean(d.description),
        purpose=_clean(d.purpose),
        numerator=_clean(d.numerator),
        denominator=_clean(d.denominator),
        value_definition=_clean(d.value_definition),
        inclusion=_clean(d.inclusion_criteria),
        exclusion=_clean(d.exclusion_criteria),
        unit=_clean(d.unit),
        direction_key=_DIRECTIONS.get(d.direction) if d.direction else None,
        indicator_type=d.indicator_type.value if d.indicator_type else None,
        sources=tuple(s for s in d.sources if s.strip()),
        texts=tuple(texts),
        targets=tuple(TargetItem(t.level.value if t.level else "", t.organisation or "riket", t.value) for t in d.targets),
        title_en=d.title if langs.get("title") == "en" else None,
        langs=langs,
    )
