"""Catalogue descriptions of the 16 demo indicators (Demoregistret): synthetic but plausible Swedish texts.

``seed`` stores version 1.0 of each, built from the demo's indicator identities so the two always agree.
Sex sub-measures reuse their parent's texts with the population named.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection

from ..domain.indicators import Frequency, Indicator, MeasureKind, Sex
from .findings import has_errors
from .model import Description, Direction, IndicatorType, Person, Target, TargetLevel
from .store import save

OWNER = Person("SE2321000000-DEMOREG", "Demoregistret, registerhållare")
AUTHOR = Person("SE2321000000-DEMO01", "Registrets kvalitetsredaktör (syntetisk)")
SOURCE = "Demoregistret (syntetiska data, inga verkliga patientuppgifter)"
VALID_FROM = date(2021, 1, 1)


@dataclass(frozen=True)
class _Spec:
    short_title: str
    description: str
    purpose: str
    itype: IndicatorType
    direction: Direction
    group: str
    keywords: tuple[str, ...]
    coverage: str
    dropout: str
    reporting: str
    interpretation: str
    errors: str
    numerator: str | None = None
    denominator: str | None = None
    value_definition: str | None = None
    unit: str | None = None
    inclusion: str | None = None
    exclusion: str | None = None
    target: float | None = None
    public: str | None = None


_COMMON_REPORTING = (
    "Uppgifterna registreras av vårdpersonal i registrets webbformulär eller överförs automatiskt från "
    "journalsystemet. Registret stänger inrapporteringen för ett år den 31 mars året därpå; värden för "
    "senare kvartal kan därför ändras när eftersläpande registreringar kommer in."
)

SPECS: dict[str, _Spec] = {
    "10001": _Spec(
        "Andel (%)",
        "Andel patienter med akut stroke som vårdas på en strokeenhet någon gång under vårdtillfället.",
        "Vård på strokeenhet minskar dödlighet och funktionsnedsättning; indikatorn följer att alla patienter "
        "med stroke får tillgång till den vårdformen.",
        IndicatorType.PROCESS, Direction.HIGH, "Stroke", ("stroke", "strokeenhet", "akutvård"),
        "Täckningsgraden jämfört med patientregistret är omkring 92 procent i riket men varierar mellan "
        "sjukhus från 80 till 99 procent; enheter med lägre täckning redovisas med en markering.",
        "Bortfallet för variabeln vårdform är under 2 procent. Patienter som avlider inom ett dygn saknar "
        "ofta uppgift och ingår inte i nämnaren.",
        _COMMON_REPORTING,
        "Sjukhus utan egen strokeenhet remitterar de svårast sjuka, vilket ger olika patientsammansättning. "
        "Små sjukhus har få fall per kvartal och resultaten varierar därför slumpmässigt mellan perioder.",
        "Felkällor är felaktigt angiven vårdform vid överflyttning mellan avdelningar och dubbelregistrering "
        "när patienten flyttas mellan sjukhus under samma vårdtillfälle.",
        numerator="Antal patienter med akut stroke som vårdats på strokeenhet under vårdtillfället.",
        denominator="Antal patienter med akut stroke (I61, I63, I64) registrerade under perioden.",
        inclusion="Akut stroke, diagnos I61, I63 eller I64, 18 år och äldre.",
        exclusion="Patienter som vårdats enbart i öppenvård.",
        target=0.9,
        public="Ju högre andel, desto fler patienter får vård på en avdelning specialiserad på stroke.",
    ),
    "10004": _Spec(
        "Andel (%)",
        "Andel patienter med höftfraktur som opereras inom 24 timmar från ankomst till sjukhus.",
        "Tidig operation vid höftfraktur minskar komplikationer som trycksår, lunginflammation och "
        "förvirring, och förkortar vårdtiden.",
        IndicatorType.PROCESS, Direction.HIGH, "Ortopedi", ("höftfraktur", "väntetid", "operation"),
        "Registret täcker 95 procent av höftfrakturoperationerna enligt jämförelse med patientregistret; "
        "två mindre sjukhus rapporterar endast delar av året.",
        "Tidpunkt för ankomst saknas för cirka 3 procent av operationerna; de ingår inte i nämnaren.",
        _COMMON_REPORTING,
        "Patienter som behandlas med blodförtunnande läkemedel kan behöva vänta på operation av medicinska "
        "skäl. Sjukhus med äldre och sjukare patienter får därför en lägre andel utan att vården är sämre.",
        "Ankomsttiden kan avse akutmottagningen eller avdelningen beroende på sjukhusets rutiner, vilket "
        "gör jämförelser mellan sjukhus något osäkra.",
        numerator="Antal operationer för höftfraktur där operationen startat inom 24 timmar från ankomst.",
        denominator="Antal operationer för höftfraktur under perioden med känd ankomsttid.",
        target=0.8,
    ),
    "10005": _Spec(
        "Minuter, median",
        "Mediantid i minuter från ankomst till sjukhus till start av trombolysbehandling vid ischemisk stroke.",
        "Varje minuts fördröjning av trombolys leder till förlust av hjärnvävnad; kort tid är avgörande "
        "för utfallet.",
        IndicatorType.PROCESS, Direction.LOW, "Stroke", ("stroke", "trombolys", "dörr till nål"),
        "Alla sjukhus som ger trombolys rapporterar; täckningsgraden för behandlingen är över 95 procent "
        "jämfört med läkemedelsregistrering på sjukhusen.",
        "Tidpunkt för behandlingsstart saknas för omkring 4 procent av trombolyserna och ingår inte.",
        _COMMON_REPORTING,
        "Patienter som kommer via prehospital larmkedja behandlas snabbare än de som söker själva. Sjukhus "
        "med få trombolyser per år får ett osäkert medianvärde.",
        "Klockslag avrundas ibland till hel- eller halvtimme i journalen, vilket ger en skev fördelning.",
        value_definition="Median av tiden i minuter från registrerad ankomst till start av trombolys.",
        unit="minuter",
        target=30,
    ),
    "10006": _Spec(
        "Dagar, median",
        "Mediantid i dagar från att remissen mottagits till operation för planerade ingrepp.",
        "Väntetiden speglar tillgängligheten till planerad kirurgi och vårdgarantins uppfyllelse.",
        IndicatorType.STRUKTUR, Direction.LOW, "Tillgänglighet", ("väntetid", "remiss", "vårdgaranti"),
        "Omkring 88 procent av de planerade operationerna har både remissdatum och operationsdatum "
        "registrerade; täckningen är lägre för privata vårdgivare.",
        "Remissdatum saknas för 9 procent av operationerna, oftast vid internremisser inom sjukhuset.",
        _COMMON_REPORTING,
        "Patienter som själva skjuter upp operationen räknas med om de inte markerats som patientvald "
        "väntan. Skillnader i hur det markeras påverkar jämförelser mellan regioner.",
        "Datum för mottagen remiss kan vara datum för registrering i stället för ankomst, vilket förkortar "
        "den redovisade väntetiden.",
        value_definition="Median av antal dagar från mottagen remiss till operationsdatum.",
        unit="dagar",
    ),
    "10007": _Spec(
        "Dagar, medelvärde",
        "Genomsnittlig vårdtid i dagar efter elektiv total höftprotesoperation.",
        "Vårdtiden speglar hur väl vårdförloppet är planerat och hur snabbt patienten kan mobiliseras.",
        IndicatorType.RESULTAT, Direction.LOW, "Ortopedi", ("höftprotes", "vårdtid"),
        "Täckningsgraden är 97 procent för primära höftprotesoperationer jämfört med patientregistret.",
        "Utskrivningsdatum saknas för cirka 1 procent av operationerna, som då inte ingår.",
        _COMMON_REPORTING,
        "Sjukhus som opererar äldre patienter med fler sjukdomar har längre vårdtid. Tillgång till "
        "kommunal eftervård påverkar när patienten kan skrivas ut.",
        "Överflyttning till annat sjukhus för rehabilitering räknas som utskrivning, vilket ger kortare "
        "vårdtid där sådan samverkan finns.",
        value_definition="Medelvärde av antal dagar från operationsdag till utskrivningsdag.",
        unit="dagar",
    ),
    "10008": _Spec(
        "Antal operationer",
        "Antal registrerade kataraktoperationer under perioden.",
        "Volymen visar tillgången till kataraktkirurgi och används för att planera kapacitet.",
        IndicatorType.STRUKTUR, Direction.UNKNOWN, "Ögon", ("katarakt", "gråstarr", "volym"),
        "Registret omfattar uppskattningsvis 98 procent av alla kataraktoperationer i landet.",
        "Bortfallet är litet; enstaka privata kliniker rapporterar med upp till tre månaders fördröjning.",
        _COMMON_REPORTING,
        "Antalet beror på befolkningens storlek och ålder och på var patienterna väljer att opereras; "
        "det säger ingenting om kvaliteten i sig.",
        "Operationer på båda ögonen samma dag kan registreras som en eller två operationer beroende på klinik.",
        value_definition="Antal kataraktoperationer med operationsdatum inom perioden.",
    ),
    "10009": _Spec(
        "mmol/mol, medelvärde",
        "Medelvärde av senaste HbA1c hos personer med typ 1-diabetes.",
        "HbA1c speglar blodsockernivån över tid; lägre nivåer minskar risken för komplikationer.",
        IndicatorType.RESULTAT, Direction.LOW, "Diabetes", ("diabetes", "HbA1c", "typ 1-diabetes"),
        "Täckningsgraden är omkring 90 procent av personer med typ 1-diabetes enligt läkemedelsregistret.",
        "Cirka 6 procent saknar HbA1c-värde under perioden och ingår inte i beräkningen.",
        _COMMON_REPORTING,
        "Enheter med många nyinsjuknade eller unga vuxna har högre medelvärde; skillnader i ålder och "
        "diabetesduration bör beaktas vid jämförelse.",
        "Laboratoriemetoder skiljer sig något mellan regioner, vilket kan ge systematiska skillnader.",
        value_definition="Medelvärde av senast registrerade HbA1c (mmol/mol) per person under perioden.",
        unit="mmol/mol",
        target=52,
    ),
    "10010": _Spec(
        "Andel (%)",
        "Andel personer med typ 1-diabetes vars senaste HbA1c är under 52 mmol/mol.",
        "Målnivån under 52 mmol/mol minskar risken för ögon-, njur- och nervskador enligt nationella riktlinjer.",
        IndicatorType.RESULTAT, Direction.HIGH, "Diabetes", ("diabetes", "HbA1c", "målnivå"),
        "Täckningsgraden är omkring 90 procent av personer med typ 1-diabetes enligt läkemedelsregistret.",
        "Cirka 6 procent saknar HbA1c-värde under perioden och ingår inte i nämnaren.",
        _COMMON_REPORTING,
        "Andelen påverkas av ålder, diabetesduration och socioekonomi i enhetens upptagningsområde.",
        "Laboratoriemetoder skiljer sig något mellan regioner, vilket kan ge systematiska skillnader.",
        numerator="Antal personer med typ 1-diabetes vars senaste HbA1c under perioden är under 52 mmol/mol.",
        denominator="Antal personer med typ 1-diabetes med minst ett HbA1c-värde under perioden.",
        target=0.5,
    ),
    "10013": _Spec(
        "Andel (%)",
        "Andel patienter med akut hjärtinfarkt som lever 30 dagar efter ankomst till sjukhus.",
        "Trettiodagarsöverlevnad är ett samlat mått på den akuta hjärtsjukvårdens resultat.",
        IndicatorType.RESULTAT, Direction.HIGH, "Hjärtsjukvård", ("hjärtinfarkt", "överlevnad"),
        "Täckningsgraden är 93 procent jämfört med patientregistret; uppgift om död hämtas från dödsorsaksregistret.",
        "Bortfall saknas i praktiken eftersom överlevnad samkörs med folkbokföringen; utlandssvenskar ingår inte.",
        _COMMON_REPORTING,
        "Resultatet är inte justerat för ålder eller samsjuklighet. Sjukhus som tar emot de svårast sjuka "
        "från andra sjukhus kan få lägre överlevnad.",
        "Patienter som avlider före ankomst till sjukhus ingår inte, vilket gör att andelen överskattar "
        "överlevnaden i befolkningen.",
        numerator="Antal patienter med akut hjärtinfarkt som lever 30 dagar efter ankomst.",
        denominator="Antal patienter med akut hjärtinfarkt (I21) som vårdats på sjukhus under perioden.",
    ),
    "10014": _Spec(
        "Antal vårdtillfällen",
        "Antal vårdtillfällen i slutenvård med huvuddiagnos kroniskt obstruktiv lungsjukdom (KOL).",
        "Antalet speglar sjukdomsbördan och hur väl öppenvården förebygger försämringar som kräver slutenvård.",
        IndicatorType.RESULTAT, Direction.LOW, "Lungsjukdomar", ("KOL", "slutenvård", "vårdtillfällen"),
        "Registret fångar omkring 85 procent av vårdtillfällena för KOL jämfört med patientregistret.",
        "Vårdtillfällen där KOL är bidiagnos ingår inte, vilket underskattar den totala vårdkonsumtionen.",
        _COMMON_REPORTING,
        "Antalet beror på befolkningens storlek, rökvanor och ålder och bör inte jämföras utan hänsyn "
        "till befolkningsunderlaget.",
        "Diagnossättningen skiljer sig mellan sjukhus; vissa anger infektion som huvuddiagnos vid KOL-exacerbation.",
        value_definition="Antal avslutade vårdtillfällen med huvuddiagnos J44 under perioden.",
    ),
    "10015": _Spec(
        "Andel (%)",
        "Andel personer 75 år och äldre med minst fem läkemedel som fått en läkemedelsgenomgång under året.",
        "Läkemedelsgenomgångar minskar olämplig läkemedelsanvändning och läkemedelsrelaterade sjukhusinläggningar.",
        IndicatorType.PROCESS, Direction.HIGH, "Äldres hälsa", ("läkemedel", "äldre", "läkemedelsgenomgång"),
        "Uppgiften finns endast från vårdcentraler som använder strukturerad registrering, ungefär 70 procent "
        "av enheterna; resultaten är därför tills vidare begränsade till avtalade mottagare.",
        "Vårdcentraler som dokumenterar i fritext saknar uppgift helt och ingår inte.",
        _COMMON_REPORTING,
        "Enheter med många patienter i särskilt boende genomför fler genomgångar på grund av kommunala rutiner.",
        "Enkla och fördjupade läkemedelsgenomgångar registreras med samma kod hos vissa vårdgivare.",
        numerator="Antal personer i nämnaren med registrerad läkemedelsgenomgång under perioden.",
        denominator="Antal personer 75 år och äldre med minst fem förskrivna läkemedel listade på enheten.",
    ),
    "10016": _Spec(
        "Andel (%)",
        "Andel vårdtillfällen som följs av en oplanerad återinskrivning inom 30 dagar.",
        "Återinskrivningar kan spegla brister i vården eller i överföringen till öppenvård och kommun.",
        IndicatorType.RESULTAT, Direction.LOW, "Samordning", ("återinskrivning", "utskrivning", "samverkan"),
        "Täckningsgraden är under utredning; indikatorn är därför inte publicerad.",
        "Återinskrivningar på annat sjukhus i annan region fångas inte, vilket underskattar andelen.",
        _COMMON_REPORTING,
        "Andelen är inte justerad för patienternas sjuklighet; sjukhus med många multisjuka äldre får högre andel.",
        "Det är svårt att skilja planerade från oplanerade återinskrivningar i registreringen.",
        numerator="Antal vårdtillfällen följda av oplanerad återinskrivning inom 30 dagar efter utskrivning.",
        denominator="Antal vårdtillfällen med utskrivning till hemmet under perioden.",
    ),
}
_SEX_NAMES = {Sex.FEMALE: "kvinnor", Sex.MALE: "män"}


def description_for(ind: Indicator) -> Description:
    """The demo description of ``ind`` (a sub-measure takes its parent's texts)."""
    spec = SPECS[ind.parent_measure_id or ind.measure_id]
    desc, purpose = spec.description, spec.purpose
    if ind.sex is not None:
        who = _SEX_NAMES[ind.sex]
        desc = f"{spec.description.rstrip('.')}, bland {who}."
        purpose = f"{spec.purpose} Delmåttet för {who} visar skillnader mellan könen."
    frequencies = (Frequency.YEAR,) if ind.frequency is Frequency.YEAR else (Frequency.YEAR, ind.frequency)
    targets = ()
    if spec.target is not None:
        targets = (Target(TargetLevel.MALNIVA, "riket", float(spec.target), VALID_FROM, None, OWNER.hsa_id),)
    texts = {
        "coverage": spec.coverage,
        "dropout": spec.dropout,
        "reporting": spec.reporting,
        "interpretation": spec.interpretation,
        "sourcesOfError": spec.errors,
    }
    if spec.public:
        texts["interpretationPublic"] = spec.public
    kind: MeasureKind = ind.unit_type.kind
    return Description(
        measure_id=ind.measure_id,
        version_major=ind.version,
        version_minor=0,
        title=ind.title,
        short_title=spec.short_title,
        description=desc,
        purpose=purpose,
        sources=(SOURCE,),
        direction=spec.direction,
        indicator_type=spec.itype,
        unit_type=ind.unit_type,
        measure_kind=kind,
        frequencies=frequencies,
        levels=tuple(sorted(ind.levels, key=lambda lv: lv.value)),
        owner=OWNER,
        texts=texts,
        valid_from=VALID_FROM,
        unit=spec.unit,
        numerator=spec.numerator,
        denominator=spec.denominator,
        value_definition=spec.value_definition,
        inclusion_criteria=spec.inclusion,
        exclusion_criteria=spec.exclusion,
        groups=(spec.group,),
        keywords=spec.keywords + ((_SEX_NAMES[ind.sex],) if ind.sex else ()),
        authors=(AUTHOR,),
        targets=targets,
        parent_measure_id=ind.parent_measure_id,
        sex=ind.sex,
        display_threshold=ind.display_threshold,
    )


def seed(conn: Connection, demo_indicators: list[Indicator], actor: str = "demo") -> int:
    """Store version 1.0 of every demo description (inside the demo build's transaction)."""
    result = save(conn, [description_for(ind) for ind in demo_indicators], actor)
    if has_errors(result.findings):  # a broken demo is a bug: fail loudly
        raise RuntimeError("demo descriptions do not validate: " + "; ".join(str(f) for f in result.findings if f.is_error))
    return len(result.added)


__all__ = ["SPECS", "description_for", "seed"]
