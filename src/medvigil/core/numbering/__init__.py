"""Gapless record numbers: the schemes and sequences (``models``) and ``next_number``
(``services``)."""
