"""Building a source's mapping in the admin: a sample, its fields, its terms, a preview, and saving it;
downloading and uploading a mapping file; who may do it."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from providers.exchange.formats import read_file
from providers.exchange.formats.files import on_disk
from providers.models import MappingSample, Modality, Provider, Source

pytestmark = pytest.mark.django_db

# A partner's export in their own shape: Latin-1, separated by "¬", services in one cell.
PHARMACIES = (
    "Code¬Name¬Town¬Phone¬Services\r\n"
    "P1¬Café Espérance¬Leeds¬+44 113 496 0000¬Needle exchange;Methadone\r\n"
    "P2¬Bridge Pharmacy¬York¬+44 1904 000000¬Needle exchange;Flu jabs\r\n"
    "P3¬Corner Chemist¬Hull¬¬Flu jabs\r\n"
).encode("latin-1")

SAMHSA_2017 = (
    b"Year,Page,Center_name,Street_address,City,State,Postal_code,Phone,Keys\r\n"
    b"2017,1,Hope House,12 Main St,Montgomery,AL,36104,334-673-2143,MM DT OP\r\n"
    b"2017,1,River Clinic,4 Oak Ave,Mobile,AL,36602,251-555-0100,OP SF\r\n"
    b"2017,2,Harbor Center,9 Bay Rd,Dothan,AL,36301,334-555-0199,OP\r\n"
)

NESTED_JSON = json.dumps(
    {
        "data": {
            "items": [
                {"ref": "n-1", "title": "Nairobi Recovery", "address": {"town": "Nairobi"}, "tags": ["peer", "free"]},
                {"ref": "n-2", "title": "Coast Clinic", "address": {"town": "Mombasa"}, "tags": ["peer"]},
            ]
        }
    }
).encode()


def start_url(source):
    return f"/admin/providers/source/{source.pk}/mapping/"


def step_url(source, sample, step):
    return f"/admin/providers/source/{source.pk}/mapping/{sample.pk}/{step}/"


def change_url(source):
    return f"/admin/providers/source/{source.pk}/change/"


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def upload_sample(client, source, data, name="pharmacies.csv", **fields):
    values = {"format": "csv", "encoding": "", "delimiter": "", "main_file": "", "records": ""}
    values.update(fields)
    return client.post(start_url(source), {"file": SimpleUploadedFile(name, data), **values})


def latest_sample():
    return MappingSample.objects.latest("pk")


def pick_fields(client, source, sample, fields, ids, country="", tables=None):
    """Post the fields step: ``fields`` {their column: our field}, ``ids`` their id column(s)."""
    columns = client.get(step_url(source, sample, "fields")).context["form"].columns
    data = {"country": country}
    for number, column in enumerate(columns):
        data[f"field_{number}"] = fields.get(column, "")
        if column in ids:
            data[f"id_{number}"] = "on"
    for number, column in (tables or {}).items():
        data[f"table_{number}"] = column
    return client.post(step_url(source, sample, "fields"), data)


def add_term_column(client, source, sample, taxonomy, column, split="", table=""):
    data = {"add-taxonomy": taxonomy, "add-column": json.dumps([table, column]), "add-split": split, "add": "Add"}
    return client.post(step_url(source, sample, "terms"), data)


def term_rows(client, source, sample):
    """{taxonomy ← column: [(their value, count), ...]} as the terms step lists them, and its form."""
    form = client.get(step_url(source, sample, "terms")).context["values_form"]
    return form, [[(value, count) for value, count, _field in section["rows"]] for section in form.sections()]


def pick_terms(client, source, sample, picks, only_with_terms=(), button="preview"):
    """Post the terms step: ``picks`` is, for each term column, {their value: our slug, "(none)" or ""}."""
    form, _rows = term_rows(client, source, sample)
    data = {button: "go", "only_with_terms": list(only_with_terms)}
    for index, section in enumerate(form.sections()):
        data[f"split_{index}"] = section["entry"].get("split", "")
        for value, _count, field in section["rows"]:
            data[field.html_name] = picks[index].get(value, field.initial or "")
    return client.post(step_url(source, sample, "terms"), data)


@pytest.fixture
def pharmacy_mapping():
    """A mapping of PHARMACIES' fields."""
    return {
        "format": "csv",
        "encoding": "latin-1",
        "delimiter": "¬",
        "id": "Code",
        "fields": {"name": "Name", "city": "Town", "phone": "Phone"},
        "country": "GB",
    }


@pytest.fixture
def partner(source):
    user = User.objects.create_user(username="partner", is_staff=True)
    user.groups.add(Group.objects.get(name="Partner importers"))
    source.partner_users.add(user)
    return user


# --- The whole path -----------------------------------------------------------------------------


def test_a_curator_builds_a_mapping_from_a_sample_and_saves_it(curator_client, source):
    response = upload_sample(curator_client, source, PHARMACIES, encoding="latin-1", delimiter="¬")
    sample = latest_sample()
    assert response.status_code == 302
    assert response["Location"] == step_url(source, sample, "fields")

    fields_page = curator_client.get(step_url(source, sample, "fields"))
    assert fields_page.context["form"].columns == ["Code", "Name", "Town", "Phone", "Services"]
    assert "Café Espérance" in fields_page.content.decode()

    response = pick_fields(
        curator_client, source, sample, {"Name": "name", "Town": "city", "Phone": "phone"}, ids={"Code"}, country="GB"
    )
    assert response["Location"] == step_url(source, sample, "terms")

    add_term_column(curator_client, source, sample, "modalities", "Services", split=";")
    _form, rows = term_rows(curator_client, source, sample)
    assert rows == [[("Needle exchange", 2), ("Flu jabs", 2), ("Methadone", 1)]]

    response = pick_terms(
        curator_client,
        source,
        sample,
        [{"Needle exchange": "harm-reduction", "Flu jabs": "(none)", "Methadone": ""}],
        only_with_terms=["modalities"],
    )
    assert response["Location"] == step_url(source, sample, "preview")

    preview = curator_client.get(step_url(source, sample, "preview"))
    assert preview.status_code == 200
    rows = preview.context["rows"]
    assert [(row["values"]["name"], row["values"]["city"], row["values"]["country"]) for row in rows] == [
        ("Café Espérance", "Leeds", "GB"),
        ("Bridge Pharmacy", "York", "GB"),
    ]
    assert [row["terms"] for row in rows] == [[("modalities", ["Harm reduction"])]] * 2
    assert {row["outcome"] for row in rows} == {"new"}
    assert preview.context["left_out"] == 1  # the corner chemist has only flu jabs
    assert preview.context["unmapped"] == [("Services: Methadone", 1)]
    assert not Provider.objects.exists()  # a dry run

    response = curator_client.post(step_url(source, sample, "preview"))
    assert response["Location"] == change_url(source)
    source.refresh_from_db()
    assert source.mapping == {
        "format": "csv",
        "encoding": "latin-1",
        "delimiter": "¬",
        "id": "Code",
        "fields": {"name": "Name", "city": "Town", "phone": "Phone"},
        "country": "GB",
        "terms": {
            "modalities": {
                "column": "Services",
                "split": ";",
                "values": {"Needle exchange": "harm-reduction", "Flu jabs": None},
            }
        },
        "only_with_terms": ["modalities"],
    }

    # The existing upload page then imports the partner's files through it, the format detected.
    upload = curator_client.post(
        "/admin/providers/importrun/upload/",
        {"file": SimpleUploadedFile("pharmacies.csv", PHARMACIES), "format": "", "source": source.slug},
        follow=True,
    )
    pending = upload.context["pending"]
    assert pending.options["format"] == "mapped"
    curator_client.post(f"/admin/providers/importrun/upload/{pending.pk}/")
    assert sorted(Provider.objects.values_list("external_id", "name", "city")) == [
        ("P1", "Café Espérance", "Leeds"),
        ("P2", "Bridge Pharmacy", "York"),
    ]
    assert list(Provider.objects.get(external_id="P1").modalities.values_list("slug", flat=True)) == ["harm-reduction"]


def test_the_preview_shows_a_records_errors_and_saving_an_incomplete_draft_is_refused(curator_client, source):
    upload_sample(curator_client, source, SAMHSA_2017, name="samhsa-2017.csv")
    sample = latest_sample()
    pick_fields(curator_client, source, sample, {"Center_name": "name", "City": "city"}, ids={"Page"})
    # None of the rows says its country, and no country is given for them.
    preview = curator_client.get(step_url(source, sample, "preview"))
    problems = " ".join(line for row in preview.context["rows"] for line in row["errors"])
    assert {row["outcome"] for row in preview.context["rows"]} == {"refused"}
    assert "country" in problems

    sample.draft = {**sample.draft, "fields": {"city": "City"}}
    sample.save()
    response = curator_client.post(step_url(source, sample, "preview"))
    assert response.status_code == 200
    assert "must say which column holds the name" in response.context["problem"]
    assert messages_of(response) == ["The mapping was not saved: it needs the changes below."]
    source.refresh_from_db()
    assert source.mapping == {}


def test_space_separated_codes_feed_several_taxonomies_from_one_column(curator_client, source):
    upload_sample(curator_client, source, SAMHSA_2017, name="samhsa-2017.csv")
    sample = latest_sample()
    pick_fields(
        curator_client,
        source,
        sample,
        {"Center_name": "name", "Street_address": "street_address", "City": "city", "State": "region"},
        ids={"Center_name", "Postal_code"},
        country="US",
    )
    add_term_column(curator_client, source, sample, "modalities", "Keys", split=" ")
    add_term_column(curator_client, source, sample, "care_settings", "Keys", split=" ")
    _form, rows = term_rows(curator_client, source, sample)
    assert rows[0] == [("OP", 3), ("MM", 1), ("DT", 1), ("SF", 1)]
    assert rows[1] == rows[0]

    pick_terms(curator_client, source, sample, [{"MM": "mat", "DT": "(none)", "SF": "(none)", "OP": "(none)"}, {
        "OP": "outpatient", "MM": "(none)", "DT": "(none)", "SF": "(none)"}])  # fmt: skip
    curator_client.post(step_url(source, sample, "preview"))

    source.refresh_from_db()
    assert source.mapping["id"] == ["Center_name", "Postal_code"]
    assert source.mapping["terms"]["modalities"]["values"] == {"OP": None, "MM": "mat", "DT": None, "SF": None}
    with on_disk(SAMHSA_2017, "samhsa-2017.csv") as file_path:
        chosen, found = read_file(file_path, "", source.slug)
    assert chosen.name == "mapped"
    assert "Hope House" in found[0].external_id and "36104" in found[0].external_id
    assert found[0].values["region"] == "Alabama"
    assert found[0].terms == {"modalities": ["mat"], "care_settings": ["outpatient"]}
    assert not any(record.unmapped for record in found)


def test_a_json_export_is_read_at_its_records_path_with_nested_keys_as_dotted_columns(curator_client, source):
    response = upload_sample(
        curator_client, source, NESTED_JSON, name="export.json", format="json", records="data.rows"
    )
    assert response.status_code == 200
    assert "has no 'data.rows'" in " ".join(response.context["form"].errors["file"])
    assert not MappingSample.objects.exists()

    upload_sample(curator_client, source, NESTED_JSON, name="export.json", format="json", records="data.items")
    sample = latest_sample()
    assert curator_client.get(step_url(source, sample, "fields")).context["form"].columns == [
        "ref",
        "title",
        "address.town",
        "tags",
    ]
    pick_fields(curator_client, source, sample, {"title": "name", "address.town": "city"}, ids={"ref"}, country="KE")
    add_term_column(curator_client, source, sample, "modalities", "tags")
    pick_terms(curator_client, source, sample, [{"peer": "peer-support", "free": ""}])
    preview = curator_client.get(step_url(source, sample, "preview"))
    assert [row["terms"] for row in preview.context["rows"]] == [[("modalities", ["Peer support"])]] * 2
    assert preview.context["unmapped"] == [("tags: free", 1)]


def test_a_zip_export_reads_terms_from_another_of_its_tables(curator_client, source):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("Sites.csv", "SiteID,SiteName,Town\r\nS1,Lakeside,Kisumu\r\nS2,Hilltop,Nakuru\r\n")
        zipped.writestr("Services.csv", "Site,Service\r\nS1,Detox\r\nS1,Counselling\r\nS2,Counselling\r\n")
    upload_sample(curator_client, source, archive.getvalue(), name="export.zip", main_file="Sites.csv")
    sample = latest_sample()
    form = curator_client.get(step_url(source, sample, "fields")).context["form"]
    assert form.files == [("Services.csv", ["Site", "Service"])]

    pick_fields(
        curator_client, source, sample, {"SiteName": "name", "Town": "city"}, ids={"SiteID"}, country="KE",
        tables={0: "Site"},
    )  # fmt: skip
    assert latest_sample().draft["tables"] == {"Services": {"file": "Services.csv", "id": "Site"}}
    add_term_column(curator_client, source, sample, "modalities", "Service", table="Services")
    _form, rows = term_rows(curator_client, source, sample)
    assert rows == [[("Counselling", 2), ("Detox", 1)]]
    pick_terms(curator_client, source, sample, [{"Counselling": "counseling", "Detox": "(none)"}])
    preview = curator_client.get(step_url(source, sample, "preview"))
    assert [row["terms"] for row in preview.context["rows"]] == [
        [("modalities", [Modality.objects.get(slug="counseling").name])]
    ] * 2


def test_a_saved_mapping_is_where_the_next_sample_starts(curator_client, source):
    saved = {
        "format": "csv",
        "delimiter": "¬",
        "encoding": "latin-1",
        "id": "Code",
        "fields": {"name": "Name", "city": {"first_of": ["Town", "Village"]}},
        "terms": {"modalities": {"column": "Services", "split": ";", "values": {"needle exchange": "harm-reduction"}}},
    }
    source.mapping = saved
    source.save()
    form = curator_client.get(start_url(source)).context["form"]
    assert (form["encoding"].initial, form["delimiter"].initial) == ("latin-1", "¬")

    upload_sample(curator_client, source, PHARMACIES, encoding="latin-1", delimiter="¬", start_from_saved="on")
    sample = latest_sample()
    fields_form = curator_client.get(step_url(source, sample, "fields")).context["form"]
    assert fields_form["field_1"].initial == "name"
    assert fields_form["id_0"].initial is True
    assert fields_form.kept == {"city": {"first_of": ["Town", "Village"]}}  # which no drop-down can say

    pick_fields(curator_client, source, sample, {"Name": "name"}, ids={"Code"}, country="GB")
    form, _rows = term_rows(curator_client, source, sample)
    needle = next(field for value, _count, field in form.sections()[0]["rows"] if value == "Needle exchange")
    assert needle.initial == "harm-reduction"
    assert latest_sample().draft["fields"]["city"] == {"first_of": ["Town", "Village"]}


# --- Bad input: a message, nothing lost --------------------------------------------------------


def test_an_unreadable_sample_gets_a_message_on_the_form(curator_client, source):
    response = upload_sample(curator_client, source, b"\x00\x01\x02binary", name="export.csv")
    assert response.status_code == 200
    assert "binary" in " ".join(response.context["form"].errors["file"])

    response = upload_sample(curator_client, source, PHARMACIES, encoding="utf-8", delimiter="¬")
    assert "is not utf-8 text" in " ".join(response.context["form"].errors["file"])

    response = upload_sample(curator_client, source, PHARMACIES, encoding="klingon")
    assert "not an encoding we know" in " ".join(response.context["form"].errors["encoding"])
    assert response.context["form"]["encoding"].value() == "klingon"
    assert not MappingSample.objects.exists()


def test_the_fields_step_needs_a_name_and_an_id(curator_client, source):
    upload_sample(curator_client, source, SAMHSA_2017)
    sample = latest_sample()
    response = pick_fields(curator_client, source, sample, {"City": "city"}, ids=set())
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["Pick the column that holds the name."]
    assert response.context["form"]["field_4"].value() == "city"  # what was picked stays picked


def test_an_expired_sample_is_asked_for_again(curator_client, source):
    upload_sample(curator_client, source, SAMHSA_2017)
    sample = latest_sample()
    MappingSample.objects.filter(pk=sample.pk).update(created_at=timezone.now() - timedelta(days=2))
    response = curator_client.get(step_url(source, sample, "fields"))
    assert response["Location"] == start_url(source)
    assert "has expired" in messages_of(response)[0]
    assert not MappingSample.objects.exists()


def test_a_new_sample_clears_expired_ones(curator_client, source):
    upload_sample(curator_client, source, SAMHSA_2017)
    MappingSample.objects.update(created_at=timezone.now() - timedelta(days=2))
    upload_sample(curator_client, source, SAMHSA_2017)
    assert MappingSample.objects.count() == 1


# --- Download and upload -----------------------------------------------------------------------


def test_the_saved_mapping_downloads_as_a_json_file(curator_client, source, pharmacy_mapping):
    source.mapping = pharmacy_mapping
    source.save()
    response = curator_client.get(f"{start_url(source)}download/")
    assert response["Content-Disposition"] == 'attachment; filename="test-partner-mapping.json"'
    assert json.loads(response.content) == pharmacy_mapping


def test_uploading_a_mapping_file_saves_it_once_it_checks_out(curator_client, source, pharmacy_mapping):
    upload = SimpleUploadedFile("mine.json", json.dumps(pharmacy_mapping).encode())
    response = curator_client.post(f"{start_url(source)}upload/", {"file": upload})
    assert response["Location"] == change_url(source)
    source.refresh_from_db()
    assert source.mapping == pharmacy_mapping


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "is not valid JSON"),
        (json.dumps({"format": "xml", "id": "Code"}).encode(), '"format" must be "csv" or "json"'),
        (
            json.dumps(
                {
                    "format": "csv",
                    "id": "a",
                    "fields": {"name": "b"},
                    "terms": {"modalities": {"column": "c", "values": {"x": "yoga"}}},
                }
            ).encode(),
            "names terms we do not have: modalities: yoga",
        ),
    ],
)
def test_a_bad_mapping_file_is_refused_and_the_saved_one_kept(
    curator_client, source, pharmacy_mapping, content, message
):
    source.mapping = pharmacy_mapping
    source.save()
    response = curator_client.post(f"{start_url(source)}upload/", {"file": SimpleUploadedFile("bad.json", content)})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["file"])
    source.refresh_from_db()
    assert source.mapping == pharmacy_mapping


def test_the_source_page_shows_the_mapping_and_where_to_change_it(curator_client, source, pharmacy_mapping):
    source.mapping = pharmacy_mapping
    source.save()
    response = curator_client.get(change_url(source))
    content = response.content.decode()
    assert "mapping" not in response.context["adminform"].form.fields
    assert "&quot;Code&quot;" in content
    assert f'href="{start_url(source)}"' in content
    assert f'href="{start_url(source)}download/"' in content


# --- Who may -----------------------------------------------------------------------------------


def test_partners_and_strangers_may_not_build_mappings(client, curator, source, partner):
    sample = MappingSample.objects.create(source=source, uploaded_by=curator, file_name="a.csv", data=SAMHSA_2017)
    urls = [
        start_url(source),
        f"{start_url(source)}upload/",
        f"{start_url(source)}download/",
        *(step_url(source, sample, step) for step in ("fields", "terms", "preview")),
    ]
    for url in urls:
        assert client.get(url)["Location"].startswith("/admin/login/")
    client.force_login(partner)
    for url in urls:
        assert client.get(url).status_code == 403
    assert client.post(f"{start_url(source)}upload/", {}).status_code == 403


def test_a_curator_sees_only_their_own_samples(curator_client, source):
    other = User.objects.create_user(username="other-curator", is_staff=True)
    sample = MappingSample.objects.create(source=source, uploaded_by=other, file_name="a.csv", data=SAMHSA_2017)
    assert curator_client.get(step_url(source, sample, "fields")).status_code == 404
    assert Source.objects.count() == 1
