"""Checking one register field: phone numbers, web addresses, e-mail, PEC, coordinates."""

from __future__ import annotations

import pytest

from bot.kb import normalize


@pytest.mark.parametrize(
    ("raw", "prefix", "value", "repaired"),
    [
        ("+39 0881.981012", "0881", "0881 981012", False),
        ("+39 080/3065111", "080", "080 3065111", False),
        ("+39 0804094179/181", "080", "080 4094179", True),  # a second ending dropped
        ("+39 080/3494377-327", "080", "080 3494377", True),
        ("+39 080/3902346 - 080/3902328", "080", "080 3902346", True),  # two numbers
        ("+39 0831 5761", None, "0831 5761", False),
        ("0039 099 4545111", None, "099 4545111", False),
        ("Non Disponibile", None, "", False),
    ],
)
def test_phone_numbers_are_written_one_way(
    raw: str, prefix: str | None, value: str, repaired: bool
) -> None:
    checked = normalize.phone(raw, prefix)
    assert (checked.value, checked.refused, bool(checked.note)) == (value, False, repaired)


@pytest.mark.parametrize(
    ("raw", "prefix"),
    [
        ("not a phone", None),
        ("+39 12345", None),  # neither a landline, a mobile nor a toll-free number
        ("+39 0883 539111", "080"),  # a town hall's number outside its own district
    ],
)
def test_impossible_phone_numbers_are_refused(raw: str, prefix: str | None) -> None:
    checked = normalize.phone(raw, prefix)
    assert checked.value == "" and checked.refused


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("http://www.comune.bari.it", "http://www.comune.bari.it"),
        ("http://www.comune.carlantino.fg.it.", "http://www.comune.carlantino.fg.it"),
        ("http://http:\\\\www.comune.veglie.le.it", "http://www.comune.veglie.le.it"),
        ("https//www.cpia1foggia.edu.it/", "https://www.cpia1foggia.edu.it"),
        ("WWW.CPIA2ALTAMURA.EDU.IT", "https://www.cpia2altamura.edu.it"),
        (
            "http://www.comune.castrignanodelcapo.le.it/index.php",
            "http://www.comune.castrignanodelcapo.le.it/index.php",
        ),
    ],
)
def test_web_addresses_are_repaired_mechanically(raw: str, value: str) -> None:
    checked = normalize.url(raw)
    assert checked.value == value and not checked.refused
    assert bool(checked.note) == (value != raw)


@pytest.mark.parametrize("raw", ["http://password5", "fgmm15400a@istruzione.it", "http://a b.it"])
def test_noise_is_not_a_web_address(raw: str) -> None:
    checked = normalize.url(raw)
    assert checked.value == "" and checked.refused


def test_pec_needs_a_certified_mail_domain() -> None:
    for address in (
        "protocollo@pec.rupar.puglia.it",
        "protocollo@pecnardo.it",
        "aslfg@mailcert.aslfg.it",
        "x@pa.postacertificata.gov.it",
        "BRMM07900G@PEC.ISTRUZIONE.IT",
    ):
        assert normalize.pec(address).value == address.lower()
    plain = normalize.pec("ufficio.ragioneria@comunemargheritadisavoia.it")
    assert plain.refused and "certified-mail" in plain.reason
    assert normalize.email("not an address").refused
    assert normalize.email("Non Disponibile") == normalize.Checked("")


def test_coordinates_must_be_in_puglia() -> None:
    assert normalize.coordinates("41.1253", "16.8667") == (41.1253, 16.8667)
    assert "outside Puglia" in normalize.coordinates("41.9", "12.5")
    assert "not numbers" in normalize.coordinates("north", "16.8")
    assert normalize.coordinates("", "16.8") == "no coordinates"
    assert normalize.decimals("40.2") == 1 and normalize.decimals("41") == 0


def test_indicepa_addresses_are_taken_apart() -> None:
    parsed = normalize.ipa_address("Piazza Cesare Battisti  1 - - 73048 Nardo' (LE) Italy")
    assert parsed == normalize.IpaAddress("Piazza Cesare Battisti 1", "73048", "Nardo'", "LE")
    assert normalize.ipa_address("somewhere in Puglia") is None
