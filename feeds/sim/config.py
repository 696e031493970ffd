"""The `sim` section of the config tree: how the demo's fakes behave."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DemoConfig(BaseModel):
    """The demo's simulator, its past cases and its synthetic cameras."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    simulate: bool = Field(default=True, description="run the simulator in the demo")
    position_interval_s: float = Field(default=10, ge=1, le=600,
                                       description="seconds between simulated position fixes")
    incidents_per_hour: float = Field(default=100, ge=0, le=100_000,
                                      description="simulated cases per hour, on average over "
                                      "the day (also the history's rate unless "
                                      "history_per_hour is set)")
    connections: int = Field(default=8, ge=1, le=256,
                             description="terminal sockets the simulator sends over")
    history_per_hour: float | None = Field(
        default=None, ge=0, le=100_000,
        description="the past cases' rate per hour; unset: incidents_per_hour (a load test "
                    "sends live cases faster than the city's past had them)")
    history_days: int = Field(default=30, ge=0, le=90,
                              description="days of past cases the demo makes on first run")
    camsim_port: int = Field(default=8768, ge=0, le=65535,
                             description="demo synthetic cameras port")
    motion_cameras: int = Field(
        default=0, ge=0, le=10_000,
        description="demo cameras read continuously for motion flagging, spread over the city "
                    "(each costs about 0.35 % of a core between the capture worker and the "
                    "camera server); 0: every camera renders only while watched or recorded")

    @property
    def history_rate(self) -> float:
        """Past cases per hour: history_per_hour, else the live rate."""
        return self.incidents_per_hour if self.history_per_hour is None else self.history_per_hour
