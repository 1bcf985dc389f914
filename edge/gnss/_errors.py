"""The error every malformed NMEA sentence becomes."""

from messages import DeviceError


class NmeaError(DeviceError):
    """A sentence that cannot be used; names the sentence type and the field at fault."""

    def __init__(self, sentence: str, field: str, problem: str) -> None:
        super().__init__(f"{sentence}: {field}: {problem}")
        self.sentence = sentence
        self.field = field
        self.problem = problem
