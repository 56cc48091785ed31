"""Administrator pages for users, departments and roles (PLAT-1). Every save is audited by
the models themselves (source 'admin')."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from medvigil.core.registry import NavItem, register_nav

from .models import APIToken, Department, Role, User

# Administration menu (PLAT-1): users, roles and departments are edited in the Django admin,
# which only staff users may open.
for _label, _url_name, _perm, _order in (
    (_("Users"), "admin:accounts_user_changelist", "accounts.view_user", 10),
    (_("Roles"), "admin:accounts_role_changelist", "accounts.view_role", 11),
    (_("Departments"), "admin:accounts_department_changelist", "accounts.view_department", 12),
):
    register_nav(NavItem(_label, _url_name, _perm, _order, group="admin", staff=True))


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "active")
    search_fields = ("code", "name_zh", "name_en")
    list_filter = ("active",)
    exclude = ("version",)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # deactivate instead


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "read_only")
    search_fields = ("code", "name_zh", "name_en")
    filter_horizontal = ("permissions",)
    exclude = ("version", "offered_permissions")

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "department", "is_active", "last_login")
    list_filter = ("is_active", "department", "roles")
    search_fields = ("username", "display_name", "first_name", "last_name", "email")
    filter_horizontal = ("roles", "user_permissions", "groups")
    fieldsets = (
        *BaseUserAdmin.fieldsets,  # type: ignore[misc]
        (_("MedVigil"), {"fields": ("display_name", "department", "roles", "phone", "language")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("MedVigil"), {"fields": ("display_name", "department", "roles")}),
    )

    actions = ["unlock_users"]

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # users are deactivated, never deleted: their audit entries point at them

    @admin.action(
        description=_("Unlock selected users (after too many failed sign-ins)"),
        permissions=["change"],
    )
    def unlock_users(self, request, queryset):  # type: ignore[no-untyped-def]
        from .services import unlock_user

        users = list(queryset)
        for user in users:
            unlock_user(user, by=request.user)
        self.message_user(
            request,
            ngettext("%(n)d user unlocked.", "%(n)d users unlocked.", len(users))
            % {"n": len(users)},
            messages.SUCCESS,
        )


@admin.register(APIToken)
class APITokenAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "name", "prefix", "created_at", "last_used_at")
    exclude = ("token_hash", "version")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
