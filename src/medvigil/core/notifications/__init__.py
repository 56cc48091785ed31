"""In-app and e-mail notifications (PLAT-8): the notification and the per-deadline alert
(``models``), ``notify`` and reading state (``services``) and the notification pages
(``views``)."""
