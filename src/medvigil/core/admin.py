from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import AuditEntry, NumberingScheme, RetentionRule
from .registry import NavItem, register_nav

# Administration menu (PLAT-4 numbering, PLAT-5 retention): these are edited in the Django
# admin, which only staff users may open; the entries sit next to the pages they open.
for _label, _url_name, _perm, _order in (
    (
        _("Numbering schemes"),
        "admin:core_numberingscheme_changelist",
        "core.view_numberingscheme",
        40,
    ),
    (_("Retention rules"), "admin:core_retentionrule_changelist", "core.view_retentionrule", 50),
    (_("All administration pages"), "admin:index", None, 990),
):
    register_nav(NavItem(_label, _url_name, _perm, _order, group="admin", staff=True))


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: nobody, the administrator included, can change the trail."""

    list_display = ("timestamp", "actor_name", "source", "action", "content_type", "object_repr")
    list_filter = ("action", "source", "content_type")
    search_fields = ("object_repr", "actor_name", "object_id", "request_id")
    date_hierarchy = "timestamp"

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(NumberingScheme)
class NumberingSchemeAdmin(admin.ModelAdmin):
    list_display = ("record_type", "prefix", "pattern")
    exclude = ("version",)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(RetentionRule)
class RetentionRuleAdmin(admin.ModelAdmin):
    list_display = ("content_type", "basis", "years", "minimum_years", "permanent_if_implantable")
    exclude = ("version",)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
