"""Electronic signatures (PLAT-3): the model (``models``) and signing, verification and the
signature form (``services``). The signature dialog and panel are in ``templatetags/records``;
``records.views.signed_action`` runs a signed transition."""
