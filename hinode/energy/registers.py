"""Where settlement finds the grid meters' energy registers: a JSON file or the store."""

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel

from cloud import ReadingQuery, open_timeseries
from cloud.energy import RegisterSample
from messages import ConfigError


class SiteRegisterSamples(BaseModel):
    """One site's grid-meter registers as [[ts_ms, Wh], …]."""

    model_config = {"frozen": True, "extra": "forbid"}
    energy_import_wh: list[tuple[int, float]] = []
    energy_export_wh: list[tuple[int, float]] = []


class RegisterFile(BaseModel):
    """``settle --input``: grid-meter registers per site."""

    model_config = {"frozen": True, "extra": "forbid"}
    sites: dict[str, SiteRegisterSamples]


class FileRegisters:
    """Register samples from a JSON file."""

    def __init__(self, registers: RegisterFile) -> None:
        self._registers = registers

    def sites(self) -> Sequence[str]:
        return sorted(self._registers.sites)

    def register_samples(
        self, site: str, quantity: str, since_ms: int, until_ms: int
    ) -> Sequence[RegisterSample]:
        registers = self._registers.sites.get(site)
        if registers is None:
            return []
        samples = (
            registers.energy_import_wh
            if quantity == "energy_import_wh"
            else registers.energy_export_wh
        )
        return [(ts, value) for ts, value in samples if since_ms <= ts < until_ms]


class StoredRegisters:
    """Energy registers in the collector's time-series store, loaded once for a time window.

    A site's grid meter is the one device of the site that reports ``energy_import_wh``, unless
    ``meters`` names it (needed when chargers or inverters report that register too).
    """

    def __init__(
        self, data_dir: Path, since_ms: int, until_ms: int, meters: dict[str, str]
    ) -> None:
        store = open_timeseries(data_dir)
        self._samples: dict[tuple[str, str, str], list[RegisterSample]] = defaultdict(list)
        try:
            for quantity in ("energy_import_wh", "energy_export_wh"):
                query = ReadingQuery(since=since_ms, until=until_ms, quantity=quantity)
                for reading in store.query(query):
                    if reading.phase is not None:
                        continue  # a register per phase; the device total is what counts
                    key = (reading.site, reading.device, quantity)
                    self._samples[key].append((reading.ts, reading.value))
        finally:
            store.close()
        candidates: dict[str, set[str]] = defaultdict(set)
        for site, device, quantity in self._samples:
            if quantity == "energy_import_wh":
                candidates[site].add(device)
        self._meter: dict[str, str] = {}
        for site, devices in sorted(candidates.items()):
            if site in meters:
                self._meter[site] = meters[site]
            elif len(devices) == 1:
                self._meter[site] = next(iter(devices))
            else:
                msg = (
                    f"--meter: site {site} has several energy registers "
                    f"({', '.join(sorted(devices))}); name its grid meter: --meter {site}=DEVICE"
                )
                raise ConfigError(msg)

    def sites(self) -> Sequence[str]:
        return sorted(self._meter)

    def device_samples(self, site: str, device: str, quantity: str) -> list[RegisterSample]:
        return self._samples.get((site, device, quantity), [])

    def register_samples(
        self, site: str, quantity: str, since_ms: int, until_ms: int
    ) -> Sequence[RegisterSample]:
        samples = self.device_samples(site, self._meter.get(site, ""), quantity)
        return [sample for sample in samples if since_ms <= sample[0] < until_ms]
