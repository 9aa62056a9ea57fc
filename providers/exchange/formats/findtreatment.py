"""Read the FindTreatment.gov locator's JSON into provider records.

The locator lists a facility's services as labelled values under a category
code: ``{"f2": "SET", "f3": "Outpatient; Residential"}``. ``LABEL_TERMS`` below
is the one table of how a (code, label) pair becomes our vocabulary, documented
in docs/IMPORT.md; the labels of "Other Languages" (OL) are language names, which
``providers.exchange.languages`` maps as it does for every format. A label neither
knows is reported back with the record, never silently dropped, unless its whole
code is descriptive.

The rule is the SAMHSA reader's: never invent a fact the record does not contain.
"""

import json
import math
import re
from pathlib import Path

from providers.exchange.formats.files import read_text
from providers.exchange.formats.samhsa import OTHER_LANGUAGES as SAMHSA_OTHER_LANGUAGES
from providers.exchange.formats.samhsa import TERRITORY_COUNTRIES, region_name
from providers.exchange.languages import language_code
from providers.exchange.records import TERM_FIELDS, ImportFileError, Record, blank_placeholder

_MAT = ("modalities", "mat")
_COUNSELING = ("modalities", "counseling")
_PEER_SUPPORT = ("modalities", "peer-support")
_HOLISTIC = ("modalities", "holistic")
_OUTPATIENT = ("care_settings", "outpatient")
_INPATIENT = ("care_settings", "inpatient")
_AFTERCARE = ("care_settings", "aftercare")
_METHADONE = ("medications", "methadone")
_BUPRENORPHINE = ("medications", "buprenorphine")
_PUBLIC_INSURANCE = ("payment_options", "public-insurance")
_PUBLIC_FUNDING = ("payment_options", "public-funding")
# Entries that are not taxonomy terms: a scalar field set to a value, or a sentence for the description.
_TELEHEALTH = ("telehealth", True)
_DETOXIFICATION = ("description", "Offers detoxification.")
_MENTAL_HEALTH = ("description", "Offers mental health treatment.")

# The category of the locator's "Other Languages", whose labels are language names. The shared lookup
# maps them to ISO 639-1 but for one: Chinese varieties share "zh", as ISO 639-1 has no code of their
# own for them, and the CLDR counts Cantonese a language of its own (yue).
LANGUAGES = "OL"
CHINESE_VARIETIES = {"Cantonese": "zh"}

# Labels are compared with runs of whitespace collapsed: the locator's own
# labels carry stray double spaces ("Buprenorphine with naloxone  (Suboxone®)").
LABEL_TERMS: dict[tuple[str, str], tuple[tuple[str, object], ...]] = {
    # Type of care
    ("TC", "Detoxification"): (_DETOXIFICATION,),
    ("TC", "Mental health treatment"): (_MENTAL_HEALTH,),
    ("DETOX", "Alcohol Detoxification"): (_DETOXIFICATION,),
    ("DETOX", "Benzodiazepines Detoxification"): (_DETOXIFICATION,),
    ("DETOX", "Cocaine Detoxification"): (_DETOXIFICATION,),
    ("DETOX", "Methamphetamine Detoxification"): (_DETOXIFICATION,),
    ("DETOX", "Opioid Detoxification"): (_DETOXIFICATION,),
    # Service settings
    ("SET", "Outpatient"): (_OUTPATIENT,),
    ("SET", "Regular outpatient treatment"): (_OUTPATIENT,),
    ("SET", "Intensive outpatient treatment"): (_OUTPATIENT,),
    ("SET", "Outpatient day treatment or partial hospitalization"): (_OUTPATIENT,),
    ("SET", "Partial hospitalization/day treatment"): (_OUTPATIENT,),
    ("SET", "Outpatient methadone/buprenorphine or naltrexone treatment"): (_OUTPATIENT, _MAT),
    ("SET", "Residential"): (_INPATIENT,),
    ("SET", "Short-term residential"): (_INPATIENT,),
    ("SET", "Long-term residential"): (_INPATIENT,),
    ("SET", "Hospital inpatient"): (_INPATIENT,),
    ("SET", "Residential detoxification"): (_INPATIENT, _DETOXIFICATION),
    ("SET", "Telemedicine/telehealth"): (_TELEHEALTH,),
    ("SET", "Computerized treatment/telemedicine"): (_TELEHEALTH,),
    ("TRSRV", "Aftercare/continuing care"): (_AFTERCARE,),
    # Opioid treatment and medications
    ("OM", "Methadone used in Treatment"): (_MAT, _METHADONE),
    ("OT", "Methadone maintenance"): (_MAT, _METHADONE),
    ("OT", "Methadone maintenance for predetermined time"): (_MAT, _METHADONE),
    ("OT", "Buprenorphine used in Treatment"): (_MAT, _BUPRENORPHINE),
    ("OT", "Buprenorphine maintenance"): (_MAT, _BUPRENORPHINE),
    ("OT", "Buprenorphine maintenance for predetermined time"): (_MAT, _BUPRENORPHINE),
    ("OT", "Buprenorphine detoxification"): (_MAT, _BUPRENORPHINE, _DETOXIFICATION),
    ("OT", "Prescribes/administers buprenorphine"): (_MAT, _BUPRENORPHINE),
    # These do not say whether the naltrexone is oral or the monthly injection.
    ("OT", "Naltrexone used in Treatment"): (_MAT,),
    ("OT", "Prescribes/administers naltrexone"): (_MAT,),
    ("OT", "Relapse prevention from naltrexone"): (_MAT,),
    # A certified programme dispenses medication, but not necessarily methadone.
    ("OT", "SAMHSA-certified Opioid Treatment Program"): (_MAT,),
    ("EXCL", "All Clients in Opioid Treatment Program"): (_MAT,),
    ("EXCL", "Methadone and buprenorphine clients only"): (_MAT, _METHADONE, _BUPRENORPHINE),
    ("PHR", "Methadone"): (_MAT, _METHADONE),
    ("PHR", "Buprenorphine with naloxone (Suboxone®)"): (_MAT, _BUPRENORPHINE),
    ("PHR", "Buprenorphine without naloxone"): (_MAT, _BUPRENORPHINE),
    ("PHR", "Buprenorphine (extended-release, injectable, for example, Sublocade®)"): (_MAT, _BUPRENORPHINE),
    ("PHR", "Naltrexone (oral)"): (_MAT, ("medications", "naltrexone")),
    ("PHR", "Extended-release, injectable Naltrexone (Vivitrol®)"): (
        _MAT,
        ("medications", "extended-release-naltrexone"),
    ),
    # Counselling and therapy
    ("TAP", "Anger management"): (_COUNSELING,),
    ("TAP", "Behavior modification"): (_COUNSELING,),
    ("TAP", "Brief intervention"): (_COUNSELING,),
    ("TAP", "Cognitive behavioral therapy"): (_COUNSELING,),
    ("TAP", "Community reinforcement plus vouchers"): (_COUNSELING,),
    ("TAP", "Contingency management/motivational incentives"): (_COUNSELING,),
    ("TAP", "Couples/family therapy"): (_COUNSELING,),
    ("TAP", "Dialectical behavior therapy"): (_COUNSELING,),
    ("TAP", "Group therapy"): (_COUNSELING,),
    ("TAP", "Individual psychotherapy"): (_COUNSELING,),
    ("TAP", "Integrated dual disorders treatment"): (_COUNSELING,),
    ("TAP", "Matrix Model"): (_COUNSELING,),
    ("TAP", "Motivational interviewing"): (_COUNSELING,),
    ("TAP", "Rational emotive behavioral therapy"): (_COUNSELING,),
    ("TAP", "Relapse prevention"): (_COUNSELING,),
    ("TAP", "Substance use counseling approach"): (_COUNSELING,),
    ("TAP", "Trauma therapy"): (_COUNSELING,),
    ("TAP", "Trauma-related counseling"): (_COUNSELING,),
    # A counsellor-led therapy whose aim is joining 12-step mutual-help groups.
    ("TAP", "12-step facilitation"): (_COUNSELING, _PEER_SUPPORT),
    ("EDU", "Individual counseling offered"): (_COUNSELING,),
    ("EDU", "Group counseling offered"): (_COUNSELING,),
    ("EDU", "Family counseling offered"): (_COUNSELING,),
    ("EDU", "Marital/couples counseling offered"): (_COUNSELING,),
    # Peer support and holistic approaches
    ("AS", "Consumer-run (peer-support) services"): (_PEER_SUPPORT,),
    ("AS", "Self-help groups"): (_PEER_SUPPORT,),
    # Our holistic term names acupuncture, exercise, nutrition and art therapy explicitly.
    ("AS", "Acupuncture"): (_HOLISTIC,),
    ("AS", "Diet and exercise counseling"): (_HOLISTIC,),
    ("TAP", "Activity therapy"): (_HOLISTIC,),
    # Payment
    ("PAY", "Cash or self-payment"): (("payment_options", "self-pay"),),
    ("PAY", "Private health insurance"): (("payment_options", "private-insurance"),),
    ("PAY", "Military insurance (e.g., TRICARE)"): (("payment_options", "military-insurance"),),
    ("PAY", "Medicaid"): (_PUBLIC_INSURANCE,),
    ("PAY", "Medicare"): (_PUBLIC_INSURANCE,),
    ("PAY", "State-financed health insurance plan other than Medicaid"): (_PUBLIC_INSURANCE,),
    ("PAY", "Federal, or any government funding for substance abuse programs"): (_PUBLIC_FUNDING,),
    ("PAY", "Community Mental Health Block Grants"): (_PUBLIC_FUNDING,),
    ("PAY", "Community Service Block Grants"): (_PUBLIC_FUNDING,),
    ("PAY", "County or local government funds"): (_PUBLIC_FUNDING,),
    ("PAY", "IHS/Tribal/Urban (ITU) funds"): (_PUBLIC_FUNDING,),
    ("PAY", "Other State funds"): (_PUBLIC_FUNDING,),
    ("PAY", "State corrections or juvenile justice funds"): (_PUBLIC_FUNDING,),
    ("PAY", "State education funds"): (_PUBLIC_FUNDING,),
    ("PAY", "State mental health agency (or equivalent) funds"): (_PUBLIC_FUNDING,),
    ("PAY", "State welfare or child and family services funds"): (_PUBLIC_FUNDING,),
    ("PAY", "U.S. Department of VA funds"): (_PUBLIC_FUNDING,),
    ("PYAS", "Sliding fee scale (fee is based on income and other factors)"): (("payment_options", "sliding-scale"),),
    ("PYAS", "Payment assistance (check with facility for details)"): (("payment_options", "payment-assistance"),),
    # Populations: only the groups a facility accepts or runs a programme for,
    # never inferred from a treatment approach.
    ("AGE", "Children/adolescents"): (("populations", "adolescents"),),
    ("AGE", "Young adults"): (("populations", "young-adults"),),
    ("AGE", "Adults"): (("populations", "adults"),),
    ("AGE", "Seniors (65 or older)"): (("populations", "seniors"),),
    ("SG", "Adolescents"): (("populations", "adolescents"),),
    ("SG", "Transitional age young adults"): (("populations", "young-adults"),),
    ("SG", "Seniors or older adults"): (("populations", "seniors"),),
    ("SG", "Adult women"): (("populations", "women"),),
    ("SG", "Adult men"): (("populations", "men"),),
    ("SG", "Pregnant/postpartum women"): (("populations", "pregnant-women"),),
    ("SG", "Lesbian, gay, bisexual, or transgender (LGBT) clients"): (("populations", "lgbtq"),),
    ("SG", "Veterans"): (("populations", "veterans"),),
    ("SG", "Active duty military"): (("populations", "active-duty-military"),),
    ("SG", "Military families"): (("populations", "military-families"),),
    ("SG", "Clients referred from the court/judicial system"): (("populations", "justice-involved"),),
    ("SG", "Persons with co-occurring mental and substance use disorders"): (("populations", "co-occurring"),),
    ("SG", "Persons who have experienced trauma"): (("populations", "trauma-survivors"),),
    # PTSD follows a trauma by definition.
    ("SG", "Persons with post-traumatic stress disorder (PTSD)"): (("populations", "trauma-survivors"),),
    ("SG", "Persons who have experienced intimate partner violence, domestic violence"): (
        ("populations", "domestic-violence-survivors"),
    ),
    ("SG", "Persons who have experienced sexual abuse"): (("populations", "sexual-abuse-survivors"),),
    ("SG", "Persons with HIV or AIDS"): (("populations", "people-with-hiv"),),
    # Despite the category's name the locator lists it beside other groups: a programme, not "only".
    ("EXCL", "DUI/DWI clients"): (("populations", "dui-dwi"),),
    ("SL", "Services for the deaf and hard of hearing"): (("populations", "deaf-or-hard-of-hearing"),),
}

# Labels of mapped codes that state something true but nothing a person filters on here.
DESCRIPTIVE_LABELS = {
    ("TC", "Substance use treatment"),  # true of the whole locator
    # Opioid treatment that is no medication treatment, or not for addiction
    ("OT", "Accepts clients on opioid medication"),
    ("OT", "Do not use medication for opioid addiction"),
    ("OT", "Does not treat opioid addiction"),
    ("OT", "Use methadone/buprenorphine for pain management or emergency dosing"),
    # Medications for alcohol or for mental health, which our medication list does not cover
    ("PHR", "Acamprosate (Campral®)"),
    ("PHR", "Disulfiram (Antabuse®)"),
    ("PHR", "Medications for psychiatric disorders"),
    ("TAP", "Psychotropic medication"),
    ("TAP", "Electroconvulsive therapy"),
    # Education and support services, not counselling
    ("EDU", "Substance abuse education"),
    ("EDU", "Employment counseling or training"),
    ("EDU", "HIV or AIDS education, counseling, or support"),
    ("EDU", "Hepatitis education, counseling, or support"),
    ("EDU", "Health education services other than HIV/AIDS or hepatitis"),
    ("TRSRV", "Discharge Planning"),
    ("AS", "Assertive community treatment"),
    ("AS", "Assistance with obtaining social services"),
    ("AS", "Case management"),
    ("AS", "Intensive case management"),
    ("AS", "Chronic disease/illness management"),
    ("AS", "Illness management and recovery"),
    ("AS", "Integrated primary care services"),
    ("AS", "Mental health services"),
    ("AS", "Psychosocial rehabilitation services"),
    ("AS", "Family psychoeducation"),
    ("AS", "Education services"),
    ("AS", "Social skills development"),
    ("AS", "Suicide prevention services"),
    ("AS", "Transportation assistance"),
    # Not our terms' meaning: child care is not a residential place for a client's child,
    # housing help is not transitional housing, DV services may serve either partner,
    # HIV early intervention serves people at risk too, and court-ordered outpatient
    # treatment is civil commitment rather than a criminal-justice referral.
    ("AS", "Child care for clients' children"),
    ("AS", "Housing services"),
    ("AS", "Supported housing"),
    ("AS", "Domestic violence services-family or partner"),
    ("AS", "Early intervention for HIV"),
    ("AS", "Court-ordered outpatient treatment"),
    # Programmes for mental health conditions we have no population for; age is in AGE.
    ("SG", "Children/adolescents with serious emotional disturbance (SED)"),
    ("SG", "Persons with serious mental illness (SMI)"),
    ("SG", "Persons with Alzheimer's or dementia"),
    ("SG", "Persons with eating disorders"),
    ("SG", "Persons with traumatic brain injury (TBI)"),
}

# Codes that describe the facility's operation, licences, screening, policies or other
# addictions rather than a choice a person filters on: none of their labels is reported.
DESCRIPTIVE_CODES = {
    "ASSES",  # assessment and pre-treatment
    "EMS",  # emergency mental health services
    "FOP",  # facility operation (private, public, ...)
    "FT",  # facility type; the settings are in SET
    "GN",  # genders accepted; "women"/"men" mean programmes for them (SG)
    "HOSP",  # hospital type
    "LCA",  # licences, certification, accreditation
    "OTHR",  # gambling, internet and other non-substance addictions
    "SCR",  # screening and testing
    "SMP",  # smoking policy
    "TOBAC",  # tobacco screening and cessation
}

# Languages without an ISO 639-1 code, kept as text in the description: SAMHSA's own list, plus Hmong.
OTHER_LANGUAGES = frozenset(SAMHSA_OTHER_LANGUAGES.values()) | {"Hmong"}

_ZIP_PLUS_FOUR = re.compile(r"(\d{5})-?(\d{4})", re.ASCII)
_SHORT_ZIP = re.compile(r"\d{1,4}", re.ASCII)


def read(path, options=None):
    """A Record for every facility of a locator export, in file order."""
    path = Path(path)
    facilities = _facilities(_parse(path), path.name)
    return [_record(number, facility) for number, facility in enumerate(facilities, 1)]


def _parse(path):
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as error:
        raise ImportFileError(f"{path.name} is not valid JSON: {error.msg} (line {error.lineno}).") from None


def _facilities(data, name):
    """The facility objects of a bare list, or of the locator's paged response ``{"page": 1, "rows": [...]}``."""
    rows = data.get("rows") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise ImportFileError(
            f"{name} must hold a JSON list of FindTreatment.gov facilities, "
            'or the locator\'s response with a "rows" list.'
        )
    for number, facility in enumerate(rows, 1):
        _check_facility(facility, number, name)
    return rows


def _check_facility(facility, number, name):
    if not isinstance(facility, dict):
        raise ImportFileError(f"{name}: facility {number} is not a JSON object.")
    frid = _text(facility.get("frid"))
    if not frid:
        raise ImportFileError(
            f"{name}: facility {number} has no frid, the locator's facility id that matches it on a later import."
        )
    services = facility.get("services") or []
    if not isinstance(services, list) or not all(isinstance(service, dict) for service in services):
        raise ImportFileError(f"{name}: facility {number} (frid {frid}): services must be a list of objects.")


def _record(number, facility):
    terms, facts, description, unmapped = map_services(facility.get("services") or [])
    state = _text(facility.get("state")).upper()
    country = state if state in TERRITORY_COUNTRIES else "US"
    record = Record(
        number=number,
        external_id=_text(facility["frid"]),
        values={
            "name": " – ".join(part for part in (_text(facility.get("name1")), _text(facility.get("name2"))) if part),
            "street_address": _text(facility.get("street1")),
            "street_address_2": _text(facility.get("street2")),
            "city": _text(facility.get("city")),
            "region": region_name(country, state),
            "postal_code": _postal_code(facility.get("zip")),
            "country": country,
            "phone": _text(facility.get("phone")),
            "intake_phone": _text(facility.get("intake1")),
            "hotline_phone": _text(facility.get("hotline1")),
            "website": _text(facility.get("website")),
            # The locator never says a facility lacks telehealth: without the label it is unknown.
            "telehealth": facts.get("telehealth"),
            "description": description,
        },
        terms=terms,
        unmapped=unmapped,
    )
    for name in ("latitude", "longitude"):
        record.values[name] = _coordinate(record, name, facility.get(name))
    return record


# Our taxonomies the locator's services name, and languages.
LOCATOR_TAXONOMIES = tuple(
    name
    for name in TERM_FIELDS
    if name == "languages" or any(field == name for targets in LABEL_TERMS.values() for field, _value in targets)
)


def map_services(services):
    """Our terms for a facility's ``services``, the scalar facts and description they give, and unmapped labels.

    Every taxonomy the locator speaks of is present, empty or not: the locator lists all of a
    facility's services, so a service it stops listing is removed on the next import. The others
    (how to get in) it does not say, and a curator's values stay.
    """
    terms = {name: [] for name in LOCATOR_TAXONOMIES}
    facts, sentences, other_languages, unmapped = {}, [], [], []
    for code, label in _labels(services):
        if (code, label) in LABEL_TERMS:
            for field_name, value in LABEL_TERMS[code, label]:
                if field_name in terms:
                    _add(terms[field_name], value)
                elif field_name == "description":
                    _add(sentences, value)
                else:
                    facts[field_name] = value
        elif code == LANGUAGES and label in OTHER_LANGUAGES:
            _add(other_languages, label)
        elif code == LANGUAGES and (language := CHINESE_VARIETIES.get(label) or language_code(label)):
            _add(terms["languages"], language)
        elif (code, label) not in DESCRIPTIVE_LABELS and code not in DESCRIPTIVE_CODES:
            _add(unmapped, f"{code}: {label}")
    if other_languages:
        sentences.append("Also offers services in " + ", ".join(other_languages) + ".")
    return terms, facts, " ".join(sentences), unmapped


def _labels(services):
    """(code, label) for every value of every service, in file order."""
    for service in services:
        code = _text(service.get("f2"))
        for label in _text(service.get("f3")).split(";"):
            label = " ".join(label.split())
            if label:
                yield code, label


def _add(items, item):
    if item not in items:
        items.append(item)


def _text(value):
    return "" if value is None else blank_placeholder(str(value).strip())


def _postal_code(value):
    """A five-digit ZIP code, or ZIP+4 as "12345-6789"; any other text as the locator gives it."""
    text = _text(value)
    if match := _ZIP_PLUS_FOUR.fullmatch(text):
        return f"{match[1]}-{match[2]}"
    # A ZIP code stored as a number loses its leading zeros (New England's 0xxxx).
    if _SHORT_ZIP.fullmatch(text):
        return text.zfill(5)
    return text


def _coordinate(record, name, value):
    """The locator's coordinate text as a number, or None when it gives none.

    Unreadable text passes on for model validation to reject; "nan" and
    "inf" read as numbers, so they are rejected here.
    """
    text = _text(value)
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number):
        record.add_error(name, f"{text!r} is not a coordinate")
        return None
    return number
