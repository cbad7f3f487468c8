"""EPC URN <-> GS1 Digital Link identifiers, CBV values and event normalisation."""

from __future__ import annotations

import pytest

from valuetrace.epcis import canonical_cbv, canonical_identifier, normalise_event

# EPC URNs with their canonical Digital Links. The first group uses company prefix 0614141 of
# the GS1 EPC Tag Data Standard examples, whose published keys are GTIN 80614141123458,
# SSCC 106141412345678908 and GLN 0614141123452. The second group pairs the URNs of the
# reference hash generator's epclist_normalisation vector with the Digital Links of its
# published pre-hash string.
URN_CASES = [
    ("urn:epc:id:sgtin:0614141.812345.6789", "https://id.gs1.org/01/80614141123458/21/6789"),
    ("urn:epc:id:sscc:0614141.1234567890", "https://id.gs1.org/00/106141412345678908"),
    ("urn:epc:id:sgln:0614141.12345.400", "https://id.gs1.org/414/0614141123452/254/400"),
    ("urn:epc:id:sgln:0614141.12345.0", "https://id.gs1.org/414/0614141123452"),
    ("urn:epc:id:grai:0614141.12345.400", "https://id.gs1.org/8003/00614141123452400"),
    ("urn:epc:id:giai:0614141.12345400", "https://id.gs1.org/8004/061414112345400"),
    ("urn:epc:class:lgtin:0614141.812345.998877", "https://id.gs1.org/01/80614141123458/10/998877"),
    ("urn:epc:id:sgtin:4012345.011111.9876", "https://id.gs1.org/01/04012345111118/21/9876"),
    ("urn:epc:id:sgtin:4012345.011111.98%22", "https://id.gs1.org/01/04012345111118/21/98%22"),
    ("urn:epc:id:sgtin:415056789012.0.987654", "https://id.gs1.org/01/04150567890128/21/987654"),
    (
        "urn:epc:id:sgtin:0614141.812345.6789%2F%26%25%22!%3F()",
        "https://id.gs1.org/01/80614141123458/21/6789%2F%26%25%22%21%3F%28%29",
    ),
    ("urn:epc:id:sscc:4012345.3111111111", "https://id.gs1.org/00/340123451111111111"),
    ("urn:epc:id:sgln:4012345.00005.122", "https://id.gs1.org/414/4012345000054/254/122"),
    ("urn:epc:id:sgln:4012345.00005.0", "https://id.gs1.org/414/4012345000054"),
    ("urn:epc:id:grai:4012345.00022.334455", "https://id.gs1.org/8003/04012345000221334455"),
    ("urn:epc:id:giai:4012345.ABC345", "https://id.gs1.org/8004/4012345ABC345"),
    ("urn:epc:id:gsrn:4012345.0000006765", "https://id.gs1.org/8018/401234500000067657"),
    ("urn:epc:id:gsrnp:4012345.0000000007", "https://id.gs1.org/8017/401234500000000074"),
    ("urn:epc:id:gdti:4012345.00009.PO-4711", "https://id.gs1.org/253/4012345000092PO-4711"),
    ("urn:epc:id:gdti:987659999999..9", "https://id.gs1.org/253/98765999999929"),
    (
        "urn:epc:id:cpi:0614141.11111111111111-A%23%2F.1234",
        "https://id.gs1.org/8010/061414111111111111111-A%23%2F/8011/1234",
    ),
    ("urn:epc:id:ginc:0614141.xyz47%2F11", "https://id.gs1.org/401/0614141xyz47%2F11"),
    ("urn:epc:id:gsin:4012345.222333444", "https://id.gs1.org/402/40123452223334442"),
    (
        "urn:epc:id:itip:4012345.011111.01.02.987",
        "https://id.gs1.org/8006/040123451111180102/21/987",
    ),
    (
        "urn:epc:id:upui:1234567.098765.51qIgY)%3C%26Jp3*j7'SDB",
        "https://id.gs1.org/01/01234567987651/235/51qIgY%29%3C%26Jp3%2Aj7'SDB",
    ),
    ("urn:epc:id:pgln:4000001.00000", "https://id.gs1.org/417/4000001000005"),
    ("urn:epc:id:pgln:999999999999.", "https://id.gs1.org/417/9999999999994"),
    ("urn:epc:class:lgtin:4012345.012345.Lot987", "https://id.gs1.org/01/04012345123456/10/Lot987"),
]


@pytest.mark.parametrize(("urn", "link"), URN_CASES)
def test_urn_to_digital_link(urn: str, link: str) -> None:
    assert canonical_identifier(urn) == link


@pytest.mark.parametrize(("urn", "link"), URN_CASES)
def test_digital_link_is_canonical(urn: str, link: str) -> None:
    assert canonical_identifier(link) == link


@pytest.mark.parametrize(
    ("pattern", "link"),
    [
        ("urn:epc:idpat:sgtin:4012345.012345.*", "https://id.gs1.org/01/04012345123456"),
        ("urn:epc:idpat:grai:4012345.00022.*", "https://id.gs1.org/8003/04012345000221"),
        ("urn:epc:idpat:itip:4012345.011111.01.02.*", "https://id.gs1.org/8006/040123451111180102"),
    ],
)
def test_pattern_to_class_level(pattern: str, link: str) -> None:
    assert canonical_identifier(pattern) == link


@pytest.mark.parametrize(
    ("uri", "link"),
    [
        ("https://id.gs1.org/gtin/09780345418913", "https://id.gs1.org/01/09780345418913"),
        (
            "https://example.com/gtin/09780345418913/21/765tz?abc=211121",
            "https://id.gs1.org/01/09780345418913/21/765tz",
        ),
        ("http://example.com/shop/01/9780345418913", "https://id.gs1.org/01/09780345418913"),
        (
            "https://brand.example/01/04012345111118/10/LOT1/21/9876#top",
            "https://id.gs1.org/01/04012345111118/21/9876",
        ),
        (
            "https://id.gs1.org/01/04012345111118/22/2A/10/LOT1",
            "https://id.gs1.org/01/04012345111118/10/LOT1",
        ),
        ("https://id.gs1.org/sscc/340123451111111111", "https://id.gs1.org/00/340123451111111111"),
        (
            "https://id.gs1.org/01/04012345111118/21/a!b",
            "https://id.gs1.org/01/04012345111118/21/a%21b",
        ),
    ],
)
def test_digital_link_variants(uri: str, link: str) -> None:
    assert canonical_identifier(uri) == link


@pytest.mark.parametrize(
    "value",
    [
        "urn:example:thing:1",
        "urn:epc:id:sgtin:123.45.6",
        "urn:epc:id:sscc:4012345.311",
        "urn:epc:idpat:sgtin:4012345.*.*",
        "https://example.com/products/42",
        "https://id.gs1.org/01/123/21/1",
        "https://id.gs1.org/01/04012345111118/99/x",
        "geo:47.506694,11.104301",
        "",
    ],
)
def test_identifier_other_values_unchanged(value: str) -> None:
    assert canonical_identifier(value) == value


def test_urn_equals_foreign_host_link() -> None:
    assert canonical_identifier("urn:epc:id:sgtin:4012345.011111.9876") == canonical_identifier(
        "https://brand.example/gtin/4012345111118/ser/9876?linkType=all"
    )


@pytest.mark.parametrize(
    ("vocabulary", "value", "uri"),
    [
        ("bizStep", "shipping", "https://ref.gs1.org/cbv/BizStep-shipping"),
        ("bizStep", "cbv:BizStep-shipping", "https://ref.gs1.org/cbv/BizStep-shipping"),
        (
            "bizStep",
            "urn:epcglobal:cbv:bizstep:shipping",
            "https://ref.gs1.org/cbv/BizStep-shipping",
        ),
        (
            "bizStep",
            "https://ref.gs1.org/cbv/BizStep-shipping",
            "https://ref.gs1.org/cbv/BizStep-shipping",
        ),
        ("bizStep", "sensor_reporting", "https://ref.gs1.org/cbv/BizStep-sensor_reporting"),
        ("disposition", "in_transit", "https://ref.gs1.org/cbv/Disp-in_transit"),
        ("disposition", "urn:epcglobal:cbv:disp:recalled", "https://ref.gs1.org/cbv/Disp-recalled"),
        ("bizTransactionType", "po", "https://ref.gs1.org/cbv/BTT-po"),
        ("sourceDestType", "possessing_party", "https://ref.gs1.org/cbv/SDT-possessing_party"),
        ("errorReason", "did_not_occur", "https://ref.gs1.org/cbv/ER-did_not_occur"),
        ("component", "latitude", "https://ref.gs1.org/cbv/Comp-latitude"),
        ("sensorMeasurementType", "Temperature", "https://gs1.org/voc/Temperature"),
        ("sensorMeasurementType", "gs1:Temperature", "https://gs1.org/voc/Temperature"),
        ("sensorAlertType", "ALARM_CONDITION", "https://gs1.org/voc/ALARM_CONDITION"),
        ("bizStep", "https://example.com/steps/dyeing", "https://example.com/steps/dyeing"),
    ],
)
def test_cbv_forms(vocabulary: str, value: str, uri: str) -> None:
    assert canonical_cbv(vocabulary, value) == uri


def test_cbv_rejects_unknown_word() -> None:
    with pytest.raises(ValueError, match="'transforming' is not a CBV bizStep term"):
        canonical_cbv("bizStep", "transforming")


def test_cbv_rejects_unknown_vocabulary() -> None:
    with pytest.raises(ValueError, match="unknown CBV vocabulary 'bizstep'"):
        canonical_cbv("bizstep", "shipping")


def test_normalise_event_fields() -> None:
    event = {
        "type": "ObjectEvent",
        "eventTime": "2020-01-01T00:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
        "epcList": ["urn:epc:id:sgtin:4012345.011111.9876"],
        "quantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.012345.Lot987", "quantity": 1}],
        "bizStep": "shipping",
        "disposition": "urn:epcglobal:cbv:disp:in_transit",
        "readPoint": {"id": "urn:epc:id:sgln:4012345.00005.0"},
        "bizTransactionList": [
            {"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:4012345000009:1"}
        ],
        "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:4000001.00000"}],
        "persistentDisposition": {"set": ["recalled"]},
        "sensorElementList": [
            {"sensorReport": [{"type": "Temperature", "deviceID": "urn:epc:id:giai:4000001.111"}]}
        ],
    }
    normalised = normalise_event(event)

    assert normalised["epcList"] == ["https://id.gs1.org/01/04012345111118/21/9876"]
    assert (
        normalised["quantityList"][0]["epcClass"]
        == "https://id.gs1.org/01/04012345123456/10/Lot987"
    )
    assert normalised["bizStep"] == "https://ref.gs1.org/cbv/BizStep-shipping"
    assert normalised["disposition"] == "https://ref.gs1.org/cbv/Disp-in_transit"
    assert normalised["readPoint"] == {"id": "https://id.gs1.org/414/4012345000054"}
    assert normalised["bizTransactionList"][0]["type"] == "https://ref.gs1.org/cbv/BTT-po"
    assert normalised["sourceList"][0] == {
        "type": "https://ref.gs1.org/cbv/SDT-owning_party",
        "source": "https://id.gs1.org/417/4000001000005",
    }
    assert normalised["persistentDisposition"] == {"set": ["https://ref.gs1.org/cbv/Disp-recalled"]}
    report = normalised["sensorElementList"][0]["sensorReport"][0]
    assert report == {
        "type": "https://gs1.org/voc/Temperature",
        "deviceID": "https://id.gs1.org/8004/4000001111",
    }


def test_normalise_event_copies() -> None:
    event = {
        "type": "ObjectEvent",
        "bizStep": "shipping",
        "epcList": ["urn:epc:id:sscc:4012345.3111111111"],
    }
    normalise_event(event)

    assert event == {
        "type": "ObjectEvent",
        "bizStep": "shipping",
        "epcList": ["urn:epc:id:sscc:4012345.3111111111"],
    }


def test_normalise_keeps_unknown_word() -> None:
    assert (
        normalise_event({"type": "ObjectEvent", "bizStep": "transforming"})["bizStep"]
        == "transforming"
    )
