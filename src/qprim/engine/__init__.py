"""The engine: claim -> submit -> wait -> fetch for many JobSpecs at once (Prefect-free)."""

from qprim.engine.collect import Collected
from qprim.engine.context import Context, FaultPoint, no_fault
from qprim.engine.core import Engine, Outcome, Steps
from qprim.engine.events import Event, EventSink
from qprim.engine.submit import Submitted

__all__ = [
    "Collected",
    "Context",
    "Engine",
    "Event",
    "EventSink",
    "FaultPoint",
    "Outcome",
    "Steps",
    "Submitted",
    "no_fault",
]
