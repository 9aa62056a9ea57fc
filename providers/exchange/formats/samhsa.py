"""Read the 2015 SAMHSA national directory (N-SSATS) into provider records.

SAMHSA's service codes map to our taxonomies through ``CODE_TERMS`` below: the
one table of that mapping, documented in docs/SAMHSA_MAPPING.md. A code that
maps to nothing is reported back with the record, never silently dropped.
"""

import re
from collections import Counter

from django.utils.text import slugify

from providers.exchange.formats.files import read_csv_rows, read_text
from providers.exchange.records import ImportFileError, Record, blank_placeholder, subdivision_name
from providers.models.naming import first_free

SOURCE_SLUG = "samhsa-2015"
SOURCE_NAME = "SAMHSA National Directory of Drug and Alcohol Abuse Treatment Facilities, 2015"
SOURCE_URL = "https://zenodo.org/records/5842465"
SOURCE_DESCRIPTION = (
    "US federal publication in the public domain (SAMHSA N-SSATS 2015 directory), extracted from the "
    "published PDF and geocoded by the Opioid Environment Policy Scan project "
    "(GeoDaCenter/opioid-policy-scan, MOUD_scraping/2015/2015_g.csv, commit "
    "461b7790c898186ddcc2efcc8512ffa2cab9912f; Zenodo DOI 10.5281/zenodo.5842465)."
)

# Geocodes the source scored below this are more likely wrong than right;
# a wrong pin sends a person to the wrong place, so those records get none.
MIN_MATCH_SCORE = 90.0

# State codes in the directory that ISO 3166-1 gives a country code of their own.
TERRITORY_COUNTRIES = {"PR", "GU", "VI", "FM", "PW", "AS", "MP"}

_MAT = ("modalities", "mat")
_OUTPATIENT = ("care_settings", "outpatient")
_INPATIENT = ("care_settings", "inpatient")

CODE_TERMS: dict[str, tuple[tuple[str, str], ...]] = {
    # Opioid medications
    "BU": (_MAT, ("medications", "buprenorphine")),
    "MM": (_MAT, ("medications", "methadone")),
    "DM": (_MAT, ("medications", "methadone")),
    "NXN": (_MAT, ("medications", "naltrexone")),
    "VTRL": (_MAT, ("medications", "extended-release-naltrexone")),
    "OTPA": (_MAT,),
    "MO": (_MAT, ("medications", "methadone")),
    "BMO": (_MAT, ("medications", "methadone"), ("medications", "buprenorphine")),
    "OMB": (_MAT, _OUTPATIENT),
    # Settings
    "OP": (_OUTPATIENT,),
    "ORT": (_OUTPATIENT,),
    "OIT": (_OUTPATIENT,),
    "ODT": (_OUTPATIENT,),
    "OD": (_OUTPATIENT,),
    "PH": (_OUTPATIENT,),
    "RES": (_INPATIENT,),
    "RS": (_INPATIENT,),
    "RL": (_INPATIENT,),
    "RD": (_INPATIENT,),
    "HI": (_INPATIENT,),
    "HID": (_INPATIENT,),
    "HIT": (_INPATIENT,),
    "HH": (("care_settings", "aftercare"),),
    # Payment
    "NP": (("payment_options", "free"),),
    "SS": (("payment_options", "sliding-scale"),),
    "PA": (("payment_options", "payment-assistance"),),
    "MD": (("payment_options", "public-insurance"),),
    "MC": (("payment_options", "public-insurance"),),
    "SI": (("payment_options", "public-insurance"),),
    "MI": (("payment_options", "military-insurance"),),
    "IHS": (("payment_options", "public-funding"),),
    "ATR": (("payment_options", "public-funding"),),
    "PI": (("payment_options", "private-insurance"),),
    "SF": (("payment_options", "self-pay"),),
    # Populations
    "AD": (("populations", "adolescents"),),
    "CHLD": (("populations", "adolescents"),),
    "YAD": (("populations", "young-adults"),),
    "ADLT": (("populations", "adults"),),
    "SE": (("populations", "seniors"),),
    "WN": (("populations", "women"),),
    "MN": (("populations", "men"),),
    "PW": (("populations", "pregnant-women"),),
    "BC": (("populations", "parents-with-children"),),
    "GL": (("populations", "lgbtq"),),
    "VET": (("populations", "veterans"),),
    "VAMC": (("populations", "veterans"),),
    "ADM": (("populations", "active-duty-military"),),
    "MF": (("populations", "military-families"),),
    "CJ": (("populations", "justice-involved"),),
    "DU": (("populations", "dui-dwi"),),
    "DUO": (("populations", "dui-dwi"),),
    "CO": (("populations", "co-occurring"),),
    "TRMA": (("populations", "trauma-survivors"),),
    "DV": (("populations", "domestic-violence-survivors"),),
    "XA": (("populations", "sexual-abuse-survivors"),),
    "HV": (("populations", "people-with-hiv"),),
    "AH": (("populations", "deaf-or-hard-of-hearing"),),
    # Languages (ISO 639-1). Codes of languages without an ISO 639-1 code are in OTHER_LANGUAGES.
    "SP": (("languages", "es"),),
    "F2": (("languages", "sq"),),
    "F3": (("languages", "am"),),
    "F4": (("languages", "ar"),),
    "F5": (("languages", "hy"),),
    "F9": (("languages", "bn"),),
    "F10": (("languages", "bs"),),
    "F11": (("languages", "bg"),),
    "F12": (("languages", "my"),),
    "F16": (("languages", "ch"),),
    "F17": (("languages", "zh"),),
    "F20": (("languages", "hr"),),
    "F22": (("languages", "da"),),
    "F23": (("languages", "nl"),),
    "F25": (("languages", "fa"),),
    "F28": (("languages", "fr"),),
    "F30": (("languages", "de"),),
    "F31": (("languages", "el"),),
    "F33": (("languages", "gu"),),
    "F35": (("languages", "he"),),
    "F36": (("languages", "hi"),),
    "F38": (("languages", "hu"),),
    "F39": (("languages", "ig"),),
    "F42": (("languages", "it"),),
    "F43": (("languages", "ja"),),
    "F44": (("languages", "km"),),
    "F47": (("languages", "ko"),),
    "F48": (("languages", "lo"),),
    "F52": (("languages", "mk"),),
    "F65": (("languages", "pa"),),
    "F66": (("languages", "pl"),),
    "F67": (("languages", "pt"),),
    "F69": (("languages", "ro"),),
    "F70": (("languages", "ru"),),
    "F73": (("languages", "sr"),),
    "F74": (("languages", "sr"), ("languages", "hr")),
    "F76": (("languages", "sk"),),
    "F79": (("languages", "sw"),),
    "F81": (("languages", "tl"),),
    "F86": (("languages", "th"),),
    "F87": (("languages", "to"),),
    "F88": (("languages", "tr"),),
    "F89": (("languages", "uk"),),
    "F91": (("languages", "ur"),),
    "F92": (("languages", "vi"),),
    "F96": (("languages", "yo"),),
    "F98": (("languages", "fa"),),
    "F99": (("languages", "lt"),),
    "F101": (("languages", "uz"),),
    "F104": (("languages", "so"),),
    "F108": (("languages", "ha"),),
    "F119": (("languages", "mr"),),
    "F131": (("languages", "bm"),),
    "F132": (("languages", "dz"),),
    "F133": (("languages", "rn"),),
    "F135": (("languages", "ku"),),
    "F136": (("languages", "lg"),),
    "F138": (("languages", "tg"),),
    "F139": (("languages", "ug"),),
    "N23": (("languages", "nv"),),
    "N24": (("languages", "oj"),),
    "N70": (("languages", "ik"),),
    "N73": (("languages", "oj"),),
}

# Languages the directory lists that have no ISO 639-1 code: kept as text in the description.
OTHER_LANGUAGES = {
    "F15": "Chaldean",
    "F19": "Creole",
    "F34": "Hawaiian",
    "F37": "Pidgin",
    "F40": "Ilocano",
    "F58": "Mien",
    "F64": "Palauan",
    "F94": "Yapese",
    "F140": "Akha",
    "N3": "Athabascan",
    "N5": "Cheyenne",
    "N6": "Choctaw",
    "N9": "Crow",
    "N13": "Hopi",
    "N16": "Keres",
    "N18": "Lakota",
    "N28": "Passamaquoddy",
    "N29": "Pima",
    "N30": "Salish",
    "N32": "Shoshoni",
    "N33": "Tewa",
    "N35": "Tohono O'odham",
    "N36": "Towa",
    "N40": "Yupik",
    "N49": "Tiwa",
    "N64": "Blackfoot",
    "N71": "Unangax",
    "N74": "Lumbee",
    "N75": "Chickasaw",
}

# Codes that describe the whole directory or the facility type, not a choice a person filters on.
DESCRIPTIVE_CODES = {"SA", "SAF", "MHF", "MHSAF", "GHF", "CT", "FX", "NX", "FEM", "MALE", "DT"}

DETOX_CODES = {"DT", "DM", "HID", "RD", "OD"}

_PHONE_PART = re.compile(r"\(\d{3}\)\s*\d{3}-\s*\d{4}(?:x\d+)?")


REQUIRED_COLUMNS = ("Name1", "Address1", "City", "State", "ZIP_Code", "Contact", "Keys", "ID")


def split_contact(contact: str) -> tuple[str, str, str]:
    """Main, intake and hotline numbers from a Contact cell like "(334)673-2143 Intake: (334)428-5040".

    Where several intake numbers are listed, the first is kept.
    """
    main_part, _, rest = contact.partition("Intake")
    rest, _, hotline_part = rest.partition("Hotline")
    main_part, _, early_hotline = main_part.partition("Hotline")
    hotline_part = hotline_part or early_hotline

    def first(text):
        match = _PHONE_PART.search(text)
        return re.sub(r"\s", "", match.group()) if match else ""

    return first(main_part), first(rest), first(hotline_part)


def region_name(country: str, state: str) -> str:
    if country != "US":
        return ""
    return subdivision_name(country, state) or state


def map_codes(codes):
    """Our taxonomy slugs for SAMHSA ``codes``, the other-language names, and the codes that map to nothing."""
    terms: dict[str, list[str]] = {}
    other_languages, unmapped = [], []
    for code in codes:
        if code in CODE_TERMS:
            for field_name, slug in CODE_TERMS[code]:
                slugs = terms.setdefault(field_name, [])
                if slug not in slugs:
                    slugs.append(slug)
        elif code in OTHER_LANGUAGES:
            other_languages.append(OTHER_LANGUAGES[code])
        elif code not in DESCRIPTIVE_CODES:
            unmapped.append(code)
    return terms, other_languages, unmapped


def _external_ids(rows):
    """The row's ID, made unique where several programmes at one site share it.

    Rule: an ID that occurs once is kept as it is. A repeated ID gets the
    slug of the programme's name (Name2, else Name1) as a suffix; if that
    still repeats within the site, "-2", "-3", ... follow in file order.
    """
    counts = Counter(row["ID"] for row in rows)
    seen: set[str] = set()
    for row in rows:
        site_id = row["ID"]
        if counts[site_id] == 1:
            yield site_id
            continue
        yield first_free(f"{site_id}-{slugify(row['Name2'] or row['Name1'])[:40].strip('-')}", seen)


def _description(note: str, codes: list[str], other_languages: list[str]) -> str:
    lines = []
    if note and not note[0].isdigit():
        lines.append(note.rstrip(".") + ".")
    if DETOX_CODES.intersection(codes):
        lines.append("Offers detoxification.")
    if other_languages:
        lines.append("Also offers services in " + ", ".join(other_languages) + ".")
    return " ".join(lines)


def read(path, options=None):
    """A Record for every row of the directory CSV, in file order."""
    header, rows = read_csv_rows(read_text(path), path.name)
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise ImportFileError(f"{path.name} is missing the SAMHSA column(s): {', '.join(missing)}.")
    return [
        _record(number, row, external_id)
        for number, (row, external_id) in enumerate(zip(rows, _external_ids(rows), strict=True), 1)
    ]


def _record(number, row, external_id):
    row = {name: blank_placeholder((value or "").strip()) for name, value in row.items() if name}
    codes = [code for code in row["Keys"].split("/") if code]
    terms, other_languages, unmapped = map_codes(codes)
    state = row["State"].upper()
    country = state if state in TERRITORY_COUNTRIES else "US"
    phone, intake, hotline = split_contact(row["Contact"])
    latitude, longitude = _coordinates(row)
    zip_code = row["ZIP_Code"]
    return Record(
        number=number,
        external_id=external_id,
        values={
            "name": " – ".join(part for part in (row["Name1"], row.get("Name2", "")) if part),
            "street_address": row["Address1"],
            "street_address_2": ", ".join(
                part for part in (row.get("Address2", ""), row.get("Address3", ""), row.get("Name3", "")) if part
            ),
            "city": row["City"],
            "region": region_name(country, state),
            "postal_code": zip_code.zfill(5) if zip_code.isdigit() else zip_code,
            "country": country,
            "latitude": latitude,
            "longitude": longitude,
            "phone": phone,
            "intake_phone": intake,
            "hotline_phone": hotline,
            "description": _description(row.get("Note", ""), codes, other_languages),
        },
        terms=terms,
        unmapped=unmapped,
    )


def _coordinates(row):
    """Rounded coordinates when the geocode is confident; unreadable ones pass on to fail validation."""
    latitude, longitude = row.get("Latitude", ""), row.get("Longitude", "")
    if not latitude and not longitude:
        return None, None
    try:
        score = float(row.get("Match Score") or 0)
        latitude, longitude = float(latitude), float(longitude)
    except ValueError:
        return latitude or None, longitude or None
    if score < MIN_MATCH_SCORE:
        return None, None
    return round(latitude, 6), round(longitude, 6)
