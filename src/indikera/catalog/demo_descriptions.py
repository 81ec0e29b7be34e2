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
from .model import Code, Description, Direction, IndicatorType, Person, Target, TargetLevel
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

# English texts of the demo descriptions (issue #16 item 5: lang=en shows them; the rest falls back to Swedish).
_EN: dict[str, tuple[str, str, str, str]] = {  # title, short title, description, purpose
    "10001": ("Care in a stroke unit", "Proportion (%)",
              "Proportion of patients with acute stroke cared for in a stroke unit at some time during the stay.",
              "Care in a stroke unit reduces mortality and disability; the indicator follows that every stroke patient gets it."),
    "10004": ("Surgery within 24 hours for hip fracture", "Proportion (%)",
              "Proportion of patients with hip fracture operated on within 24 hours of arriving at hospital.",
              "Early surgery for hip fracture reduces complications such as pressure ulcers and pneumonia."),
    "10005": ("Door-to-needle time for thrombolysis, median (minutes)", "Minutes, median",
              "Median time in minutes from arrival at hospital to the start of thrombolysis for ischaemic stroke.",
              "Every minute of delay to thrombolysis costs brain tissue; a short time is decisive."),
    "10006": ("Waiting time from referral to surgery, median (days)", "Days, median",
              "Median time in days from receipt of the referral to surgery for planned procedures.",
              "The waiting time reflects access to planned surgery and whether the care guarantee is met."),
    "10007": ("Mean length of stay after hip replacement (days)", "Days, mean",
              "Mean length of stay in days after elective total hip replacement.",
              "The length of stay reflects how well the care pathway is planned and how soon the patient is mobilised."),
    "10008": ("Number of registered cataract operations", "Number of operations",
              "Number of cataract operations registered during the period.",
              "The volume shows access to cataract surgery and is used to plan capacity."),
    "10009": ("HbA1c in people with type 1 diabetes, mean (mmol/mol)", "mmol/mol, mean",
              "Mean of the latest HbA1c in people with type 1 diabetes.",
              "HbA1c reflects blood glucose over time; lower levels reduce the risk of complications."),
    "10010": ("HbA1c below 52 mmol/mol in type 1 diabetes", "Proportion (%)",
              "Proportion of people with type 1 diabetes whose latest HbA1c is below 52 mmol/mol.",
              "The target below 52 mmol/mol reduces the risk of eye, kidney and nerve damage under the national guidelines."),
    "10013": ("Survival 30 days after myocardial infarction", "Proportion (%)",
              "Proportion of patients with acute myocardial infarction alive 30 days after arriving at hospital.",
              "Thirty-day survival is an overall measure of the results of acute cardiac care."),
    "10014": ("Number of hospital stays for COPD", "Number of stays",
              "Number of inpatient stays with a main diagnosis of chronic obstructive pulmonary disease (COPD).",
              "The number reflects the burden of disease and how well outpatient care prevents exacerbations."),
    "10015": ("Medication review for older people", "Proportion (%)",
              "Proportion of people aged 75 and over with at least five medicines who had a medication review during the year.",
              "Medication reviews reduce inappropriate use of medicines and medicine-related hospital admissions."),
    "10016": ("Readmission within 30 days", "Proportion (%)",
              "Proportion of hospital stays followed by an unplanned readmission within 30 days.",
              "Readmissions can reflect shortcomings in care or in the transfer to outpatient and municipal care."),
}
# The five texts of the demo's first indicator in English; the others show the Swedish (marked "sv").
_EN_TEXTS_10001 = {
    "texts.coverage": "Coverage compared with the national patient register is about 92 per cent nationally but varies "
                      "between hospitals from 80 to 99 per cent; units with lower coverage are marked.",
    "texts.dropout": "Dropout for the variable type of care is below 2 per cent. Patients who die within a day often "
                     "lack the information and are not in the denominator.",
    "texts.reporting": "Staff record the data in the registry's web form or they are transferred automatically from the "
                       "medical records. Reporting for a year closes on 31 March the following year.",
    "texts.interpretation": "Hospitals without their own stroke unit refer the most severely ill, which gives a different "
                            "case mix. Small hospitals have few cases per quarter, so their results vary by chance.",
    "texts.sourcesOfError": "Sources of error are a wrongly recorded type of care when patients move between wards, and "
                            "double registration when a patient moves between hospitals during one stay.",
    "numerator": "Number of patients with acute stroke cared for in a stroke unit during the stay.",
    "denominator": "Number of patients with acute stroke (I61, I63, I64) registered during the period.",
}
_UCUM = {"minuter": "min", "dagar": "d", "mmol/mol": "mmol/mol"}
_SEX_EN = {Sex.FEMALE: "women", Sex.MALE: "men"}
REPORTING_SYSTEM = Person("SE2321000000-INDIKERA", "indikera")  # the settings' demo defaults
REPORTING_ORGANISATION = Person("SE2321000000-REGISTER", "Registercentrum (demo)")
ICD10_SE = "1.2.752.116.1.1.1"
_SELECTIONS = {"10001": tuple(Code(c, ICD10_SE, t) for c, t in (("I61", "Intracerebral blödning"), ("I63", "Cerebral infarkt"),
                                                                  ("I64", "Akut cerebrovaskulär sjukdom, ej specificerad")))}


def _english(ind: Indicator) -> dict[str, str]:
    parent = ind.parent_measure_id or ind.measure_id
    title, short, desc, purpose = _EN[parent]
    if ind.sex is not None:
        who = _SEX_EN[ind.sex]
        title, desc = f"{title}, {who}", f"{desc.rstrip('.')}, among {who}."
        purpose = f"{purpose} The sub-measure for {who} shows differences between the sexes."
    out = {"title": title, "shortTitle": short, "description": desc, "purpose": purpose}
    return {**out, **(_EN_TEXTS_10001 if parent == "10001" else {})}


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
        regional_indicator=False,
        authored_at=VALID_FROM,
        selections=_SELECTIONS.get(ind.parent_measure_id or ind.measure_id, ()),
        reporting_system=REPORTING_SYSTEM,
        reporting_organisation=REPORTING_ORGANISATION,
        unit_ucum=_UCUM.get(spec.unit or ""),
        en=_english(ind),
    )


DEMO_REVIEWER = "demo-redaktionen"  # another person than the author: the demo shows the four-eyes rule kept


def seed(conn: Connection, demo_indicators: list[Indicator], actor: str = "demo") -> int:
    """Store version 1.0 of every demo description, reviewed and published by the (synthetic) editorial
    office, inside the demo build's transaction."""
    result = save(conn, [description_for(ind) for ind in demo_indicators], actor, reason="Demoregistret",
                  approve_as=DEMO_REVIEWER)
    if has_errors(result.findings):  # a broken demo is a bug: fail loudly
        raise RuntimeError("demo descriptions do not validate: " + "; ".join(str(f) for f in result.findings if f.is_error))
    return len(result.added)


__all__ = ["SPECS", "description_for", "seed"]
