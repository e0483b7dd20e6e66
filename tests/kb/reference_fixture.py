"""Small public registers for the importer's tests, with one bad row for every skip reason.

Values are invented (``.example`` domains, numbers of zeros) except the ISTAT codes, codici
catastali, CAPs and prefixes, which must be the real ones for the rows to join. Each bad row
says in its name or value what it exercises.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

CPIA_HEADER = (
    "REGIONE,CODICEISTITUTORIFERIMENTO,DENOMINAZIONEISTITUTORIFERIMENTO,CODICESCUOLA,"
    "DENOMINAZIONESCUOLA,INDIRIZZOSCUOLA,CAPSCUOLA,CODICECOMUNESCUOLA,DESCRIZIONECOMUNE,"
    "DESCRIZIONECARATTERISTICASCUOLA,INDICAZIONESEDEDIRETTIVO,INDIRIZZOEMAILSCUOLA,"
    "INDIRIZZOPECSCUOLA,SITOWEBSCUOLA"
)

REFERENCE: dict[str, str] = {
    "reference/registers.yml": """
        registers:
          - id: contacts
            role: comuni_contacts
            file: contacts.csv
            title: "Contatti dei comuni (test)"
            url: "https://contacts.example/"
            date: 2026-01-26
            licence: "MIT"
            attribution: "test"
          - id: townhalls
            role: comuni_townhalls
            file: townhalls.csv
            title: "IndicePA (test)"
            url: "https://ipa.example/"
            date: 2022
            licence: "CC BY 4.0"
            attribution: "test"
          - id: suppressed
            role: comuni_suppressed
            file: suppressed.csv
            title: "Comuni soppressi (test)"
            url: "https://suppressed.example/"
            licence: "MIT"
            attribution: "test"
          - id: prefetture
            role: prefetture
            file: prefetture.csv
            title: "Prefetture (test)"
            url: "https://prefetture.example/"
            date: 2021-07-22
            licence: "Apache-2.0"
            attribution: "test"
          - id: asl
            role: asl
            file: asl.csv
            title: "ASL (test)"
            url: "https://asl.example/"
            date: 2022
            licence: "CC BY 4.0"
            attribution: "test"
          - id: cpia
            role: cpia
            file: cpia.csv
            title: "CPIA (test)"
            url: "https://cpia.example/"
            date: 2025-09-01
            licence: "IODL 2.0"
            attribution: "test"
    """,
    # line 2 Bari, 3 Modugno (phone not a number), 4 Lecce, 5 Nardò (two numbers),
    # 6 Galatina, 7 Maglie, 8 Trepuzzi, 9 Campi Salentina, 10 Barletta (a mailbox in the PEC
    # column), 11 outside Puglia, 12 Bari again.
    "reference/contacts.csv": """
        istat,nome,sigla,catastale,cap,prefisso,email,pec,telefono,fax,lat,lng
        072006,Bari,BA,A662,70121,080,urp@comune.bari.example,protocollo@pec.bari.example,+39 080.0000001,,41.1253,16.8667
        072027,Modugno,BA,F262,70026,080,urp@comune.modugno.example,protocollo@pec.modugno.example,not a phone,,41.0833,16.7833
        075035,Lecce,LE,E506,73100,0832,urp@comune.lecce.example,protocollo@pec.lecce.example,+39 0832/000002,,40.352,18.1691
        075052,Nardò,LE,F842,73048,0833,urp@comune.nardo.example,protocollo@pec.nardo.example,+39 0833/000003 - 0833/000004,,40.1797,18.0333
        075029,Galatina,LE,D862,73013,0836,urp@comune.galatina.example,protocollo@pec.galatina.example,+39 0836/000005,,40.1667,18.1667
        075039,Maglie,LE,E815,73024,0836,urp@comune.maglie.example,protocollo@pec.maglie.example,+39 0836/000006,,40.1167,18.3
        075087,Trepuzzi,LE,L383,73019,0832,urp@comune.trepuzzi.example,protocollo@pec.trepuzzi.example,+39 0832/000007,,40.4053,18.0728
        075011,Campi Salentina,LE,B506,73012,0832,urp@comune.campi.example,protocollo@pec.campi.example,+39 0832/000013,,40.3989,18.0219
        110002,Barletta,BT,A669,76121,0883,urp@comune.barletta.example,urp@comune.barletta.example,+39 0883 000008,,41.3167,16.2833
        058091,Roma,RM,H501,00100,06,urp@comune.roma.example,protocollo@pec.roma.example,+39 06 0000009,,41.9,12.5
        072006,Bari,BA,A662,70121,080,again@comune.bari.example,protocollo@pec.bari.example,+39 080 0000010,,41.1253,16.8667
    """,  # noqa: E501
    # line 2 Bari, 3 Modugno (website noise), 4 merged comune, 5 unknown code, 6 Barletta
    # (outdated CAP), 7 Lecce (a code that is not its catastale, joined by name).
    "reference/townhalls.csv": """
        id,name,address,url,email,source_url
        it/c_a662,Comune di Bari,Corso Uno 1 - 70122 Bari (BA) Italy,http://www.comune.bari.example,urp@comune.bari.example,http://ipa.example/c_a662
        it/c_f262,Comune di Modugno,Piazza Due 2 - 70026 Modugno (BA) Italy,http://password5,protocollo@pec.modugno.example,http://ipa.example/c_f262
        it/c_a042,Comune di Acquarica del Capo,P.zza Municipio - 73040 Acquarica del Capo (LE) Italy,http://password5,urp@acquarica.example,http://ipa.example/c_a042
        it/c_z999,Comune di Nessunluogo,Via Tre 3 - 71100 Nessunluogo (FG) Italy,http://www.nessunluogo.example,urp@nessunluogo.example,http://ipa.example/c_z999
        it/c_a669,Comune di Barletta,Corso Quattro 4 - 70051 Barletta (BT) Italy,http://http:\\\\www.comune.barletta.example,protocollo@pec.barletta.example,http://ipa.example/c_a669
        it/c_x506,Comune di Lecce,Via Cinque 5 - 73100 Lecce (LE) Italy,www.comune.lecce.example,,http://ipa.example/c_x506
    """,  # noqa: E501
    "reference/suppressed.csv": """
        istat,catastale,nome,sigla,ceased,merged_into_istat
        075001,A042,Acquarica del Capo,LE,2019-05-14,075098
    """,
    "reference/prefetture.csv": """
        province,address,cap,email,pec,phone,fax
        BARI,"Piazza Sei, 6, BARI, BA, Italia",70122,prefettura.bari@interno.example,prefettura@pec.interno.example,+39 080 0000011,
        ROMA,"Via Sette, 7, ROMA, RM, Italia",00100,prefettura.roma@interno.example,prefroma@pec.interno.example,+39 06 0000012,
    """,  # noqa: E501
    "reference/asl.csv": """
        id,name,address,url,email,source_url
        it/asl_ba,Azienda Sanitaria Locale Bari,Lungomare Otto 8 - 70123 Bari (BA) Italy,http://www.asl.bari.example,protocollo@pec.asl.bari.example,http://ipa.example/asl_ba
    """,  # noqa: E501
    # line 2 head office in Lecce, 3 Nardò (another CPIA's website), 4 prison in Lecce,
    # 5 Galatina, 6 Maglie with Modugno's CAP (cannot be placed), 7 filed under Campi
    # Salentina with Trepuzzi's CAP and name (moved), 8 outside Puglia.
    "reference/cpia.csv": f"""
        {CPIA_HEADER}
        PUGLIA,LEMM00000X,CPIA 1 LECCE,LEMM00000X,CPIA 1 LECCE,VIA UNO 1,73100,E506,LECCE,CPIA,SI,LEMM00000X@istruzione.it,LEMM00000X@pec.istruzione.it,www.cpia1lecce.example
        PUGLIA,LEMM00000X,CPIA 1 LECCE,LECT00001A,CPIA NARDO,VIA DUE 2,73048,F842,NARDO',NORMALE,NO,LEMM00000X@istruzione.it,Non Disponibile,www.cpiaaltro.example
        PUGLIA,LEMM00000X,CPIA 1 LECCE,LEEE00002B,CASA CIRCONDARIALE,VIA TRE 3,73100,E506,LECCE,SPEC. PER CARCERARI,NO,Non Disponibile,Non Disponibile,Non Disponibile
        PUGLIA,LEMM00000X,CPIA 1 LECCE,LECT00003C,CPIA GALATINA,VIA QUATTRO 4,73013,D862,GALATINA,NORMALE,NO,ALTRASCUOLA@istruzione.it,Non Disponibile,Non Disponibile
        PUGLIA,LEMM00000X,CPIA 1 LECCE,LECT00004D,CPIA SEDE X,VIA CINQUE 5,70026,E815,MAGLIE,NORMALE,NO,Non Disponibile,Non Disponibile,Non Disponibile
        PUGLIA,LEMM00000X,CPIA 1 LECCE,LECT00005E,CPIA TREPUZZI,VIA SEI 6,73019,B506,CAMPI SALENTINA,NORMALE,NO,Non Disponibile,Non Disponibile,Non Disponibile
        LAZIO,RMMM00000Z,CPIA 1 ROMA,RMCT00006F,CPIA ROMA,VIA SETTE 7,00100,H501,ROMA,NORMALE,NO,Non Disponibile,Non Disponibile,Non Disponibile
    """,  # noqa: E501
}


def write_reference(root: Path, files: dict[str, str] = REFERENCE) -> Path:
    """Write the registers under ``root`` (a knowledge folder) and return it."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return root
