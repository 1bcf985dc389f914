"""Reads a GNSS receiver through a port: lines → sentences → one reading per epoch."""

import logging
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from edge.gnss._assembler import FixAssembler, GnssReading
from edge.gnss._errors import NmeaError
from edge.gnss._nmea import parse_sentence
from edge.gnss._port import NmeaLinePort

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class ReceiverStats:
    """What the receiver saw: usable sentences, rejected ones by sentence and field, silences."""

    sentences: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    ignored: int = 0
    silent_reads: int = 0


class GnssReceiver:
    """Yields one :data:`GnssReading` per epoch; bad lines are counted and logged once per kind."""

    def __init__(self, port: NmeaLinePort, assembler: FixAssembler | None = None) -> None:
        self.port = port
        self.assembler = assembler or FixAssembler()
        self.stats = ReceiverStats()

    async def readings(self) -> AsyncIterator[GnssReading]:
        while True:
            for reading in await self.poll():
                yield reading

    async def poll(self) -> list[GnssReading]:
        """Read one line (or time out): the readings it completes, possibly none."""
        line = await self.port.read_line()
        if line is None:
            self.stats.silent_reads += 1
            return self.assembler.flush()
        return self.accept(line.decode("latin-1"))

    def accept(self, line: str) -> list[GnssReading]:
        if not line.strip():
            return []
        try:
            sentence = parse_sentence(line)
        except NmeaError as exc:
            if exc.field == "address" and "not supported" in exc.problem:
                self.stats.ignored += 1  # GSV, GLL, TXT…: valid, just not needed
                return []
            key = f"{exc.sentence}.{exc.field}"
            if key not in self.stats.rejected:
                logger.warning("gnss: rejected sentence: %s", exc)
            self.stats.rejected[key] += 1
            return []
        self.stats.sentences += 1
        return self.assembler.push(sentence)
