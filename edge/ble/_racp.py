"""Record Access Control Point (0x2A52) requests and responses, Glucose Service §3.9.

Requests are written to the control point; the records follow as notifications of the
measurement characteristics, and an indication of the control point closes the procedure.
"""

import struct
from dataclasses import dataclass

from edge.ble._errors import BleDecodeError

NAME = "record_access_control_point"
UUID = "00002a52-0000-1000-8000-00805f9b34fb"

# Op codes
REPORT_STORED_RECORDS = 0x01
DELETE_STORED_RECORDS = 0x02
ABORT_OPERATION = 0x03
REPORT_NUMBER_OF_RECORDS = 0x04
NUMBER_OF_RECORDS_RESPONSE = 0x05
RESPONSE_CODE = 0x06

# Operators
NULL = 0x00
ALL_RECORDS = 0x01
GREATER_THAN_OR_EQUAL = 0x03

# Filter types
SEQUENCE_NUMBER_FILTER = 0x01

RESPONSE_CODES = {
    0x01: "success",
    0x02: "op_code_not_supported",
    0x03: "invalid_operator",
    0x04: "operator_not_supported",
    0x05: "invalid_operand",
    0x06: "no_records_found",
    0x07: "abort_unsuccessful",
    0x08: "procedure_not_completed",
    0x09: "operand_not_supported",
}


def report_records_from(sequence_number: int) -> bytes:
    """Ask for every stored record whose sequence number is ≥ *sequence_number*."""
    return struct.pack(
        "<BBBH",
        REPORT_STORED_RECORDS,
        GREATER_THAN_OR_EQUAL,
        SEQUENCE_NUMBER_FILTER,
        sequence_number,
    )


def report_all_records() -> bytes:
    return bytes((REPORT_STORED_RECORDS, ALL_RECORDS))


@dataclass(frozen=True, slots=True)
class RacpResponse:
    """The control point's answer: to which request, and how it ended (or how many records)."""

    request_op_code: int | None
    code: str
    number_of_records: int | None = None

    @property
    def finished_normally(self) -> bool:
        return self.code in {"success", "no_records_found"}


def parse_response(data: bytes) -> RacpResponse:
    """Decode a control-point indication; raise BleDecodeError if it is not a response."""
    if len(data) < 2:
        raise BleDecodeError(NAME, len(data), "truncated: a response needs op code and operator")
    op_code = data[0]
    if op_code == NUMBER_OF_RECORDS_RESPONSE:
        if len(data) < 4:
            raise BleDecodeError(NAME, 2, "truncated: number of records needs 2 bytes")
        (count,) = struct.unpack_from("<H", data, 2)
        return RacpResponse(None, "number_of_records", count)
    if op_code == RESPONSE_CODE:
        if len(data) < 4:
            raise BleDecodeError(NAME, 2, "truncated: response code needs 2 bytes")
        request, code = data[2], data[3]
        return RacpResponse(request, RESPONSE_CODES.get(code, f"reserved_{code}"))
    raise BleDecodeError(NAME, 0, f"inconsistent: op code {op_code:#04x} is not a response")
