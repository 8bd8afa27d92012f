"""`precog import-trades`: the CSV importer, on a real PostgreSQL."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from precog.ingest import trades_csv as importer

HEADER = "trade_id,position_id,action,quantity,price,fees,execution_timestamp"


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def trades(cursor) -> list[tuple]:
    cursor.execute(
        "select trade_id, position_id, action, quantity, price, fees, execution_timestamp"
        " from raw.trades order by trade_id, position_id"
    )
    return cursor.fetchall()


def import_lines(cursor) -> list[tuple]:
    cursor.execute(
        "select file_name, line_number, trade_id from raw.trade_import_lines order by line_number"
    )
    return cursor.fetchall()


def rejects(cursor) -> list[tuple]:
    cursor.execute(
        "select file_name, line_number, line, reason from raw.trade_import_rejects"
        " order by line_number"
    )
    return cursor.fetchall()


def count(cursor, table: str) -> int:
    cursor.execute(f"select count(*) from {table}")
    return cursor.fetchone()[0]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- a good file --------------------------------------------------------------------------------


def test_good_file_loads_every_row_exactly(warehouse, cursor, tmp_path):
    # Columns in another order, names in other case, a BOM, CRLF line ends, quoting, blank
    # lines, spaces around values, every ISO 8601 form, decimals beyond float's precision.
    rows = [
        " Price ,fees,Trade_ID,position_id,action,quantity,execution_timestamp",
        "0.50,0.02,1,10,entry,100,2024-03-01T14:30:00Z",
        '"0.1",0,2,10,"exit",40,2024-03-01 15:30:00.123456+05:30',
        "",
        "0.000000000000000000000000000001,1E-2,3,11,entry,999999999.000,2024-03-01T14:30:00-08:00",
        " .25 , +3 , 4 , 0012 , settlement , 1e+2 , 20240301T143000Z ",
        "",
        "1,0.0000,5,12,entry,7,2024-W09-5T14:30:00.5+01:00",
        # Business rules are the quarantine's: price > 1, quantity <= 0, negative fees,
        # a duplicate id and an unknown action land as they are.
        "1.5,-0.01,5,13,hold,-3,2024-03-01T14:30:00.1234567+00:00",
    ]
    path = write(tmp_path / "good.csv", b"\xef\xbb\xbf" + "\r\n".join(rows).encode() + b"\r\n")

    report = importer.import_trades(path, warehouse)

    assert (report.file_name, report.rows_loaded, report.rows_rejected) == ("good.csv", 6, 0)
    assert not report.reasons
    assert "6 trades loaded" in str(report)
    d = Decimal
    assert trades(cursor) == [
        (1, 10, "entry", d("100"), d("0.50"), d("0.02"), at("2024-03-01T14:30:00+00:00")),
        (2, 10, "exit", d("40"), d("0.1"), d("0"), at("2024-03-01T10:00:00.123456+00:00")),
        (
            3,
            11,
            "entry",
            d("999999999.000"),
            d("0.000000000000000000000000000001"),
            d("0.01"),
            at("2024-03-01T22:30:00+00:00"),
        ),
        (4, 12, "settlement", d("100"), d("0.25"), d("3"), at("2024-03-01T14:30:00+00:00")),
        (5, 12, "entry", d("7"), d("1"), d("0"), at("2024-03-01T13:30:00.5+00:00")),
        (5, 13, "hold", d("-3"), d("1.5"), d("-0.01"), at("2024-03-01T14:30:00.123457+00:00")),
    ]
    # Exact text, scale included: the Decimal's string form reaches numeric unchanged.
    cursor.execute("select price::text, fees::text from raw.trades order by trade_id, price")
    assert cursor.fetchall()[:2] == [("0.50", "0.02"), ("0.1", "0")]
    # Where each came from: physical lines, the header being line 1, blank lines counted.
    assert import_lines(cursor) == [
        ("good.csv", 2, 1),
        ("good.csv", 3, 2),
        ("good.csv", 5, 3),
        ("good.csv", 6, 4),
        ("good.csv", 8, 5),
        ("good.csv", 9, 5),
    ]
    assert rejects(cursor) == []
    # One transaction: the trades and their lines share one loaded_at.
    cursor.execute(
        "select count(distinct loaded_at) from (select loaded_at from raw.trades"
        " union all select loaded_at from raw.trade_import_lines) as both_tables"
    )
    assert cursor.fetchone()[0] == 1


def test_header_only_file_loads_nothing_and_is_fine(warehouse, cursor, tmp_path):
    report = importer.import_trades(write(tmp_path / "none.csv", HEADER + "\n"), warehouse)
    assert (report.rows_loaded, report.rows_rejected) == (0, 0)
    assert count(cursor, "raw.trades") == 0


def test_loads_in_chunks(warehouse, cursor, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "CHUNK_ROWS", 3)
    lines = [HEADER]
    for i in range(1, 21):
        price = "oops" if i % 4 == 0 else f"0.{i:02d}"
        lines.append(f"{i},{i},entry,{i},{price},0,2024-01-01T00:00:{i:02d}Z")
    report = importer.import_trades(write(tmp_path / "chunks.csv", "\n".join(lines)), warehouse)
    assert (report.rows_loaded, report.rows_rejected) == (15, 5)
    assert [row[0] for row in trades(cursor)] == [i for i in range(1, 21) if i % 4]
    assert [row[1] for row in import_lines(cursor)] == [i + 1 for i in range(1, 21) if i % 4]
    assert [row[1] for row in rejects(cursor)] == [i + 1 for i in range(1, 21) if i % 4 == 0]


# --- bad lines ----------------------------------------------------------------------------------


def test_bad_lines_are_rejected_with_their_line_and_reason(warehouse, cursor, tmp_path):
    ts = "2024-03-01T14:30:00Z"
    content = b"\n".join(
        [
            HEADER.encode(),  # 1
            f"1,10,entry,5,0.5,0.01,{ts}".encode(),  # 2: good
            b"2,10,entry,5,0.5",  # 3
            f"3,10,entry,5,0.5,0.01,{ts},extra".encode(),  # 4
            f"abc,10,entry,5,0.5,0.01,{ts}".encode(),  # 5
            f"6,1.5,entry,5,0.5,0.01,{ts}".encode(),  # 6
            f"9223372036854775808,10,entry,5,0.5,0.01,{ts}".encode(),  # 7
            f"8,10,entry,5,abc,0.01,{ts}".encode(),  # 8
            f"9,10,entry,NaN,0.5,0.01,{ts}".encode(),  # 9
            f"10,10,entry,5,0.5,-Infinity,{ts}".encode(),  # 10
            b"11,10,entry,5,0.5,0.01,yesterday",  # 11
            b"12,10,entry,5,0.5,0.01,2024-03-01T14:30:00",  # 12
            f"13,10,,5,0.5,0.01,{ts}".encode(),  # 13
            f'14,10,"entry\nwith a newline",5,0.5,0.01,{ts}'.encode(),  # 14-15: good
            f'15,10,entry,5,"0.\n5",0.01,{ts}'.encode(),  # 16-17
            b"",  # 18: blank
            f"16,10,entry,5,0.5,0.01,{ts}".encode(),  # 19: good
            f"17,10,entr\xe9e,5,0.5,0.01,{ts}".encode("latin-1"),  # 20
            f"18,10,en\x00try,5,0.5,0.01,{ts}".encode(),  # 21
            f'19,10,"entry"x,5,0.5,0.01,{ts}'.encode(),  # 22
            b"20,x,entry,5,1_0,0.5.1,2024-13-01T00:00:00Z",  # 23
            f"21,10,entry,1e999999,0.5,1E-999999,{ts}".encode(),  # 24
            f"22,10,entry,5,0.5,0.01,{ts}".encode(),  # 25: good
            b'23,10,"entry,5,0.5,0.01,' + ts.encode() + b"\n",  # 26: unclosed quote at the end
        ]
    )
    report = importer.import_trades(write(tmp_path / "bad.csv", content), warehouse)

    assert (report.rows_loaded, report.rows_rejected) == (4, 18)
    assert [row[:3] for row in trades(cursor)] == [
        (1, 10, "entry"),
        (14, 10, "entry\nwith a newline"),
        (16, 10, "entry"),
        (22, 10, "entry"),
    ]
    assert [row[1:] for row in import_lines(cursor)] == [(2, 1), (14, 14), (19, 16), (25, 22)]
    expected = {
        3: ("2,10,entry,5,0.5", "expected 7 fields, found 5"),
        4: (f"3,10,entry,5,0.5,0.01,{ts},extra", "expected 7 fields, found 8"),
        5: (None, "trade_id 'abc' is not an integer"),
        6: (None, "position_id '1.5' is not an integer"),
        7: (None, "trade_id '9223372036854775808' does not fit a 64-bit integer"),
        8: (None, "price 'abc' is not a decimal number"),
        9: (None, "quantity 'NaN' is not a finite number"),
        10: (None, "fees '-Infinity' is not a finite number"),
        11: (None, "execution_timestamp 'yesterday' is not an ISO 8601 timestamp"),
        12: (None, "execution_timestamp '2024-03-01T14:30:00' has no time zone offset"),
        13: (None, "action is blank"),
        16: (f'15,10,entry,5,"0.\n5",0.01,{ts}', "price '0.\\n5' is not a decimal number"),
        20: (f"17,10,entr\\xe9e,5,0.5,0.01,{ts}", "the line holds bytes that are not UTF-8"),
        21: (f"18,10,en\\x00try,5,0.5,0.01,{ts}", "the line holds a NUL byte"),
        22: (None, "the record is not valid CSV: a quoted field has text after its closing"),
        23: (None, "position_id 'x' is not an integer"),  # the whole reason: below
        24: (None, "quantity '1e999999' is out of range for numeric"),
        26: (f'23,10,"entry,5,0.5,0.01,{ts}', "the record is not valid CSV: a quoted field"),
    }
    found = rejects(cursor)
    assert [row[1] for row in found] == sorted(expected)
    assert {row[0] for row in found} == {"bad.csv"}
    raw_lines = content.split(b"\n")
    for _, line_number, line, reason in found:
        expected_line, expected_reason = expected[line_number]
        if expected_line is None:
            expected_line = raw_lines[line_number - 1].decode()
        assert line == expected_line, line_number
        assert reason.startswith(expected_reason), (line_number, reason)
    # Every problem of a row is said, and counted.
    reason_23 = next(reason for _, number, _, reason in found if number == 23)
    assert reason_23 == (
        "position_id 'x' is not an integer; price '1_0' is not a decimal number; "
        "fees '0.5.1' is not a decimal number; "
        "execution_timestamp '2024-13-01T00:00:00Z' is not an ISO 8601 timestamp such as "
        "2024-03-01T14:30:00Z"
    )
    reason_24 = next(reason for _, number, _, reason in found if number == 24)
    assert "fees '1E-999999' is out of range" in reason_24
    assert report.reasons == {
        "field_count": 2,
        "not_integer": 3,
        "integer_out_of_range": 1,
        "not_decimal": 3,
        "not_finite": 2,
        "decimal_out_of_range": 1,
        "not_timestamp": 2,
        "timestamp_without_offset": 1,
        "blank_value": 1,
        "not_utf8": 1,
        "nul_byte": 1,
        "malformed_csv": 2,
    }
    assert set(report.reasons) <= set(importer.REASON_CODES)
    assert "rejections:" in str(report)


def test_blank_values_and_odd_timestamps(warehouse, cursor, tmp_path):
    content = "\n".join(
        [
            HEADER,
            ",,,,,,",
            "1,2,entry,1,0.5,0,2024-03-01T14:30:00+16:00",  # beyond PostgreSQL's offsets
            "2,2,entry,1,0.5,0,2024-03-01",  # a date: no time, no offset
            '3,2,entry,1,0.5,0,"2024-03-01T14:30:00,5+15:59"',  # comma fraction, max offset
            "4,2,entry,1,0.5,0,2024-03-01x14:30:00+05:30:15",  # any separator, second offset
        ]
    )
    report = importer.import_trades(write(tmp_path / "odd.csv", content), warehouse)
    assert (report.rows_loaded, report.rows_rejected) == (2, 3)
    reasons = {line_number: reason for _, line_number, _, reason in rejects(cursor)}
    assert reasons[2] == "; ".join(f"{name} is blank" for name in importer.COLUMNS)
    assert "offset PostgreSQL cannot take" in reasons[3]
    assert "has no time zone offset" in reasons[4]
    assert [row[6] for row in trades(cursor)] == [
        at("2024-03-01T14:30:00.5+15:59"),
        at("2024-03-01T14:30:00+05:30:15"),
    ]


# --- files that are not the expected CSV ----------------------------------------------------------

GOOD_ROW = b"1,10,entry,5,0.5,0.01,2024-03-01T14:30:00Z\n"

NOT_THE_CSV = {
    "binary": (bytes(range(256)) * 4, "the file is binary"),
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "not UTF-8"),
    "empty": (b"", "empty"),
    "blank lines only": (b"\xef\xbb\xbf\n\r\n   \n", "empty"),
    "missing column": (
        b"trade_id,position_id,action,quantity,price,execution_timestamp\n" + GOOD_ROW,
        "missing column(s) fees",
    ),
    "wrong header": (
        b"trade_id,position_id,side,quantity,price,fees,execution_timestamp,note\n" + GOOD_ROW,
        "missing column(s) action; unexpected column(s) 'side', 'note'",
    ),
    "repeated column": (
        (HEADER + ",price\n").encode() + GOOD_ROW,
        "repeated column(s) price",
    ),
    "no header": (
        GOOD_ROW * 3,
        "does not start with the header (its first line is '1,10,entry",
    ),
    "semicolons": (
        HEADER.replace(",", ";").encode() + b"\n" + GOOD_ROW.replace(b",", b";"),
        "is not separated by commas",
    ),
    "json": (
        b'[{"trade_id": 1, "position_id": 10, "action": "entry", "quantity": "5",\n'
        b'  "price": "0.5", "fees": "0.01", "execution_timestamp": "2024-03-01T14:30:00Z"}]\n',
        "does not start with the header",
    ),
    "utf-16": ((HEADER + "\n").encode("utf-16") + GOOD_ROW.decode().encode("utf-16-le"), "UTF-16"),
    "latin-1 header": ("trade_id,position_id,açtion\n".encode("latin-1"), "not UTF-8"),
    "one huge line": (b"x" * 70_000, "longer than 64 KiB"),
}


@pytest.mark.parametrize("kind", NOT_THE_CSV)
def test_a_file_that_is_not_the_csv_is_refused_and_loads_nothing(warehouse, cursor, tmp_path, kind):
    content, message = NOT_THE_CSV[kind]
    path = write(tmp_path / "file.csv", content)
    with pytest.raises(importer.ImportFileError) as raised:
        importer.import_trades(path, warehouse)
    text = str(raised.value)
    assert message in text
    assert "expected a UTF-8 CSV file whose first line is a header naming exactly" in text
    assert "\n" not in text and "\r" not in text  # one line
    for table in ("raw.trades", "raw.trade_import_rejects", "raw.trade_import_lines"):
        assert count(cursor, table) == 0


def test_a_missing_file_is_refused(warehouse, tmp_path):
    with pytest.raises(importer.ImportFileError, match="cannot be read"):
        importer.import_trades(tmp_path / "nope.csv", warehouse)


def test_an_unexpected_error_loads_nothing(warehouse, cursor, tmp_path, monkeypatch):
    """One transaction: an error after some chunks were copied leaves no trace."""
    monkeypatch.setattr(importer, "CHUNK_ROWS", 2)
    copies = []
    real_copy = importer._Loader._copy

    def failing_copy(self, table, columns, rows):
        copies.append(table)
        if len(copies) > 4:
            raise RuntimeError("the connection broke")
        real_copy(self, table, columns, rows)

    monkeypatch.setattr(importer._Loader, "_copy", failing_copy)
    rows = [HEADER] + [f"{i},1,entry,1,0.5,0,2024-01-01T00:00:00Z" for i in range(1, 10)]
    with pytest.raises(RuntimeError, match="broke"):
        importer.import_trades(write(tmp_path / "t.csv", "\n".join([*rows, "x"])), warehouse)
    assert len(copies) == 5
    for table in ("raw.trades", "raw.trade_import_rejects", "raw.trade_import_lines"):
        assert count(cursor, table) == 0


# --- exactness ----------------------------------------------------------------------------------


def decimal_texts(max_digits: int = 10**20, exponents: tuple[int, int] = (-40, -11)):
    """A Decimal and a way of writing it that Decimal reads back as the same number; by
    default up to 1e9 (a plausible price or fee) with up to 40 decimals."""

    def render(sign, digits, exponent, style):
        value = Decimal(f"{sign}{digits}E{exponent}")
        if style == "str":
            return value, str(value)
        if style == "fixed":
            return value, format(value, "f")
        if style == "sci":
            return value, format(value, "e")
        text = format(value, "f")  # leading "+" and bare leading "."
        text = text.replace("0.", ".", 1) if text.startswith("0.") else text
        return value, ("+" + text if sign == "" else text)

    return st.builds(
        render,
        st.sampled_from(["", "-"]),
        st.integers(min_value=0, max_value=max_digits),
        st.integers(min_value=exponents[0], max_value=exponents[1]),
        st.sampled_from(["str", "fixed", "sci", "plus"]),
    )


offsets = st.integers(min_value=-(16 * 3600 - 1), max_value=16 * 3600 - 1).map(
    lambda seconds: timezone(timedelta(seconds=seconds))
)
instants = st.datetimes(
    min_value=datetime(2000, 1, 2), max_value=datetime(2099, 12, 30), timezones=offsets
)
# Contracts are whole: up to 1e9 of them.
quantity_texts = decimal_texts(max_digits=10**9, exponents=(0, 0))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.lists(
        st.tuples(quantity_texts, decimal_texts(), decimal_texts(), instants, st.booleans()),
        min_size=1,
        max_size=20,
    )
)
def test_decimals_and_timestamps_round_trip_exactly(warehouse, cursor, rows):
    cursor.execute("truncate raw.trades, raw.trade_import_lines, raw.trade_import_rejects")
    lines = [HEADER]
    for i, ((_, quantity), (_, price), (_, fees), instant, spaced) in enumerate(rows):
        written = instant.isoformat(sep=" " if spaced else "T")
        lines.append(f"{i},1,entry,{quantity},{price},{fees},{written}")
    with tempfile.TemporaryDirectory() as directory:
        path = write(Path(directory) / "exact.csv", "\n".join(lines))
        report = importer.import_trades(path, warehouse)
    assert (report.rows_loaded, report.rows_rejected) == (len(rows), 0)
    loaded = trades(cursor)
    for (quantity, price, fees, instant, _), row in zip(rows, loaded, strict=True):
        assert row[3:6] == (quantity[0], price[0], fees[0])
        assert row[6] == instant  # the same instant


def test_implausible_values_are_rejected_with_a_reason(warehouse, cursor, tmp_path):
    ts = "2024-03-01T14:30:00Z"
    content = "\n".join(
        [
            HEADER,
            f"1,10,entry,1e400,0.5,0.01,{ts}",  # fits numeric, fits no trade
            f"2,10,entry,2.5,0.5,0.01,{ts}",  # contracts are whole
            f"3,10,entry,5,0.5,1000000001,{ts}",
            "4,10,entry,5,0.5,0.01,0001-01-01T00:00:00Z",
            f"5,10,entry,1000000000,0.5,0.01,{ts}",  # the largest plausible: loaded
        ]
    )
    report = importer.import_trades(write(tmp_path / "odd.csv", content), warehouse)
    assert (report.rows_loaded, report.rows_rejected) == (1, 4)
    reasons = {line_number: reason for _, line_number, _, reason in rejects(cursor)}
    assert reasons[2].startswith("quantity '1e400' is beyond any plausible trade")
    assert reasons[3] == "quantity '2.5' is not a whole number"
    assert reasons[4].startswith("fees '1000000001' is beyond any plausible trade")
    assert reasons[5] == (
        "execution_timestamp '0001-01-01T00:00:00Z' is outside the years 2000-2099"
    )
    assert report.reasons == {
        "implausible_value": 2,
        "quantity_not_whole": 1,
        "implausible_timestamp": 1,
    }
