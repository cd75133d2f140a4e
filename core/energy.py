"""Energy per render, measured with codecarbon's offline tracker (no network; CPU, RAM and NVIDIA GPUs).

Each job is measured from the start of its render to its encoded result. When renders overlap, each tracker sees the
whole process's power, so the figures are an upper bound; they are exact for one render at a time.
"""

from __future__ import annotations

import logging
from typing import Any

from minime.core.logs import get_logger

log = get_logger("minime.energy")


class EnergyMeter:
    """Starts one codecarbon tracker per measurement; ``warm_up`` does the slow hardware probe once."""

    def __init__(self, country_iso_code: str = "DEU", enabled: bool = True) -> None:
        self.country, self.enabled = country_iso_code, enabled

    def _tracker(self) -> Any:
        from codecarbon import OfflineEmissionsTracker

        logging.getLogger("codecarbon").setLevel(logging.ERROR)
        return OfflineEmissionsTracker(country_iso_code=self.country, save_to_file=False, log_level="error",
                                       tracking_mode="process", measure_power_secs=1, allow_multiple_runs=True)

    def warm_up(self) -> None:
        """Probe the hardware once (about a second) so the first user's render does not pay for it."""
        if self.enabled:
            self.start().stop()

    def start(self) -> Measurement:
        """Begin measuring (a measurement that reads 0.0 when tracking is off or unavailable)."""
        if not self.enabled:
            return Measurement(None)
        try:
            tracker = self._tracker()
            tracker.start()
            return Measurement(tracker)
        except Exception as exc:  # energy is a nicety: never fail a render for it
            log.warning("energy tracking unavailable", error_type=type(exc).__name__)
            return Measurement(None)


class Measurement:
    """One running measurement; ``stop`` may be called more than once and returns the same watt-hours."""

    def __init__(self, tracker: Any) -> None:
        self._tracker, self._wh = tracker, None

    def stop(self) -> float:
        """Stop measuring; the energy in watt-hours (0.0 when not measured)."""
        if self._wh is None:
            self._wh = 0.0
            if self._tracker is not None:
                try:
                    self._tracker.stop()
                    self._wh = float(self._tracker.final_emissions_data.energy_consumed) * 1000.0
                except Exception as exc:
                    log.warning("energy tracking failed", error_type=type(exc).__name__)
        return self._wh
