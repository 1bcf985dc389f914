"""Errors of the BLE part of the edge, mapped into the project's tree."""

from messages import DeviceError, TransportError


class BleDecodeError(DeviceError):
    """A characteristic value is truncated or inconsistent with its own flags."""

    def __init__(self, characteristic: str, offset: int, reason: str) -> None:
        super().__init__(f"{characteristic}: {reason} at byte offset {offset}")
        self.characteristic = characteristic
        self.offset = offset
        self.reason = reason


class BleLinkError(TransportError):
    """Scanning, connecting or talking to a BLE device failed; a retry may cure it."""
