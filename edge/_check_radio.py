"""``hinode edge check`` for BLE and GNSS: is the device advertising, does the receiver fix?"""

import asyncio
import time

from edge.ble import BleTransport
from edge.config import BleDevice, GnssDevice
from edge.gnss import FixAssembler, NmeaError, NoFix, SerialNmeaPort, parse_sentence
from messages import Fix, HinodeError


async def check_ble(
    devices: list[BleDevice], transport: BleTransport, timeout_s: float
) -> dict[str, tuple[bool, str]]:
    """One scan for every BLE device of the gateway: which of them are advertising."""
    try:
        seen = {
            advertisement.address.upper(): advertisement
            for advertisement in await transport.scan(timeout_s=timeout_s)
        }
    except HinodeError as exc:
        return {device.id: (False, f"cannot scan: {exc}") for device in devices}
    results: dict[str, tuple[bool, str]] = {}
    for device in devices:
        advertisement = seen.get(device.address.upper())
        if advertisement is None:
            results[device.id] = (False, f"not seen advertising within {timeout_s:g} s")
        else:
            results[device.id] = (True, f"advertising, RSSI {advertisement.rssi} dBm")
    return results


async def check_gnss(device: GnssDevice, timeout_s: float) -> tuple[bool, str]:
    """Read the receiver until its first valid fix, or say what it sent instead."""
    deadline = time.monotonic() + timeout_s
    assembler = FixAssembler()
    sentences = 0
    last_problem = "no NMEA sentence received"
    try:
        async with SerialNmeaPort(device.serial, baudrate=device.baud) as port:
            while (left := deadline - time.monotonic()) > 0:
                try:
                    async with asyncio.timeout(left):
                        line = await port.read_line()
                except TimeoutError:
                    break
                if line is None:
                    continue
                try:
                    sentence = parse_sentence(line.decode("ascii", "replace"))
                except NmeaError as exc:
                    last_problem = str(exc)
                    continue
                sentences += 1
                for reading in assembler.push(sentence):
                    if isinstance(reading, Fix):
                        return True, (
                            f"fix {reading.lat:.5f}, {reading.lon:.5f} ({reading.fix_quality})"
                        )
                    if isinstance(reading, NoFix):
                        last_problem = f"no fix: {reading.reason}"
    except HinodeError as exc:
        return False, str(exc)
    return False, f"{last_problem} ({sentences} sentences in {timeout_s:g} s)"
