"""`medvigil imdrf …`: the IMDRF terminology from the command line (VIG-5).

medvigil imdrf load                          # the shipped release, if none is loaded
medvigil imdrf load --label 2025 --file annexa.json --file annexe.xlsx [--dry-run]
medvigil imdrf translations --file zh.csv    # columns code, term_zh[, definition_zh]
medvigil imdrf show A0501                    # a term, its path and children
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from medvigil.imdrf import services


def _read(paths: list[str]) -> list[tuple[str, bytes]]:
    files = []
    for p in paths:
        path = Path(p)
        if not path.is_file():
            raise CommandError(f"No such file: {p}")
        files.append((path.name, path.read_bytes()))
    return files


class Command(BaseCommand):
    help = "IMDRF terminology: load a release or translations, show a term."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="Load a release (default: the shipped one).")
        load.add_argument("--file", action="append", default=[], help="A release file (repeat).")
        load.add_argument("--label", help="The release's name, e.g. 2025 (with --file).")
        load.add_argument("--title", default="")
        load.add_argument("--note", default="")
        load.add_argument("--dry-run", action="store_true", help="Only show what would change.")
        tr = sub.add_parser("translations", help="Load Chinese terms (code, term_zh, ...).")
        tr.add_argument("--file", action="append", required=True)
        show = sub.add_parser("show", help="Show a term.")
        show.add_argument("code")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "load":
                self._load(options)
            elif action == "translations":
                n = services.load_translations(_read(options["file"]), by=None)
                self.stdout.write(f"{n} terms translated.")
            else:
                self._show(options["code"])
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages)) from None

    def _load(self, options: dict[str, Any]) -> None:
        if not options["file"]:
            release = services.ensure_shipped_release()
            if release is None:
                self.stdout.write("A release is loaded already; nothing done.")
            else:
                self.stdout.write(
                    f"Loaded the shipped release {release.label}: {release.terms} terms."
                )
            return
        outcome = services.load_release(
            _read(options["file"]),
            label=options["label"],
            by=None,
            title=options["title"],
            note=options["note"],
            dry_run=options["dry_run"],
        )
        counts = outcome.counts()
        verb = "Would load" if options["dry_run"] else "Loaded"
        self.stdout.write(
            f"{verb} release {outcome.label} (annexes {outcome.annexes}): {counts['terms']} terms, "
            f"{counts['added']} added, {counts['changed']} changed, {counts['retired']} retired, "
            f"{counts['restored']} restored."
        )
        for key in ("changed", "retired", "restored"):
            codes = getattr(outcome, key)
            if codes:
                self.stdout.write(f"  {key}: {', '.join(codes[:200])}")

    def _show(self, code: str) -> None:
        term = services.lookup(code)
        if term is None:
            raise CommandError(f"No IMDRF code {code[:20]!r}.")
        trail = " > ".join(f"{t.code} {t.term_en}" for t in services.path(term.code))
        self.stdout.write(trail)
        if term.term_zh:
            self.stdout.write(f"  中文: {term.term_zh}")
        if term.retired:
            label = term.retired_in.label if term.retired_in else "?"
            self.stdout.write(f"  retired in {label}")
        self.stdout.write(f"  {term.definition_en}")
        for child in services.children(term.code):
            self.stdout.write(f"  - {child.code} {child.term_en}")
