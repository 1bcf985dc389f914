"""The project's exception tree; callers never catch a library's exceptions."""


class HinodeError(Exception):
    """Base of every error Hinode raises on purpose."""


class ConfigError(HinodeError):
    """A configuration file or command-line value is invalid; the message names where."""


class ContractError(HinodeError):
    """A topic or payload does not follow the wire contract."""


class TransportError(HinodeError):
    """A network or bus operation failed in a way that a retry may cure."""


class DeviceError(HinodeError):
    """A device answered, but not with what was asked (exception response, bad frame)."""
