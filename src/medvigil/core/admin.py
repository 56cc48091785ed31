from django.contrib import admin

from .models import AuditEntry, NumberingScheme, RetentionRule


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
