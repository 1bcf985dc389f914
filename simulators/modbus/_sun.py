"""Where the sun is over the city and how much a PV array makes of it, with seeded weather."""

import math

from simulators.modbus._calendar import jst_day_index
from simulators.modbus._noise import smooth, unit_hash

# The city (Hokuriku coast): 36.6° N, 136.6° E.
CITY_LATITUDE_DEG = 36.6
CITY_LONGITUDE_DEG = 136.6

_SECONDS_PER_DAY = 86_400.0
_CITY_WEATHER_SEED = 0x36_6136
PERFORMANCE_RATIO = 0.8
_J2000_EPOCH_S = 946_728_000.0  # 2000-01-01T12:00:00Z


def solar_elevation_deg(
    t: float, latitude_deg: float = CITY_LATITUDE_DEG, longitude_deg: float = CITY_LONGITUDE_DEG
) -> float:
    """Elevation of the sun above the horizon at epoch second *t* (low-precision almanac).

    The NOAA/Astronomical Almanac approximation: good to a fraction of a degree, ample for a
    simulated PV array.
    """
    days = (t - _J2000_EPOCH_S) / _SECONDS_PER_DAY
    mean_longitude = math.radians((280.460 + 0.9856474 * days) % 360.0)
    mean_anomaly = math.radians((357.528 + 0.9856003 * days) % 360.0)
    ecliptic_longitude = (
        mean_longitude
        + math.radians(1.915) * math.sin(mean_anomaly)
        + math.radians(0.020) * math.sin(2 * mean_anomaly)
    )
    obliquity = math.radians(23.439 - 0.0000004 * days)
    declination = math.asin(math.sin(obliquity) * math.sin(ecliptic_longitude))
    right_ascension = math.atan2(
        math.cos(obliquity) * math.sin(ecliptic_longitude), math.cos(ecliptic_longitude)
    )
    sidereal_deg = (280.46061837 + 360.98564736629 * days + longitude_deg) % 360.0
    hour_angle = math.radians(sidereal_deg) - right_ascension
    latitude = math.radians(latitude_deg)
    sine = math.sin(latitude) * math.sin(declination) + math.cos(latitude) * math.cos(
        declination
    ) * math.cos(hour_angle)
    return math.degrees(math.asin(max(-1.0, min(1.0, sine))))


def clear_sky_irradiance_w_m2(elevation_deg: float) -> float:
    """Global horizontal irradiance under a clear sky (Haurwitz model)."""
    if elevation_deg <= 0.0:
        return 0.0
    cos_zenith = math.sin(math.radians(elevation_deg))
    return 1098.0 * cos_zenith * math.exp(-0.057 / cos_zenith)


def cloud_factor(seed: int, t: float) -> float:
    """Share of clear-sky light that gets through, in [0.1, 1].

    Each day has its own cloudiness, the same over the whole city (the Sea of Japan coast is
    often overcast), and passing clouds over each array, from its own seed, vary it within
    minutes.
    """
    day = jst_day_index(t)  # weather changes overnight, not at 09:00 JST (UTC midnight)
    overcast = math.pow(unit_hash(_CITY_WEATHER_SEED, 0x5EA, day), 1.5)  # more bright days
    passing = smooth(seed, t, 600.0, stream=0xC10D)
    return max(0.1, min(1.0, 1.0 - 0.75 * overcast * (0.6 + 0.8 * passing)))


def pv_ac_power_w(t: float, rated_w: float, seed: int) -> float:
    """AC output of a fixed south-facing array rated *rated_w*, clipped at the inverter rating."""
    irradiance = clear_sky_irradiance_w_m2(solar_elevation_deg(t)) * cloud_factor(seed, t)
    # Performance ratio 0.8 of the STC (1000 W/m²) rating on horizontal irradiance: a clear May
    # day gives ~6.4 kWh per kWp, the cloudy Hokuriku average nearer 4.5.
    return min(rated_w, rated_w * PERFORMANCE_RATIO * irradiance / 1000.0)
