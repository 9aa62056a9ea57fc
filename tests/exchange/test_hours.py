"""Opening hours and time zones in our CSV and JSON and in HSDS 3.0: reading, writing, importing, round trips."""

import csv
import json
from datetime import time

import pytest
from django.core.management.base import CommandError

from providers.exchange.formats import hsds
from providers.exchange.formats.ours import format_opening_hours, parse_opening_hours
from providers.exchange.importer import ImportOptions, import_records
from providers.exchange.records import iter_export_records
from providers.models import ImportRun, OpeningInterval, Provider, Source
from tests.exchange.formats.test_hsds import compiled_validator, problems
from tests.exchange.helpers import run, weekly, write_our_csv
from tests.exchange.test_export import empty_the_directory

pytestmark = pytest.mark.django_db

HARBOUR_HOURS = "Mo 09:00-17:00; Tu 09:00-12:00,13:00-17:00; Fr 09:00-17:00,22:00-02:00; Sa 00:00-00:00"
ROW = {"source": "ministry", "external_id": "KE-1", "name": "Harbour Clinic", "country": "KE"}


def stored_hours(external_id="KE-1", walk_in=False):
    """The listing's opening hours, or with ``walk_in`` its walk-in hours, as our text."""
    provider = Provider.objects.get(external_id=external_id)
    return format_opening_hours(
        (interval.weekday, f"{interval.opens:%H:%M}", f"{interval.closes:%H:%M}")
        for interval in provider.opening_hours.filter(walk_in=walk_in)
    )


@pytest.fixture
def listings(make_provider):
    source = Source.objects.create(slug="ministry", name="Ministry of Health")
    harbour = make_provider(
        name="Harbour Clinic",
        city="Mombasa",
        country="KE",
        latitude=-4.0435,
        longitude=39.6682,
        time_zone="Africa/Nairobi",
        source=source,
        external_id="KE-1",
    )
    OpeningInterval.objects.bulk_create(
        OpeningInterval(provider=harbour, weekday=weekday, opens=opens, closes=closes)
        for weekday, opens, closes in parse_opening_hours(HARBOUR_HOURS)
    )
    make_provider(name="Prairie Centre", country="CA", time_zone="America/Regina", source=source, external_id="CA-1")
    return Provider.objects.order_by("pk")


def export(tmp_path, fmt, name):
    path = tmp_path / name
    run("export_providers", "--format", fmt, "--output", path)
    return path


def read_rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def import_file(path, *args):
    return run("import_providers", path, *args)


def write_rows(path, rows):
    """Our CSV with only ROW's columns and opening_hours, so nothing else of the listing changes."""
    return write_our_csv(path, rows, columns=[*ROW, "opening_hours"])


# The text of our CSV and JSON


@pytest.mark.parametrize(
    ("text", "intervals"),
    [
        ("", []),
        ("Mo 09:00-17:00", [(0, "09:00", "17:00")]),
        ("Mo-We 9:00-12:30", [(0, "09:00", "12:30"), (1, "09:00", "12:30"), (2, "09:00", "12:30")]),
        ("Sa-Mo 10:00-14:00", [(0, "10:00", "14:00"), (5, "10:00", "14:00"), (6, "10:00", "14:00")]),
        (" tu 13:00 - 17:00 , 09:00-12:00 ;; ", [(1, "09:00", "12:00"), (1, "13:00", "17:00")]),
        ("Fr 18:00-24:00; Su 00:00-00:00", [(4, "18:00", "00:00"), (6, "00:00", "00:00")]),
        ("Mo 09:00-17:00; Mo-Tu 09:00-17:00", [(0, "09:00", "17:00"), (1, "09:00", "17:00")]),
        ("We 08:00:00-16:00:00", [(2, "08:00", "16:00")]),
    ],
)
def test_the_opening_hours_text_reads_days_ranges_and_times(text, intervals):
    assert parse_opening_hours(text) == intervals


def test_the_text_is_written_one_entry_per_day():
    assert format_opening_hours(parse_opening_hours("Mo-Tu 09:00-12:00,13:00-17:00; Sa 00:00-00:00")) == (
        "Mo 09:00-12:00,13:00-17:00; Tu 09:00-12:00,13:00-17:00; Sa 00:00-00:00"
    )


def test_our_csv_carries_hours_and_time_zone(tmp_path, listings):
    rows = {row["external_id"]: row for row in read_rows(export(tmp_path, "csv", "export.csv"))}

    assert (rows["KE-1"]["opening_hours"], rows["KE-1"]["time_zone"]) == (HARBOUR_HOURS, "Africa/Nairobi")
    assert (rows["CA-1"]["opening_hours"], rows["CA-1"]["time_zone"]) == ("", "America/Regina")


def test_our_json_carries_hours_as_the_same_text(tmp_path, listings):
    data = {item["external_id"]: item for item in json.loads(export(tmp_path, "json", "export.json").read_text())}

    assert data["KE-1"]["opening_hours"] == HARBOUR_HOURS
    assert data["CA-1"]["opening_hours"] == ""


# Round trips


@pytest.mark.parametrize("fmt", ["csv", "json", "hsds"])
def test_hours_survive_export_import_and_export_again(tmp_path, listings, fmt):
    first = export(tmp_path, fmt, f"first.{'zip' if fmt == 'hsds' else fmt}")
    empty_the_directory()

    import_file(first)

    assert stored_hours("KE-1") == HARBOUR_HOURS and stored_hours("CA-1") == ""
    assert Provider.objects.get(external_id="KE-1").time_zone == "Africa/Nairobi"
    again = export(tmp_path, fmt, f"again.{'zip' if fmt == 'hsds' else fmt}")
    assert again.read_bytes() == first.read_bytes()


@pytest.mark.parametrize("fmt", ["csv", "json", "hsds"])
def test_importing_the_same_hours_again_changes_nothing(tmp_path, listings, fmt):
    path = export(tmp_path, fmt, f"export.{'zip' if fmt == 'hsds' else fmt}")

    output = import_file(path)

    assert "0 created, 0 updated, 2 unchanged, 0 rejected." in output


def test_changed_hours_update_the_provider_and_say_so(tmp_path, listings):
    before = list(OpeningInterval.objects.filter(provider__external_id="CA-1").values_list("pk", flat=True))
    path = write_rows(tmp_path / "changed.csv", [{**ROW, "opening_hours": "Mo-Fr 08:00-16:00"}])

    output = import_file(path)

    assert "updated record 1 (external id KE-1): opening_hours" in output
    assert stored_hours("KE-1") == "Mo 08:00-16:00; Tu 08:00-16:00; We 08:00-16:00; Th 08:00-16:00; Fr 08:00-16:00"
    assert list(OpeningInterval.objects.filter(provider__external_id="CA-1").values_list("pk", flat=True)) == before


def test_a_file_without_the_column_leaves_hours_alone_and_an_empty_cell_clears_them(tmp_path, listings):
    import_file(write_our_csv(tmp_path / "no-hours.csv", [ROW], columns=list(ROW)))

    assert stored_hours("KE-1") == HARBOUR_HOURS

    import_file(write_rows(tmp_path / "hours.csv", [{**ROW, "opening_hours": "Mo 09:00-12:00"}]))
    output = import_file(write_rows(tmp_path / "empty.csv", [{**ROW, "opening_hours": ""}]))

    assert "updated record 1 (external id KE-1): opening_hours" in output
    assert stored_hours("KE-1") == ""


def test_a_dry_run_reports_hours_and_writes_none(tmp_path, listings):
    path = write_rows(tmp_path / "changed.csv", [{**ROW, "opening_hours": "Su 10:00-12:00"}])

    output = import_file(path, "--dry-run")

    assert "updated record 1 (external id KE-1): opening_hours" in output
    assert stored_hours("KE-1") == HARBOUR_HOURS


def test_a_new_provider_gets_its_hours(tmp_path):
    row = {**ROW, "time_zone": "Africa/Nairobi", "opening_hours": "Mo-Fr 09:00-17:00"}

    import_file(write_our_csv(tmp_path / "new.csv", [row]))

    assert stored_hours("KE-1") == "Mo 09:00-17:00; Tu 09:00-17:00; We 09:00-17:00; Th 09:00-17:00; Fr 09:00-17:00"


# Bad hours


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "Mx 09:00-17:00",
            "'Mx 09:00-17:00' does not start with a day (Mo, Tu, We, Th, Fr, Sa, Su) or a range of days (Mo-Fr)",
        ),
        ("Mo 9-17", "'9-17' in 'Mo 9-17' is not an opening and a closing time (HH:MM-HH:MM)"),
        ("Mo", "'Mo' gives no times (HH:MM-HH:MM)"),
        (
            "Mo 09:00-25:00",
            "Monday 09:00-25:00: “25:00” value has the correct format (HH:MM[:ss[.uuuuuu]]) but it is an invalid time.",
        ),
        ("Tu 09:00-09:00", "Tuesday 09:00-09:00: An interval cannot close when it opens"),
        ("We 09:00-12:00,09:00-17:00", "Wednesday 09:00-17:00: This day already has an interval opening at that time."),
    ],
)
def test_bad_hours_reject_the_record_with_a_clear_line(tmp_path, text, message):
    path = write_our_csv(tmp_path / "bad.csv", [{**ROW, "opening_hours": text}])

    with pytest.raises(CommandError):
        import_file(path)

    [line] = ImportRun.objects.get().errors
    assert line.startswith(f"record 1 (external id KE-1): opening_hours: {message}")
    assert not Provider.objects.exists()


def test_json_hours_must_be_text(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([{**ROW, "opening_hours": [[0, "09:00", "17:00"]]}]), encoding="utf-8")

    with pytest.raises(CommandError):
        import_file(path)

    assert ImportRun.objects.get().errors == [
        'record 1 (external id KE-1): opening_hours: must be text like "Mo-Fr 09:00-17:00; Sa 10:00-13:00"'
    ]


def test_strictly_an_unknown_time_zone_rejects_the_record(tmp_path):
    path = write_our_csv(tmp_path / "bad.csv", [{**ROW, "time_zone": "Africa/Atlantis"}])

    with pytest.raises(CommandError):
        import_file(path, "--strict")

    assert ImportRun.objects.get().errors == [
        "record 1 (external id KE-1): time_zone: Africa/Atlantis is not an IANA time zone "
        "(such as Africa/Nairobi or America/Chicago)."
    ]


# HSDS


def test_hsds_writes_one_weekly_schedule_per_opening_and_closing_time(tmp_path, listings):
    folder = export(tmp_path, "hsds", "package")

    schedules = read_rows(folder / "schedules.csv")
    assert [(row["byday"], row["opens_at"], row["closes_at"], row["freq"]) for row in schedules] == [
        ("MO,FR", "09:00", "17:00", "WEEKLY"),
        ("TU", "09:00", "12:00", "WEEKLY"),
        ("TU", "13:00", "17:00", "WEEKLY"),
        ("FR", "22:00", "02:00", "WEEKLY"),
        ("SA", "00:00", "00:00", "WEEKLY"),
    ]
    at_location = read_rows(folder / "service_at_location.csv")[0]["id"]
    assert {row["service_at_location_id"] for row in schedules} == {at_location}


def test_hsds_carries_the_time_zone_as_a_flag_of_the_location(tmp_path, listings):
    folder = export(tmp_path, "hsds", "package")

    terms = {row["id"]: row for row in read_rows(folder / "taxonomy_terms.csv")}
    locations = {row["id"] for row in read_rows(folder / "locations.csv")}
    zones = [
        (row["link_entity"], row["value"])
        for row in read_rows(folder / "attributes.csv")
        if terms[row["taxonomy_term_id"]]["code"] == "time-zone" and row["link_id"] in locations
    ]
    assert sorted(zones) == [("location", "Africa/Nairobi"), ("location", "America/Regina")]


def test_hsds_documents_with_hours_are_valid(listings):
    for record in iter_export_records(listings):
        assert problems(compiled_validator("service.json"), hsds.document_for(record)) == []


def test_hsds_reads_our_hours_and_time_zone_back(tmp_path, listings):
    harbour, prairie = hsds.read(export(tmp_path, "hsds", "package"))

    assert format_opening_hours(harbour.opening_hours) == HARBOUR_HOURS
    assert harbour.values["time_zone"] == "Africa/Nairobi"
    assert (prairie.opening_hours, prairie.values["time_zone"]) == ([], "America/Regina")


def service_with(**holders):
    """A partner's HSDS service; ``holders`` maps "service", "service_at_location" or "location" to schedules."""

    def schedules(holder):
        return {"schedules": holders[holder]} if holder in holders else {}

    return {
        "id": "svc-1",
        "name": "Harbour Clinic",
        "status": "active",
        **schedules("service"),
        "service_at_locations": [
            {
                "id": "sal-1",
                **schedules("service_at_location"),
                "location": {"id": "loc-1", "location_type": "physical", **schedules("location")},
            }
        ],
    }


def read_partner(tmp_path, document):
    path = tmp_path / "service.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    [record] = hsds.read(path)
    return record


@pytest.mark.parametrize(
    ("holders", "hours"),
    [
        ({"service": [weekly("MO,TU", "09:00", "17:00")]}, "Mo 09:00-17:00; Tu 09:00-17:00"),
        (
            {"service": [weekly("MO", "09:00", "17:00")], "service_at_location": [weekly("SA", "10:00", "12:00")]},
            "Sa 10:00-12:00",
        ),
        ({"location": [weekly("su", "08:00", "12:00")]}, "Su 08:00-12:00"),
        ({"service": [weekly("FR", "18:00:00-05:00", "24:00Z")]}, "Fr 18:00-00:00"),
        ({"service": [{**weekly("WE", "09:00", "11:00"), "freq": "", "interval": 1}]}, "We 09:00-11:00"),
        ({"service": []}, ""),
    ],
    ids=["service", "service-at-location-first", "location", "offsets-and-24:00", "no-freq", "none"],
)
def test_hsds_reads_a_partners_weekly_schedules(tmp_path, holders, hours):
    record = read_partner(tmp_path, service_with(**holders))

    assert format_opening_hours(record.opening_hours) == hours
    assert record.unmapped == [] and record.errors == []
    assert "time_zone" not in record.values


@pytest.mark.parametrize(
    ("schedule", "label"),
    [
        ({"freq": "MONTHLY", "byday": "1MO"}, "schedule: monthly"),
        ({"interval": 2}, "schedule: every 2 weeks"),
        ({"byweekno": "41,42"}, "schedule: byweekno 41,42"),
        ({"byday": ""}, "schedule: no byday"),
        ({"byday": "MO,2TU"}, "schedule: byday MO,2TU"),
        ({"closes_at": ""}, "schedule: no opens_at or closes_at"),
    ],
)
def test_schedules_that_are_not_weekly_hours_are_unmapped_and_leave_the_hours_alone(tmp_path, schedule, label):
    record = read_partner(tmp_path, service_with(service=[{**weekly("MO", "09:00", "17:00"), **schedule}]))

    assert record.opening_hours is None
    assert record.unmapped == [label]


def test_readable_schedules_are_kept_beside_unmapped_ones(tmp_path):
    monthly = {**weekly("1SA", "10:00", "12:00"), "freq": "MONTHLY"}

    record = read_partner(tmp_path, service_with(service=[weekly("MO", "09:00", "17:00"), monthly]))

    assert format_opening_hours(record.opening_hours) == "Mo 09:00-17:00"
    assert record.unmapped == ["schedule: monthly"]


def test_a_schedule_time_that_is_no_time_is_a_record_error(tmp_path):
    record = read_partner(tmp_path, service_with(service=[weekly("MO", "nine", "17:00")]))

    assert record.errors == [("opening_hours", "'nine' is not a time (HH:MM)")]


def test_a_package_without_schedules_does_not_say_and_keeps_the_stored_hours(tmp_path, listings):
    folder = export(tmp_path, "hsds", "package")
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"] = [resource for resource in descriptor["resources"] if resource["name"] != "schedule"]
    (folder / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    OpeningInterval.objects.filter(provider__external_id="KE-1", weekday=5).delete()

    records = hsds.read(folder)
    report = import_records(records, ImportOptions(file_name="package", format="hsds"))

    assert [record.opening_hours for record in records] == [None, None]
    assert (len(report.updated), report.unchanged) == (0, 2)
    assert "Sa" not in stored_hours("KE-1")


def test_a_partners_hsds_hours_are_imported(tmp_path):
    document = service_with(service_at_location=[weekly("MO,WE", "08:30", "16:30"), weekly("SA", "22:00", "03:00")])
    document["service_at_locations"][0]["location"]["addresses"] = [{"city": "Mombasa", "country": "KE"}]
    path = tmp_path / "service.json"
    path.write_text(json.dumps(document), encoding="utf-8")

    output = import_file(path, "--source", "partner")

    assert "1 created" in output
    assert stored_hours("sal-1") == "Mo 08:30-16:30; We 08:30-16:30; Sa 22:00-03:00"
    assert "0 created, 0 updated, 1 unchanged" in import_file(path, "--source", "partner")


def test_an_imported_listing_with_hours_gets_the_time_zone_of_its_coordinates(tmp_path):
    path = write_our_csv(
        tmp_path / "hours.csv",
        [
            {
                "source": "partner",
                "external_id": "TZ-1",
                "name": "Lakeside Clinic",
                "country": "KE",
                "latitude": "-0.0917",
                "longitude": "34.768",
                "opening_hours": "Mo 09:00-17:00",
            },
            {
                "source": "partner",
                "external_id": "TZ-2",
                "name": "No Hours",
                "country": "KE",
                "latitude": "-1.28",
                "longitude": "36.82",
            },
        ],
    )

    run("import_providers", path)

    assert Provider.objects.get(external_id="TZ-1").time_zone == "Africa/Nairobi"
    assert Provider.objects.get(external_id="TZ-2").time_zone == ""


# Walk-in hours: a second week, imported and replaced on its own

WALK_IN = "Mo 09:00-12:00; Th 14:00-16:00"


def write_walk_in_rows(path, rows):
    """Our CSV with ROW's columns and both weeks of hours."""
    return write_our_csv(path, rows, columns=[*ROW, "opening_hours", "walk_in_hours"])


def interval_ids(external_id="KE-1", walk_in=False):
    return set(
        OpeningInterval.objects.filter(provider__external_id=external_id, walk_in=walk_in).values_list("pk", flat=True)
    )


def test_a_new_provider_gets_its_walk_in_hours_as_walk_in_intervals(tmp_path):
    row = {**ROW, "time_zone": "Africa/Nairobi", "opening_hours": "Mo 09:00-17:00", "walk_in_hours": WALK_IN}

    output = import_file(write_walk_in_rows(tmp_path / "new.csv", [row]))

    assert "1 created" in output
    assert stored_hours("KE-1") == "Mo 09:00-17:00"
    assert stored_hours("KE-1", walk_in=True) == WALK_IN
    # The same opening time in both weeks is no clash: each week has its own starts.
    assert sorted(OpeningInterval.objects.values_list("walk_in", "weekday", "opens")) == [
        (False, 0, time(9)),
        (True, 0, time(9)),
        (True, 3, time(14)),
    ]


def test_importing_the_same_walk_in_hours_again_changes_nothing(tmp_path):
    path = write_walk_in_rows(
        tmp_path / "hours.csv", [{**ROW, "opening_hours": "Mo 09:00-17:00", "walk_in_hours": WALK_IN}]
    )
    import_file(path)

    assert "0 created, 0 updated, 1 unchanged, 0 rejected." in import_file(path)


def test_a_file_with_only_opening_hours_leaves_the_walk_in_hours_alone(tmp_path, listings):
    import_file(
        write_walk_in_rows(tmp_path / "both.csv", [{**ROW, "opening_hours": HARBOUR_HOURS, "walk_in_hours": WALK_IN}])
    )
    walk_in = interval_ids(walk_in=True)

    output = import_file(write_rows(tmp_path / "opening.csv", [{**ROW, "opening_hours": "Mo-Fr 08:00-16:00"}]))

    assert "updated record 1 (external id KE-1): opening_hours" in output
    assert "walk_in_hours" not in output
    assert stored_hours("KE-1").startswith("Mo 08:00-16:00; Tu 08:00-16:00")
    assert stored_hours("KE-1", walk_in=True) == WALK_IN
    assert interval_ids(walk_in=True) == walk_in


def test_changed_walk_in_hours_replace_only_the_walk_in_week(tmp_path, listings):
    opening = interval_ids()

    output = import_file(
        write_walk_in_rows(
            tmp_path / "walk-in.csv", [{**ROW, "opening_hours": HARBOUR_HOURS, "walk_in_hours": WALK_IN}]
        )
    )

    assert "updated record 1 (external id KE-1): walk_in_hours" in output
    assert "opening_hours" not in output
    assert stored_hours("KE-1", walk_in=True) == WALK_IN
    assert stored_hours("KE-1") == HARBOUR_HOURS and interval_ids() == opening

    output = import_file(
        write_walk_in_rows(
            tmp_path / "fewer.csv", [{**ROW, "opening_hours": HARBOUR_HOURS, "walk_in_hours": "Sa 10:00-11:00"}]
        )
    )

    assert "updated record 1 (external id KE-1): walk_in_hours" in output
    assert stored_hours("KE-1", walk_in=True) == "Sa 10:00-11:00"
    assert stored_hours("KE-1") == HARBOUR_HOURS and interval_ids() == opening


def test_an_empty_walk_in_cell_clears_only_the_walk_in_hours(tmp_path, listings):
    import_file(
        write_walk_in_rows(tmp_path / "both.csv", [{**ROW, "opening_hours": HARBOUR_HOURS, "walk_in_hours": WALK_IN}])
    )

    output = import_file(
        write_walk_in_rows(tmp_path / "none.csv", [{**ROW, "opening_hours": HARBOUR_HOURS, "walk_in_hours": ""}])
    )

    assert "updated record 1 (external id KE-1): walk_in_hours" in output
    assert stored_hours("KE-1", walk_in=True) == ""
    assert stored_hours("KE-1") == HARBOUR_HOURS


def test_bad_walk_in_hours_reject_the_record_on_the_walk_in_field(tmp_path):
    path = write_walk_in_rows(tmp_path / "bad.csv", [{**ROW, "walk_in_hours": "Tu 09:00-09:00"}])

    with pytest.raises(CommandError):
        import_file(path)

    [line] = ImportRun.objects.get().errors
    assert line.startswith("record 1 (external id KE-1): walk_in_hours: Tuesday 09:00-09:00: An interval cannot close")
    assert not Provider.objects.exists()


def test_the_version_an_import_records_holds_both_weeks(tmp_path, listings):
    import_file(
        write_walk_in_rows(
            tmp_path / "walk-in.csv", [{**ROW, "opening_hours": HARBOUR_HOURS, "walk_in_hours": WALK_IN}]
        )
    )

    newest = Provider.history.filter(external_id="KE-1").order_by("-history_id").first()
    assert newest.history_channel == "import"
    assert newest.history_walk_in_hours == [[0, "09:00", "12:00"], [3, "14:00", "16:00"]]
    assert format_opening_hours(newest.history_opening_hours) == HARBOUR_HOURS

    import_file(write_rows(tmp_path / "opening.csv", [{**ROW, "opening_hours": "Su 10:00-12:00"}]))

    newest = Provider.history.filter(external_id="KE-1").order_by("-history_id").first()
    assert newest.history_opening_hours == [[6, "10:00", "12:00"]]
    assert newest.history_walk_in_hours == [[0, "09:00", "12:00"], [3, "14:00", "16:00"]]
