"""An event's class found by its type name in a table.

Stock Rasa 3.6's `Event.resolve_by_type`, called for every event read from the tracker store, lists every
subclass of `Event` again each time (recursively, with `inspect.isabstract` on each): about 4% of the Rasa
server's CPU per message in a profile. The classes found are remembered by type name; a name not found yet is
looked up the stock way, so an event class defined later is still found.
"""

from __future__ import annotations

from rasa.shared.core.events import Event

_MARK = "_ijm_event_class_table"
_original = Event.resolve_by_type
_classes: dict[str, type[Event]] = {}


def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    """`Event.resolve_by_type`, from the table when the name has been seen."""
    found = _classes.get(type_name)
    if found is not None:
        return found
    resolved = _original(type_name, default)
    if resolved is not None and resolved is not default:
        _classes[type_name] = resolved
    return resolved


setattr(resolve_by_type, _MARK, True)


def install() -> None:
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[assignment]


def installed() -> bool:
    return bool(getattr(Event.resolve_by_type, _MARK, False))
