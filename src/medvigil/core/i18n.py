"""Messages that are stored and later read by someone else, in *their* language (PLAT-6).

An import's errors and a notification are written once and read later, by the uploader, a
colleague or an API client, each in their own language. So they are stored as the message
id plus its parameters, and translated when shown:

    from medvigil.core.i18n import gettext_msg as _
    row.error("serial", _("No unit with serial number %(serial)s.") % {"serial": s})

``gettext_msg`` returns a ``Msg``: a ``str`` (the text in the current language, so code that
compares or joins it keeps working) that also remembers its id and parameters. Lazy
translations (``gettext_lazy``, ``format_lazy``) are understood too. ``to_data`` turns any
of these into JSON; ``render`` turns that JSON into text in the active language. Plain
strings (rows stored before, or text that is not a message) are shown as they are.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.functional import Promise, lazy

_NO_PARAMS: Any = object()


class Msg(str):
    """A translated message that keeps its id and parameters (see the module docstring)."""

    msgid: str
    params: Any

    def __new__(cls, msgid: str, params: Any = _NO_PARAMS) -> Msg:
        text = translation.gettext(msgid)
        if params is not _NO_PARAMS:
            text = text % _live(params)
        obj = super().__new__(cls, text)
        obj.msgid = msgid
        obj.params = params
        return obj

    def __mod__(self, params: Any) -> Any:  # type: ignore[override]
        if self.params is not _NO_PARAMS:
            return str.__mod__(self, params)
        return Msg(self.msgid, params)

    def __reduce__(self) -> Any:
        return (Msg, (self.msgid, self.params))


def gettext_msg(message: str) -> Msg:
    """Drop-in for ``gettext`` (import it as ``_`` so makemessages finds the ids)."""
    return Msg(message)


def _live(params: Any) -> Any:
    """Parameters for %-formatting now: nested messages as text in the active language."""
    if isinstance(params, dict):
        return {k: _now(v) for k, v in params.items()}
    if isinstance(params, tuple | list):
        return tuple(_now(v) for v in params)
    return _now(params)


def _now(value: Any) -> Any:
    if isinstance(value, Msg):
        return str(Msg(value.msgid, value.params))
    if isinstance(value, Promise):
        return str(value)
    return value


def _lazy_parts(value: Promise) -> tuple[Any, tuple, dict] | None:
    """(function, args, kwargs) of a lazy proxy made by django.utils.functional.lazy."""
    try:
        func, args, kw = value.__reduce__()[1][:3]
    except (AttributeError, TypeError, ValueError, IndexError):
        return None
    if not callable(func) or not isinstance(args, tuple) or not isinstance(kw, dict):
        return None
    return func, args, kw


def to_data(value: Any) -> Any:
    """JSON for a message: {"id", "p"/"a"} for a message id with parameters, {"fmt", "a",
    "k"} for format_lazy, {"langs"} for any other lazy text, the value itself otherwise."""
    if isinstance(value, Msg):
        data: dict[str, Any] = {"id": value.msgid}
        params = value.params
        if params is _NO_PARAMS:
            return data
        if isinstance(params, dict):
            data["p"] = {str(k): to_data(v) for k, v in params.items()}
        elif isinstance(params, tuple | list):
            data["a"] = [to_data(v) for v in params]
        else:
            data["a"] = [to_data(params)]
        return data
    if isinstance(value, Promise):
        parts = _lazy_parts(value)
        if parts is not None:
            func, args, kw = parts
            if func is translation.gettext and len(args) == 1 and not kw:
                return {"id": args[0]}
            if getattr(func, "__name__", "") == "_format_lazy" and args:
                return {
                    "fmt": to_data(args[0]),
                    "a": [to_data(a) for a in args[1:]],
                    "k": {str(k): to_data(v) for k, v in kw.items()},
                }
        langs = {}
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                langs[code] = str(value)
        return {"langs": langs}
    if value is None or isinstance(value, str | int | float | bool):
        return value if not isinstance(value, str) else str(value)
    return str(value)


def _value(data: Any) -> Any:
    if isinstance(data, dict):
        return render(data)
    return data


def render(data: Any) -> str:
    """The text of a stored message (see ``to_data``) in the active language."""
    if data is None:
        return ""
    if isinstance(data, str):
        return data
    if not isinstance(data, dict):
        return str(data)
    if "id" in data:
        text = translation.gettext(str(data["id"]))
        try:
            if "p" in data:
                return text % {k: _value(v) for k, v in data["p"].items()}
            if "a" in data:
                return text % tuple(_value(v) for v in data["a"])
        except (KeyError, TypeError, ValueError):
            return text
        return text
    if "fmt" in data:
        try:
            return render(data["fmt"]).format(
                *[_value(a) for a in data.get("a", [])],
                **{k: _value(v) for k, v in data.get("k", {}).items()},
            )
        except (KeyError, IndexError, ValueError):
            return render(data["fmt"])
    if "langs" in data:
        langs = data["langs"] or {}
        current = translation.get_language() or settings.LANGUAGE_CODE
        for code in (current, current.split("-")[0], settings.LANGUAGE_CODE, "en"):
            if code in langs:
                return str(langs[code])
        return str(next(iter(langs.values()), ""))
    return str(data)


def validation_messages(exc: ValidationError) -> list[tuple[str | None, Any]]:
    """(field or None, message) of a ValidationError, each message a ``Msg`` or lazy text
    when Django gave one (so it can be stored with ``to_data``), else plain text."""
    out: list[tuple[str | None, Any]] = []
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            for e in errors:
                out.extend((field if field != "__all__" else None, m) for m in _messages(e))
    else:
        out.extend((None, m) for m in _messages(exc))
    return out


def _messages(exc: ValidationError) -> list[Any]:
    result = []
    for e in exc.error_list:
        message, params = e.message, e.params
        if isinstance(message, Msg) and message.params is _NO_PARAMS and params:
            message = message % params
        elif isinstance(message, Promise):
            parts = _lazy_parts(message)
            if parts and parts[0] is translation.gettext and len(parts[1]) == 1:
                message = Msg(parts[1][0], params) if params else Msg(parts[1][0])
            elif params:
                # e.g. ngettext_lazy: kept lazy, so to_data stores it in every language
                message = lazy(_percent, str)(message, params)
        elif params and not isinstance(message, Msg):
            message = str(message) % params
        result.append(message)
    return result


def _percent(message: Any, params: Any) -> str:
    return str(message % params)  # a lazy plural picks its form from the parameters
