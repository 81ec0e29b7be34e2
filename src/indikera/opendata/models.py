"""Response shapes, for the OpenAPI document (the handlers build the JSON directly, for speed)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class OrganisationId(BaseModel):
    root: str = Field(description="OID of the code system (län, kommun, sjukhuskod, Land)")
    extension: str = Field(description="The code, e.g. länskod 01")


class Organisation(BaseModel):
    id: str = Field(description="Stable key: hsa:<HSA-id> or oid:<root>:<extension>")
    type: str = Field(description="Land, Lan, Kommun, Sjukhus, Vardenhet or Sjukvardsregion")
    typeLabel: str = Field(description="The type's label in the language asked for (lang)")
    name: str
    hsaId: str | None
    organisationId: OrganisationId | None
    parentId: str | None


class OrganisationEntry(Organisation):
    ancestors: list[str] = Field(description="Keys of the organisations above, nearest first")


class ConfidenceInterval(BaseModel):
    low: float
    high: float


class SourceSystem(BaseModel):
    root: str
    id: str
    name: str


class Result(BaseModel):
    measureId: str
    version: int
    periodStart: str = Field(description="YYYY-MM-DD, inclusive")
    periodEnd: str = Field(description="YYYY-MM-DD, inclusive")
    organisation: Organisation
    stratum: str | None
    kind: str = Field(description="proportion, continuous, cohort or missing")
    rate: float | None
    numerator: int | float | None = Field(description="A count: an integer when whole")
    denominator: int | float | None = Field(description="A count: an integer when whole")
    value: float | None
    measurePopulation: int | float | None = Field(description="A count: an integer when whole")
    cohort: int | float | None = Field(description="A count: an integer when whole")
    reasonCode: str | None = Field(description="MSK, INV, UNK or NI when the value is missing")
    confidenceInterval: ConfidenceInterval | None
    standardDeviation: float | None
    coverage: float | None
    exclusions: int | float | None = Field(description="A count: an integer when whole")
    referenceInterval: float | None
    firstServiceEncounter: str | None
    lastServiceEncounter: str | None
    sourceSystem: SourceSystem | None
    updatedAt: str | None


class Texts(BaseModel):
    coverage: Any = Field(None, description="Täckningsgrad")
    dropout: Any = Field(None, description="Bortfall")
    reporting: Any = Field(None, description="Hur inrapporteringen gått till")
    interpretation: Any = Field(None, description="Case-mix och tolkningsproblem")


class SubMeasure(BaseModel):
    measureId: str
    sex: str | None


class Indicator(BaseModel):
    measureId: str
    version: int
    descriptionVersion: str | None
    title: str
    shortTitle: Any
    description: Any
    purpose: Any
    unitType: str
    measureKind: str
    frequency: str
    organisationalLevels: list[str]
    indicatorType: str | None
    keywords: list[str]
    sex: str | None
    parentMeasureId: str | None
    subMeasures: list[SubMeasure]
    displayThreshold: int | None
    texts: Texts
    descriptionUpdatedAt: str | None
    openSince: str | None
    document: dict[str, Any] | None = Field(description="The full catalogue description, when there is one")
    links: dict[str, str]
    labels: dict[str, Any] = Field(description="Labels of the codes (unitType, frequency, levels, …) in the language asked for")
    textLanguage: str = Field(description="Language of the texts shown: sv, en (every text in English) or mixed "
                                          "(lang=en where only some texts are translated; see textLanguages)")
    textLanguages: dict[str, str] = Field(default_factory=dict,
                                          description="Per text field (title, texts.coverage, …): sv or en, the language it is in")


class DescriptionVersion(BaseModel):
    descriptionVersion: str
    createdAt: str | None
    document: dict[str, Any]


class Page(BaseModel):
    count: int = Field(description="Items on this page")
    total: int = Field(description="Items matching the query on all pages together (for /results: one COUNT)")
    next: str | None = Field(description="URL of the next page; null on the last page")
    nextCursor: str | None


class IndicatorPage(Page):
    items: list[Indicator]


class ResultPage(Page):
    items: list[Result]


class OrganisationPage(Page):
    items: list[OrganisationEntry]


class Change(BaseModel):
    model_config = {"extra": "allow"}
    id: str
    type: str = Field(description="results-published, results-depublished, indicator-opened, indicator-closed, description-updated")
    at: str


class ChangePage(Page):
    items: list[Change]


class VersionList(BaseModel):
    measureId: str
    items: list[DescriptionVersion]
