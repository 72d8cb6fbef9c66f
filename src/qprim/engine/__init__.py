"""The engine: claim -> submit -> wait -> fetch for many JobSpecs at once (Prefect-free)."""

from qprim.engine.collect import Collected
from qprim.engine.core import Engine, FaultPoint, Outcome, Steps, no_fault
from qprim.engine.events import Event, EventSink
from qprim.engine.submit import Submitted

__all__ = [
    "Collected",
    "Engine",
    "Event",
    "EventSink",
    "FaultPoint",
    "Outcome",
    "Steps",
    "Submitted",
    "no_fault",
]
