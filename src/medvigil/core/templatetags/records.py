"""Shared record components (PLAT-2, PLAT-3):

- ``{% history_panel obj %}`` — the record's audit history, newest first, 20 at a time
  ("show older" loads the next page with htmx, or as a plain link without JavaScript).
  ``{% history_panel content_type object_id %}`` shows the trail of a destroyed record.
- ``{% signatures_panel obj %}`` — its signatures with a "matches record" / "NO LONGER
  MATCHES" badge.
- ``{% signature_dialog form_action meaning %}`` — the password (+ comment) dialog every
  approval and closure posts from. Options: ``dialog_id``, ``title``, ``button`` (label of
  a button that opens it; omit to place your own ``data-bs-toggle="modal"`` trigger),
  ``button_class``, ``form`` (a bound :class:`~medvigil.core.signatures.services.SignatureForm` with
  errors: the dialog then opens by itself), ``comment_required``, ``comment_label``,
  ``submit_label``, ``version`` (posted back for the optimistic version check), ``text``
  (a sentence saying what is being signed).
- ``{% destruction_button obj %}`` — "Request destruction" link for users who may ask.
- ``{% record_panels obj %}`` — all of the above that apply, in one place, so no record page
  misses one: the unit timeline (when the record declares ``record_timeline``), the
  destruction button, signatures, attachments and history. ``history=`` takes a prepared
  history context (a record whose trail needs its own rendering, e.g. a drill's result).
- ``{% sort_header "key" label %}`` — a sortable column head of a list page
  (core.records.lists).

These tags are used inside record pages that have already checked the user's access to the
record; they do not check it again (the htmx history view does).
"""

from __future__ import annotations

import contextlib
from typing import Any

from django import template
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..audit.related import hidden_record, hidden_references, reader_scope
from ..audit.search import EVENT_LABELS, hidden_fields, hide, ordered_changes, source_label
from ..records.hooks import hook

register = template.Library()

HISTORY_PER_PAGE = 20


# --- history ------------------------------------------------------------------------------


def _fields_by_name(model: type[models.Model] | None) -> dict[str, Any]:
    if model is None:
        return {}
    out: dict[str, Any] = {}
    for f in model._meta.get_fields():
        if getattr(f, "auto_created", False) and not getattr(f, "concrete", False):
            continue  # reverse relations
        out[f.name] = f
        attname = getattr(f, "attname", None)
        if attname:
            out[attname] = f
    return out


# Values of signature and event entries that are codes, shown by their label.
OUTCOME_LABELS = {
    "wrong password": gettext_lazy("wrong password"),
    "locked out": gettext_lazy("locked out"),
    "not allowed": gettext_lazy("not allowed"),
}


def _event_value(name: str, value: Any, users: dict[str, str]) -> Any:
    """A signature or event value as a reader wants it: labels for codes, names for users."""
    if not isinstance(value, str) or not value:
        return value
    if name == "meaning":
        from ..models import Signature

        return str(Signature.Meaning(value).label) if value in Signature.Meaning.values else value
    if name == "outcome" and value in OUTCOME_LABELS:
        return str(OUTCOME_LABELS[value])
    if name == "signer":
        return users.get(value, value)
    return value


def _users_named(entries: list[Any]) -> dict[str, str]:
    """Usernames recorded in signature/event entries -> printed names (one query)."""
    from django.contrib.auth import get_user_model

    names = {
        v
        for e in entries
        if e.action in ("event", "sign")
        for key, pair in (e.changes or {}).items()
        if key == "signer" and isinstance(pair, list)
        for v in pair
        if isinstance(v, str) and v
    }
    if not names:
        return {}
    User = get_user_model()
    return {
        u.get_username(): getattr(u, "printed_name", "") or u.get_username()
        for u in User._base_manager.filter(username__in=names)
    }


def choice_labels(choices: Any) -> dict[str, str]:
    """code (as text) -> label of a TextChoices class, (code, label) pairs (grouped choices
    flattened) or a function returning them (choices kept elsewhere, read when shown)."""
    if hasattr(choices, "choices"):
        pairs = choices.choices
    else:
        pairs = choices() if callable(choices) else choices
    out: dict[str, str] = {}
    for code, label in pairs or ():
        if isinstance(label, list | tuple):
            out.update(choice_labels(label))
        else:
            out[str(code)] = str(label)
    return out


def _format(
    value: Any,
    field: Any,
    related: dict[tuple[Any, str], str],
    item_labels: dict[str, str] | None = None,
    readable: Any = None,
) -> str:
    if value is None or value == "":
        return "—"
    if readable is not None:
        # the model's own reading of the value (RecordHooks.history_values)
        with contextlib.suppress(Exception):  # a value of an older shape: shown as stored
            return str(readable(value)) or "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if item_labels is not None and isinstance(value, list):
        # a list field of codes (RecordHooks.choice_lists): each item by its label
        return ", ".join(item_labels.get(str(v), str(v)) for v in value) or "—"
    if field is not None:
        if getattr(field, "many_to_many", False) and isinstance(value, list):
            model = field.related_model
            return ", ".join(related.get((model, str(v)), f"#{v}") for v in value) or "—"
        if getattr(field, "is_relation", False) and getattr(field, "related_model", None):
            return related.get((field.related_model, str(value)), f"#{value}")
        if isinstance(field, models.DateTimeField) and isinstance(value, str):
            from django.utils import timezone
            from django.utils.dateparse import parse_datetime

            parsed = parse_datetime(value)
            if parsed is not None:
                if timezone.is_aware(parsed):
                    parsed = timezone.localtime(parsed)
                return parsed.strftime("%Y-%m-%d %H:%M:%S")
        choices = getattr(field, "flatchoices", None)
        if choices:
            labels = {str(k): str(v) for k, v in choices}
            if str(value) in labels:
                return labels[str(value)]
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    if isinstance(value, dict):
        import json

        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _loaded_relations(obj: Any) -> dict[tuple[Any, str], Any]:
    """The related records `obj` already holds (select_related on the record page), by
    (model, pk as text): the history shows their names without reading them again."""
    out: dict[tuple[Any, str], Any] = {}
    state = getattr(obj, "_state", None)
    for value in getattr(state, "fields_cache", {}).values():
        if isinstance(value, models.Model) and value.pk is not None:
            out[(type(value)._meta.concrete_model, str(value.pk))] = value
    return out


def _resolve_related(
    entries: list[Any],
    fields: dict[str, Any],
    known: dict[tuple[Any, str], Any] | None = None,
    user: Any = None,
) -> dict[tuple[Any, str], str]:
    """One query per related model on the page: FK ids shown as the related record's name
    (those in `known`, already loaded, without a query) — to a `user` who may view that record;
    the others read hidden_record() (one more query where the user sees only some records of
    the type and the page had loaded some of them)."""
    known = known or {}
    wanted: dict[Any, set[str]] = {}
    for e in entries:
        for name, pair in (e.changes or {}).items():
            f = fields.get(name)
            if f is None or not getattr(f, "is_relation", False) or f.related_model is None:
                continue
            for v in pair if isinstance(pair, list) else []:
                for item in v if isinstance(v, list) else [v]:
                    if item not in (None, ""):
                        wanted.setdefault(f.related_model, set()).add(str(item))
    out: dict[tuple[Any, str], str] = {}
    for model, ids in wanted.items():
        concrete = model._meta.concrete_model
        scope = reader_scope(model, user)  # a record type (ContentType): named to all
        if scope is False:
            out.update({(model, pk): hidden_record(model) for pk in ids})
            continue
        source = model._base_manager.all() if scope is True else scope
        if scope is not True and any((concrete, pk) in known for pk in ids):
            try:
                visible = {
                    str(pk)
                    for pk in scope.filter(pk__in=list(ids)[:500]).values_list("pk", flat=True)
                }
            except (ValueError, TypeError, ValidationError):
                visible = set()
            out.update({(model, pk): hidden_record(model) for pk in ids - visible})
            ids &= visible
            source = model._base_manager.all()  # the rest: visible, read as they are
        for pk in [i for i in ids if (concrete, i) in known]:
            ids.discard(pk)
            try:
                out[(model, pk)] = str(known[(concrete, pk)])
            except Exception:  # a broken __str__ must not break the page
                out[(model, pk)] = f"#{pk}"
        if not ids:
            continue
        if model is ContentType:
            for ct in ContentType.objects.filter(pk__in=[i for i in ids if i.isdigit()]):
                ct_model = ct.model_class()
                out[(model, str(ct.pk))] = str(ct_model._meta.verbose_name if ct_model else ct)
            continue
        try:
            related_qs = source.select_related(*hook(model, "url_related"))
            objs = related_qs.in_bulk(list(ids)[:500])
        except (ValueError, TypeError, ValidationError):
            continue
        for pk, obj in objs.items():
            try:
                out[(model, str(pk))] = str(obj)
            except Exception:  # a broken __str__ must not break the page
                out[(model, str(pk))] = f"#{pk}"
        if scope is not True:  # not found through the user's scope: not theirs to see
            for pk in ids - {str(pk) for pk in objs}:
                out[(model, pk)] = hidden_record(model)
    return out


def history_rows(
    entries: list[Any], model: type[models.Model] | None, user: Any = None, obj: Any = None
) -> list[dict[str, Any]]:
    fields = _fields_by_name(model)
    related = _resolve_related(
        entries, fields, _loaded_relations(obj) if obj is not None else None, user
    )
    hidden_refs = hidden_references(entries, model, user, obj)
    users = _users_named(entries)
    hidden = hidden_fields(model, user)
    lists = {
        name: choice_labels(choices)
        for name, choices in (hook(model, "choice_lists") if model is not None else {}).items()
    }
    readable = hook(model, "history_values") if model is not None else {}
    out = []
    for e in entries:
        changes = dict(e.changes or {})
        summary = ""
        if e.action in ("event",) and "event" in changes:
            summary = _(str(changes.pop("event")[1]))  # event names are gettext_noop msgids
        rows = []
        for name, pair in ordered_changes(changes, model):
            if name == "version" and e.action != "event":
                continue  # the optimistic-lock counter is noise for readers
            old, new = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
            f = fields.get(name)
            if f is not None and e.action not in ("event", "sign"):
                label = str(getattr(f, "verbose_name", name))
            else:
                label = str(EVENT_LABELS.get(name, name.replace("_", " ")))
                f = None
                old, new = _event_value(name, old, users), _event_value(name, new, users)
            shown = readable.get(name) if f is not None and name not in hidden else None
            if name in hidden:
                old, new = hide(old), hide(new)
            texts = [
                hidden_refs.get((id(e), name, side))
                or _format(value, f, related, lists.get(name) if f else None, shown)
                for side, value in ((0, old), (1, new))
            ]
            rows.append(
                {"field": label, "old": texts[0], "new": texts[1], "old_empty": old in (None, "")}
            )
        out.append({"entry": e, "summary": summary, "rows": rows, "source": source_label(e.source)})
    return out


def history_context(
    request: Any, content_type: ContentType, object_id: Any, page: Any = None, obj: Any = None
) -> dict[str, Any]:
    from ..models import AuditEntry

    object_id = str(object_id)
    qs = (
        AuditEntry.objects.filter(content_type=content_type, object_id=object_id)
        .select_related("actor")
        .order_by("-seq")
    )
    entries: list[Any] | None = None
    if page in (None, "", "1", 1):
        # The first page (a record page's panel) of a history that fits on it — most do —
        # needs no COUNT: one row more than a page says whether there is a second (#13).
        first = list(qs[: HISTORY_PER_PAGE + 1])
        if len(first) <= HISTORY_PER_PAGE:
            page_obj = Paginator(first, HISTORY_PER_PAGE).get_page(1)
            entries = first
    if entries is None:
        page_obj = Paginator(qs, HISTORY_PER_PAGE).get_page(page)
        entries = list(page_obj.object_list)
    url = reverse("record_history", args=[content_type.app_label, content_type.model, object_id])
    model = content_type.model_class()
    items = history_rows(entries, model, user=getattr(request, "user", None), obj=obj)
    # a record generated by a batch (core.audit.batch): the batch's entry is its creation,
    # shown last (oldest) on the last page
    created = batch_creation(model, object_id)
    if created is not None and not page_obj.has_next():
        items.append(created)
    return {
        "request": request,
        "panel_id": f"history-{content_type.app_label}-{content_type.model}-{object_id}",
        "page": page_obj,
        "count": page_obj.paginator.count + (1 if created is not None else 0),
        "items": items,
        "fragment_url": url,
        "time_zone": settings.TIME_ZONE,
    }


def batch_creation(model: type[models.Model] | None, object_id: Any) -> dict[str, Any] | None:
    """The history item of a record's creation by a batch: the batch's creation entry, with
    what the batch says ("generated by batch #3 at …: 2,987,644 records, SHA-256 …")."""
    from ..audit.batch import batch_field, creation_entry

    if model is None or batch_field(model) is None:
        return None
    found = creation_entry(model, object_id)
    if found is None:
        return None
    batch, entry = found
    summary = _(
        "Generated by %(batch)s with %(count)s records of this type in one run (one audit "
        "record for the run; SHA-256 of the records as created: %(digest)s)"
    ) % {"batch": batch, "count": f"{batch.count:,}", "digest": batch.digest}
    return {
        "entry": entry,
        "summary": summary,
        "rows": [],
        "source": source_label(entry.source),
        "batch": batch,
    }


@register.inclusion_tag("core/_history.html", takes_context=True)
def history_panel(context: Any, obj: Any, object_id: Any = None) -> dict[str, Any]:
    request = context.get("request")
    record = None
    if isinstance(obj, ContentType):
        ct, oid = obj, object_id
    else:
        ct, oid = ContentType.objects.get_for_model(obj, for_concrete_model=True), obj.pk
        record = obj
    page = request.GET.get("history_page") if request is not None else None
    return history_context(request, ct, oid, page, obj=record)


# --- signatures ---------------------------------------------------------------------------


def signatures_context(obj: Any) -> dict[str, Any]:
    from ..signatures.services import STATE_LABELS, content_hash, signatures_for, signed_content

    # a record read with core.records.probes.with_panel_probes says whether it has any (#13)
    signatures = list(signatures_for(obj)) if getattr(obj, "probe_signatures", True) else []
    items = []
    if signatures:  # the record's content hashed only when there are signatures to compare
        current = content_hash(signed_content(obj))
        for sig in signatures:
            state = "matches" if sig.content_hash == current else "changed"
            items.append({"sig": sig, "state": state, "state_label": STATE_LABELS[state]})
    return {"items": items, "time_zone": settings.TIME_ZONE}


@register.inclusion_tag("core/_signatures.html")
def signatures_panel(obj: Any) -> dict[str, Any]:
    return signatures_context(obj)


@register.simple_tag
def signature_lines(obj: Any) -> list[str]:
    """``{% signature_lines obj as lines %}`` for printable documents."""
    from ..signatures.services import signature_lines as lines

    return lines(obj)


# --- the signature dialog -----------------------------------------------------------------


def signature_dialog_context(
    *,
    form_action: str,
    meaning: Any,
    csrf_token: Any = None,
    dialog_id: str = "signature-dialog",
    title: Any = None,
    button: Any = None,
    button_class: str = "btn-primary",
    form: Any = None,
    comment_required: bool = False,
    comment_label: Any = None,
    submit_label: Any = None,
    version: Any = None,
    text: Any = None,
) -> dict[str, Any]:
    from ..models import Signature
    from ..signatures.services import SignatureForm

    meaning_value = str(getattr(meaning, "value", meaning))
    labels = dict(Signature.Meaning.choices)
    if form is None:
        form = SignatureForm(comment_required=comment_required)
    return {
        "csrf_token": csrf_token,
        "form_action": form_action,
        "meaning": meaning_value,
        "meaning_label": labels.get(meaning_value, meaning_value),
        "dialog_id": dialog_id,
        "title": title or _("Electronic signature"),
        "button": button,
        "button_class": button_class,
        "form": form,
        "has_errors": form.is_bound and bool(form.errors),
        "comment_required": comment_required or form.fields["comment"].required,
        "comment_label": comment_label or form.fields["comment"].label,
        "submit_label": submit_label or _("Sign"),
        "version": version,
        "text": text,
    }


@register.inclusion_tag("core/_signature_dialog.html", takes_context=True)
def signature_dialog(context: Any, form_action: str, meaning: Any, **options: Any) -> dict:
    return signature_dialog_context(
        form_action=form_action, meaning=meaning, csrf_token=context.get("csrf_token"), **options
    )


@register.inclusion_tag("core/_signature_dialog.html")
def prepared_signature_dialog(dialog: dict[str, Any]) -> dict[str, Any]:
    """Render a dialog whose context a view built with signature_dialog_context() (e.g. to
    show a bound form's errors)."""
    return dialog


# --- destruction --------------------------------------------------------------------------


@register.inclusion_tag("core/retention/_destruction_button.html", takes_context=True)
def destruction_button(context: Any, obj: Any) -> dict[str, Any]:
    from ..retention.services import REQUEST_PERM, is_destroyable_type

    request = context.get("request")
    user = getattr(request, "user", None)
    show = bool(
        user is not None
        and user.is_authenticated
        and user.has_perm(REQUEST_PERM)
        and is_destroyable_type(type(obj))
    )
    url = ""
    if show:
        ct = ContentType.objects.get_for_model(obj, for_concrete_model=True)
        url = f"{reverse('destruction_new')}?type={ct.app_label}.{ct.model}&id={obj.pk}"
    return {"show": show, "url": url}


# --- every panel of a record page ---------------------------------------------------------


@register.inclusion_tag("records/_panels.html", takes_context=True)
def record_panels(context: Any, obj: Any, history: Any = None) -> dict[str, Any]:
    """The panels of a record page (history, attachments, signatures, destruction request,
    the timeline where the record has one), each only when it applies and the user may see
    it. The page has checked the user's access to `obj`."""
    from ..records.hooks import hook
    from ..registry import timeline_for

    request = context.get("request")
    user = getattr(request, "user", None)
    timeline = None
    if hook(obj, "record_timeline"):
        timeline = timeline_for(obj, user)
    return {
        "request": request,
        "obj": obj,
        "timeline": timeline,
        "history": history,
    }


# --- list pages (core.records.lists) ------------------------------------------------------


@register.simple_tag(takes_context=True)
def sort_header(context: Any, key: str, label: Any) -> Any:
    """A column head of a RecordList page: a link that sorts by the column (again: the other
    way), with the current direction for screen readers. Built in Python (#13: six
    templates rendered per list page otherwise); every value is escaped."""
    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext

    from medvigil.core.records.render import esc

    info = (context.get("sorts") or {}).get(key)
    if not info:
        return esc(label)
    qs = esc(info["qs"])
    table_id = context.get("table_id", "")
    htmx = (
        f' hx-get="{esc(context.get("list_path", ""))}?{qs}" hx-target="#{esc(table_id)}"'
        ' hx-push-url="true"'
        if table_id
        else ""
    )
    direction = info.get("dir")
    current = ' aria-current="true"' if direction else ""
    mark = ""
    if direction == "asc":
        mark = (
            ' <span aria-hidden="true">&#9650;</span><span class="visually-hidden">'
            f"{esc(gettext('sorted ascending'))}</span>"
        )
    elif direction == "desc":
        mark = (
            ' <span aria-hidden="true">&#9660;</span><span class="visually-hidden">'
            f"{esc(gettext('sorted descending'))}</span>"
        )
    return mark_safe(  # noqa: S308 - every value above is escaped
        f'<a class="link-body-emphasis text-decoration-none sort-link" href="?{qs}"{htmx}'
        f"{current}>{esc(label)}{mark}</a>"
    )


@register.simple_tag
def select_options(options: Any, value: Any) -> Any:
    """The <option> elements of a filter's select, the one matching `value` selected. Built
    in Python: a list page's product filter has a hundred options, and the same loop in the
    template language cost a list page several milliseconds (#13)."""
    from html import escape  # django.utils.html.escape's output, without its lazy wrapper

    from django.utils.safestring import mark_safe

    return mark_safe(  # noqa: S308 - every value and label is escaped here
        "".join(
            f'<option value="{escape(str(v))}"{" selected" if v == value else ""}>'
            f"{escape(str(label))}</option>"
            for v, label in options
        )
    )
