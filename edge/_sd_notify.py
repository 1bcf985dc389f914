"""systemd's notify protocol (sd_notify) over the stdlib: READY, WATCHDOG and STOPPING datagrams.

systemd passes ``$NOTIFY_SOCKET`` (a path, or ``@name`` in the abstract namespace) and, when the
unit sets ``WatchdogSec=``, ``$WATCHDOG_USEC`` (and ``$WATCHDOG_PID``, the process it is meant
for). Outside systemd there is no socket and :meth:`SdNotifier.from_environment` returns None.
"""

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class SdNotifier:
    """Sends state lines to systemd's notify socket; a failed send is logged once, never raised."""

    def __init__(self, address: str, watchdog_usec: int | None = None) -> None:
        # An address starting with "@" names a socket in Linux's abstract namespace.
        self.address = "\0" + address[1:] if address.startswith("@") else address
        #: The interval systemd expects pings within, or None when it watches nothing.
        self.watchdog_usec = watchdog_usec
        self._failed = False

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> "SdNotifier | None":
        """The notifier systemd asked for, or None when not started by systemd with Type=notify."""
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        if not address:
            return None
        return cls(address, _watchdog_usec(env))

    @property
    def watchdog_interval_s(self) -> float | None:
        """How often to ping: half the watchdog timeout, as sd_watchdog_enabled(3) advises."""
        if self.watchdog_usec is None:
            return None
        return self.watchdog_usec / 2 / 1_000_000

    def notify(self, state: str) -> bool:
        """Send one state line (``READY=1``, ``WATCHDOG=1``, ``STOPPING=1``…); True if sent."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.settimeout(0)  # never wait on a full socket queue
                sock.sendto(state.encode(), self.address)
        except OSError as exc:
            if not self._failed:
                log.warning("systemd notify failed", extra={"state": state, "error": str(exc)})
                self._failed = True
            return False
        return True


def _watchdog_usec(env: Mapping[str, str]) -> int | None:
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    pid = env.get("WATCHDOG_PID", "")
    # The watchdog belongs to another process (a wrapper that exec'd us keeps it otherwise).
    if pid and pid != str(os.getpid()):
        return None
    return usec if usec > 0 else None
