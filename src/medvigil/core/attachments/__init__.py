"""Attachments on any record (PLAT-9): the model (``models``), attaching and voiding with the
access and type checks (``services``) and the panel, upload and download pages (``views``).
The ``{% attachments %}`` tag is in ``templatetags/attachments``."""
