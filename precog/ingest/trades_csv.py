"""Bulk import of historical trades from a CSV file into raw.trades (`precog import-trades`).

The file must be a UTF-8 CSV (a BOM is fine; RFC 4180 quoting) whose header names exactly the
columns of `COLUMNS`, in any order. A file that is not such a CSV at all (binary, not UTF-8,
empty, no or another header) is refused with `ImportFileError` before anything is loaded.

Otherwise every record is typed on its own: ids as 64-bit integers, money with `Decimal`
(never float; NaN and infinities refused), timestamps as ISO 8601 with a time zone offset
(without one a timestamp is ambiguous). A record that cannot be typed is kept whole in
raw.trade_import_rejects with the physical line where it starts (the header is line 1) and a
sentence saying why; blank lines are skipped. Business rules (price in [0, 1], quantity > 0,
known position, unique ids, ...) are deliberately not checked here: typed rows land in
raw.trades, and the dbt quarantine applies to them the same rules as to replicated rows. Each
loaded trade's origin goes to raw.trade_import_lines so that the quarantine can report its
line (same `loaded_at` as its raw.trades row: the whole import is one transaction).

Loading streams the file with the csv module and COPYs chunks, all in one transaction: either
the whole file is accounted for (good rows loaded, bad rows rejected) or nothing is.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from precog.warehouse import database

COLUMNS = ("trade_id", "position_id", "action", "quantity", "price", "fees", "execution_timestamp")
EXPECTED = (
    "a UTF-8 CSV file whose first line is a header naming exactly the columns "
    + ", ".join(COLUMNS)
    + " (in any order)"
)
CHUNK_ROWS = 100_000  # rows per COPY: bounds memory whatever the file's size
_SNIFF_BYTES = 64 * 1024

_BIGINT_MIN, _BIGINT_MAX = -(2**63), 2**63 - 1
# PostgreSQL numeric: up to 131072 digits before the decimal point and 16383 after.
_NUMERIC_MAX_ADJUSTED, _NUMERIC_MAX_SCALE = 131071, 16383

_SEPARATORS = ("T", " ")  # between date and time; Python takes any character, PostgreSQL not
_MAX_OFFSET = timedelta(hours=16)  # PostgreSQL's limit for a time zone displacement
# What a trade can plausibly hold: beyond it, a typo or a unit error, refused rather than loaded.
# (Signs and the [0, 1] price range are business rules: the quarantine judges those.)
_MAX_MAGNITUDE = Decimal(10**9)  # contracts in one trade, or dollars of price or fees
_YEARS = range(2000, 2100)
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


class ImportFileError(ValueError):
    """The file is not the expected CSV at all; nothing was loaded. The message says why."""


@dataclass(frozen=True)
class ImportReport:
    file_name: str
    rows_loaded: int
    rows_rejected: int
    # Rejected rows by problem code (see `REASON_CODES`); a row with several problems is
    # counted under each of them, so the counts can add up to more than rows_rejected.
    reasons: Counter[str] = field(default_factory=Counter)
    elapsed_seconds: float = 0.0

    def __str__(self) -> str:
        rate = self.rows_loaded / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0
        text = (
            f"{self.file_name}: {self.rows_loaded:,} trades loaded into raw.trades, "
            f"{self.rows_rejected:,} lines rejected into raw.trade_import_rejects "
            f"in {self.elapsed_seconds:.1f} s ({rate:,.0f} rows/s)"
        )
        if self.reasons:
            text += "; rejections: " + ", ".join(
                f"{code} {count:,}" for code, count in self.reasons.most_common()
            )
        return text


REASON_CODES = {
    "field_count": "the record does not have exactly one field per header column",
    "malformed_csv": "the record breaks CSV quoting (e.g. an unclosed or stray quote)",
    "not_utf8": "the line holds bytes that are not UTF-8",
    "nul_byte": "the line holds a NUL byte",
    "blank_value": "a required value is blank",
    "not_integer": "an id is not an integer",
    "integer_out_of_range": "an id does not fit a 64-bit integer",
    "not_decimal": "quantity, price or fees is not a decimal number",
    "not_finite": "quantity, price or fees is NaN or infinite",
    "decimal_out_of_range": "quantity, price or fees does not fit PostgreSQL numeric",
    "not_timestamp": "execution_timestamp is not an ISO 8601 timestamp PostgreSQL can take",
    "timestamp_without_offset": "execution_timestamp has no time zone offset (ambiguous)",
    "quantity_not_whole": "quantity is not a whole number of contracts",
    "implausible_value": "quantity, price or fees is beyond any plausible trade (a typo?)",
    "implausible_timestamp": "execution_timestamp is outside the years 2000-2099",
}


class _Bad(Exception):
    """One problem with one record: a code of REASON_CODES and a sentence."""

    def __init__(self, code: str, sentence: str):
        super().__init__(sentence)
        self.code = code
        self.sentence = sentence


def _show(text: str, limit: int = 60) -> str:
    """A value quoted for a reason sentence, shortened if long."""
    if len(text) > limit:
        text = text[:limit] + "..."
    if not text.isprintable():  # keep a reason on one line: line breaks and tabs as \n, \t
        text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    return "'" + text + "'"


# --- typing one value: each returns the text COPY gets, or raises _Bad ------------------------


def _bigint(name: str, raw: str) -> str:
    text = raw.strip()
    if text.isdigit() and text.isascii() and len(text) < 19:
        return text  # the usual id: plain ASCII digits that fit a bigint; bigint reads it
    if not text:
        raise _Bad("blank_value", f"{name} is blank")
    if _INTEGER.fullmatch(text) is None:
        raise _Bad("not_integer", f"{name} {_show(text)} is not an integer")
    if len(text.lstrip("+-").lstrip("0")) > 19:  # before int(): Python caps digits it converts
        raise _Bad("integer_out_of_range", f"{name} {_show(text)} does not fit a 64-bit integer")
    value = int(text)
    if not _BIGINT_MIN <= value <= _BIGINT_MAX:
        raise _Bad("integer_out_of_range", f"{name} {_show(text)} does not fit a 64-bit integer")
    return str(value)


def _decimal(name: str, raw: str) -> str:
    text = raw.strip()
    # Decimal's own grammar, less what it accepts beyond plain ASCII decimals: other digits
    # than 0-9, underscores, NaN and infinities. Exact: a string never goes through float.
    try:
        if not text.isascii() or "_" in text:
            raise InvalidOperation
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        if not text:
            raise _Bad("blank_value", f"{name} is blank") from None
        if text.isascii() and _DECIMAL.fullmatch(text):  # an exponent beyond Decimal's range
            raise _Bad(
                "decimal_out_of_range", f"{name} {_show(text)} is out of range for numeric"
            ) from None
        raise _Bad("not_decimal", f"{name} {_show(text)} is not a decimal number") from None
    if not value.is_finite():
        raise _Bad("not_finite", f"{name} {_show(text)} is not a finite number")
    # Only an exponent or a very long string can exceed PostgreSQL's numeric range.
    if len(text) > 100 or "e" in text or "E" in text:
        exponent = value.as_tuple().exponent
        if not value:
            if not -_NUMERIC_MAX_SCALE <= exponent <= 0:
                value = Decimal(0)  # zero is zero, whatever its exponent
        elif value.adjusted() > _NUMERIC_MAX_ADJUSTED or -exponent > _NUMERIC_MAX_SCALE:
            raise _Bad("decimal_out_of_range", f"{name} {_show(text)} is out of range for numeric")
    # str() of a Decimal is its exact canonical form (sign, digits, exponent), which numeric
    # reads without loss, keeping the written scale ('1.50' stays 1.50).
    return str(value)


def _quantity(name: str, raw: str) -> str:
    text = _amount(name, raw)
    value = Decimal(text)
    if value != value.to_integral_value():
        raise _Bad("quantity_not_whole", f"{name} {_show(raw.strip())} is not a whole number")
    return text


def _amount(name: str, raw: str) -> str:
    text = _decimal(name, raw)
    if abs(Decimal(text)) > _MAX_MAGNITUDE:
        raise _Bad(
            "implausible_value",
            f"{name} {_show(raw.strip())} is beyond any plausible trade (at most {_MAX_MAGNITUDE})",
        )
    return text


def _timestamp(name: str, raw: str) -> str:
    text = raw.strip()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        if not text:
            raise _Bad("blank_value", f"{name} is blank") from None
        raise _Bad(
            "not_timestamp",
            f"{name} {_show(text)} is not an ISO 8601 timestamp such as 2024-03-01T14:30:00Z",
        ) from None
    if value.year not in _YEARS:
        raise _Bad(
            "implausible_timestamp",
            f"{name} {_show(text)} is outside the years {_YEARS.start}-{_YEARS.stop - 1}",
        )
    offset = value.utcoffset()
    if offset is None:
        raise _Bad(
            "timestamp_without_offset",
            f"{name} {_show(text)} has no time zone offset, so its instant is ambiguous "
            "(write e.g. 2024-03-01T14:30:00Z or 2024-03-01T14:30:00+01:00)",
        )
    if offset.microseconds or abs(offset) >= _MAX_OFFSET:
        raise _Bad(
            "not_timestamp",
            f"{name} {_show(text)} has a time zone offset PostgreSQL cannot take "
            "(whole seconds, less than 16 hours)",
        )
    if (
        text[4:5] == text[7:8] == "-"
        and text[10:11] in _SEPARATORS
        and text[13:14] == ":"
        and "," not in text
    ):
        # The extended form (YYYY-MM-DD HH:MM...), which timestamptz reads as Python did (but
        # for rounding, not truncating, digits beyond microseconds, as it does for replicated
        # rows): COPY it as written.
        return text
    return value.isoformat()  # basic, week or ordinal forms, other separators, ...


def _text(name: str, raw: str) -> str:
    text = raw.strip()
    if not text:
        raise _Bad("blank_value", f"{name} is blank")
    return _copy_escape(text)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_escape(text: str) -> str:
    """`text` as a field of COPY's text format."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_COPY_ESCAPES)
    return text


_TYPERS = {
    "trade_id": _bigint,
    "position_id": _bigint,
    "action": _text,
    "quantity": _quantity,
    "price": _amount,
    "fees": _amount,
    "execution_timestamp": _timestamp,
}


# --- reading the file ---------------------------------------------------------------------------


class _Source:
    """The file's physical lines, for csv.reader, remembering those of the current record.

    The file is read as text with `surrogateescape`, so a line with bytes that are not UTF-8
    is rejected on its own instead of failing the whole file; `\\r\\n`, `\\n` and `\\r` all end
    a line, and csv.reader's line_num counts exactly these lines.
    """

    def __init__(self, handle: io.TextIOBase):
        self.handle = handle
        self.pending: list[str] = []  # physical lines of the record being read
        self.problems: list[_Bad] = []  # line-level problems in those lines

    def __iter__(self) -> Iterator[str]:
        pending, problems = self.pending, self.problems
        for line in self.handle:
            pending.append(line)
            if not line.isascii():  # O(1) in CPython: the fast path for the usual file
                try:
                    line.encode("utf-8")
                except UnicodeEncodeError:
                    problems.append(_Bad("not_utf8", "the line holds bytes that are not UTF-8"))
            if "\x00" in line:
                problems.append(_Bad("nul_byte", "the line holds a NUL byte"))
            yield line

    def take(self) -> str:
        """The raw text of the record just read (without its final line break); forgets it."""
        text = "".join(self.pending)
        self.pending.clear()
        self.problems.clear()
        if text.endswith("\r\n"):
            return text[:-2]
        return text[:-1] if text.endswith(("\n", "\r")) else text

    def forget(self) -> None:
        self.pending.clear()
        if self.problems:
            self.problems.clear()


def _storable(text: str) -> str:
    """Raw text made storable in a text column: bytes that are not UTF-8 as \\xNN, NUL as \\x00."""
    if not text.isascii():
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text.replace("\x00", "\\x00")


def _sniff(path: Path) -> None:
    """Refuse, with a message saying why, a file that cannot be a UTF-8 CSV with a header."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError as error:
        raise ImportFileError(f"the file cannot be read ({error.strerror or error})") from None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(f"the file is UTF-16 (or UTF-32) encoded; expected {EXPECTED}")
    head = head.removeprefix(b"\xef\xbb\xbf")
    if not head.strip() and len(head) < _SNIFF_BYTES - 3:
        raise ImportFileError(f"the file is empty; expected {EXPECTED}")
    first = head.lstrip(b"\r\n\t ")
    end = min((i for i in (first.find(b"\n"), first.find(b"\r")) if i >= 0), default=-1)
    if end < 0 and len(head) == _SNIFF_BYTES:
        raise ImportFileError(
            f"the file's first line is longer than {_SNIFF_BYTES // 1024} KiB, so it is not "
            f"a CSV header (a binary file?); expected {EXPECTED}"
        )
    first = first if end < 0 else first[:end]
    if b"\x00" in first:
        raise ImportFileError(f"the file is binary (it holds NUL bytes); expected {EXPECTED}")
    try:
        first.decode("utf-8")
    except UnicodeDecodeError:
        raise ImportFileError(
            f"the file's first line is not UTF-8 text (a binary file, or another encoding "
            f"such as Latin-1?); expected {EXPECTED}"
        ) from None


def _header(reader, source: _Source) -> dict[str, int]:
    """The header's column positions; raises ImportFileError if it is not the expected one."""
    for row in reader:  # csv.Error propagates: caught by the caller
        if source.problems:
            raise ImportFileError(f"the file's header is not UTF-8 text; expected {EXPECTED}")
        raw = source.take()
        if not raw.strip():
            continue  # blank lines before the header
        names = [name.strip().lower() for name in row]
        missing = [name for name in COLUMNS if name not in names]
        extra = [name for name in names if name not in COLUMNS]
        repeated = sorted({name for name in names if name in COLUMNS and names.count(name) > 1})
        if not (missing or extra or repeated):
            return {name: names.index(name) for name in COLUMNS}
        if len(row) == 1 and any(separator in row[0] for separator in ";\t|"):
            raise ImportFileError(
                f"the file's header {_show(raw)} is not separated by commas; expected {EXPECTED}"
            )
        if not set(names) & set(COLUMNS):
            raise ImportFileError(
                f"the file does not start with the header (its first line is {_show(raw)}); "
                f"expected {EXPECTED}"
            )
        problems = []
        if missing:
            problems.append("missing column(s) " + ", ".join(missing))
        if extra:
            shown = ", ".join(_show(name, 30) for name in extra[:5])
            problems.append(f"unexpected column(s) {shown}" + (", ..." if len(extra) > 5 else ""))
        if repeated:
            problems.append("repeated column(s) " + ", ".join(repeated))
        raise ImportFileError(
            f"the file's header is not the expected one: {'; '.join(problems)}; expected {EXPECTED}"
        )
    raise ImportFileError(f"the file is empty; expected {EXPECTED}")


_CSV_ERRORS = (
    ("unexpected end of data", "a quoted field is not closed before the end of the file"),
    ("expected after", 'a quoted field has text after its closing quote (write a quote as "")'),
    ("field larger than field limit", "a field is longer than csv allows (an unclosed quote?)"),
)


def _csv_problem(error: csv.Error) -> _Bad:
    message = str(error)
    for needle, sentence in _CSV_ERRORS:
        if needle in message:
            return _Bad("malformed_csv", f"the record is not valid CSV: {sentence}")
    return _Bad("malformed_csv", f"the record is not valid CSV ({message})")


# --- the import ---------------------------------------------------------------------------------


_LINE_COLUMNS = ("file_name", "line_number", "trade_id")
_REJECT_COLUMNS = ("file_name", "line_number", "line", "reason")


class _Loader:
    """Buffers COPY text for the three tables and sends it in chunks of CHUNK_ROWS rows."""

    def __init__(self, cursor, file_name: str):
        self.cursor = cursor
        self.file_field = _copy_escape(_storable(file_name))
        self.trades: list[str] = []
        self.lines: list[str] = []
        self.rejects: list[str] = []
        self.loaded = 0
        self.rejected = 0
        self.reasons: Counter[str] = Counter()

    def reject(self, line_number: int, raw: str, problems: list[_Bad]) -> None:
        reason = "; ".join(problem.sentence for problem in problems)
        self.reasons.update({problem.code for problem in problems})
        self.rejects.append(
            f"{self.file_field}\t{line_number}\t{_copy_escape(_storable(raw))}\t"
            f"{_copy_escape(reason)}\n"
        )
        self.rejected += 1
        if len(self.rejects) >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.trades:
            self._copy("raw.trades", COLUMNS, self.trades)
            self._copy("raw.trade_import_lines", _LINE_COLUMNS, self.lines)
            self.loaded += len(self.trades)
            self.trades.clear()
            self.lines.clear()
        if self.rejects:
            self._copy("raw.trade_import_rejects", _REJECT_COLUMNS, self.rejects)
            self.rejects.clear()

    def _copy(self, table: str, columns: tuple[str, ...], rows: list[str]) -> None:
        # COPY's text format; the values are already in it (escaped where text is free).
        sql = f"copy {table} ({', '.join(columns)}) from stdin"
        self.cursor.copy_expert(sql, io.StringIO("".join(rows)), size=1 << 20)


def _type_all(row: list[str], positions: dict[str, int]) -> list[_Bad]:
    """Every problem of a record with the right number of fields (the slow path)."""
    problems = []
    for name in COLUMNS:
        try:
            _TYPERS[name](name, row[positions[name]])
        except _Bad as problem:
            problems.append(problem)
    return problems


def _load(reader, source: _Source, loader: _Loader, positions: dict[str, int]) -> None:
    width = len(COLUMNS)
    i_trade, i_position, i_action, i_quantity, i_price, i_fees, i_timestamp = (
        positions[name] for name in COLUMNS
    )
    trades, lines, file_field = loader.trades, loader.lines, loader.file_field
    problems = source.problems
    line_number = reader.line_num  # the last physical line read so far
    while True:
        try:
            for row in reader:
                start, line_number = line_number + 1, reader.line_num
                if problems:  # bytes that are not UTF-8, or NUL, in the record's lines
                    unique = {problem.code: problem for problem in problems}
                    loader.reject(start, source.take(), list(unique.values()))
                    continue
                if len(row) != width:
                    raw = source.take()
                    if len(row) <= 1 and not raw.strip():
                        continue  # a blank line
                    loader.reject(
                        start,
                        raw,
                        [_Bad("field_count", f"expected {width} fields, found {len(row)}")],
                    )
                    continue
                try:
                    trade_id = _bigint("trade_id", row[i_trade])
                    trades.append(
                        f"{trade_id}\t{_bigint('position_id', row[i_position])}\t"
                        f"{_text('action', row[i_action])}\t"
                        f"{_quantity('quantity', row[i_quantity])}\t"
                        f"{_amount('price', row[i_price])}\t{_amount('fees', row[i_fees])}\t"
                        f"{_timestamp('execution_timestamp', row[i_timestamp])}\n"
                    )
                except _Bad:
                    loader.reject(start, source.take(), _type_all(row, positions))
                    continue
                source.forget()
                lines.append(f"{file_field}\t{start}\t{trade_id}\n")
                if len(trades) >= CHUNK_ROWS:
                    loader.flush()
            return
        except csv.Error as error:
            start, line_number = line_number + 1, reader.line_num
            loader.reject(start, source.take(), [_csv_problem(error)])


def import_trades(path: Path, target: database.Warehouse | None = None) -> ImportReport:
    """Import a CSV file of trades in one transaction; see the module docstring.

    Raises ImportFileError, having loaded nothing, if the file is not the expected CSV.
    """
    started = time.perf_counter()
    path = Path(path)
    _sniff(path)
    with path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        source = _Source(handle)
        reader = csv.reader(source, strict=True)
        try:
            positions = _header(reader, source)
        except csv.Error as error:
            raise ImportFileError(
                f"the file's header is not valid CSV ({error}); expected {EXPECTED}"
            ) from None
        with database.transaction(target or database.warehouse()) as cursor:
            loader = _Loader(cursor, path.name)
            _load(reader, source, loader, positions)
            loader.flush()
    return ImportReport(
        file_name=path.name,
        rows_loaded=loader.loaded,
        rows_rejected=loader.rejected,
        reasons=loader.reasons,
        elapsed_seconds=time.perf_counter() - started,
    )
