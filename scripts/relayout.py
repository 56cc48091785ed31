#!/usr/bin/env python3
"""Rewrite imports of MedVigil modules that moved (issue #7 item 7, the capability layout).

    python scripts/relayout.py [--map scripts/relayout-map.txt] [--src src] [--check] PATH...

PATH is a file or a directory (every ``*.py`` under it). The map has one entry a line:

    old.dotted.module -> new.dotted.module          the module moved whole
    old.dotted.module:name -> new.dotted.module     one name moved (a module that was split;
                                                    public names stay importable from the old
                                                    module, private ones do not)

What is rewritten:

* ``from old import a, b`` -> ``from new import a, b`` (a name with its own ``:name`` entry
  goes to its own module; a name that is a submodule of ``old`` is left alone);
* ``from package import old_last [as x]`` -> ``from new_package import new_last as old_last``;
* ``import old`` / ``import old as x`` -> ``import new`` / ``import new as x``;
* relative imports inside the tree: resolved against the file's package (its *old* package
  when the file itself is one that moved), mapped, and written back relative when the target
  is in the same top-level app, absolute otherwise;
* every other whole dotted occurrence of an old module path (``"medvigil.core.api_imports.router"``
  strings, ``medvigil.core.notify.notify(...)`` after ``import medvigil.core.notify``,
  ``upload_to=medvigil.core.models.attachments.attachment_path`` in migrations).

* ``alias.name`` where ``alias`` is a split module imported as a module and ``name`` has a
  ``:name`` entry (``recorder.record_bulk_create`` -> ``bulk.record_bulk_create``, with the
  import added).

``monkeypatch.setattr(alias, "name", ...)`` of such a name is reported (``CHECK``) but not
changed: patch the module where the name is looked up. ``--check`` lists the files that would
change and exits 1. Running it twice changes nothing the second time.
Run ``make format`` afterwards: rewritten import blocks are not re-sorted here.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def load_map(path: Path) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    modules: dict[str, str] = {}
    names: dict[tuple[str, str], str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        old, _, new = (part.strip() for part in line.partition("->"))
        if not new:
            raise SystemExit(f"bad map line: {raw!r}")
        if ":" in old:
            module, name = old.split(":", 1)
            names[(module, name)] = new
        else:
            modules[old] = new
    return modules, names


def known_modules(src: Path) -> set[str]:
    """Every module and package under ``src`` (after the move), as dotted names."""
    found: set[str] = set()
    for file in src.rglob("*.py"):
        parts = list(file.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            found.add(".".join(parts))
    return found


class Rewriter:
    def __init__(
        self,
        modules: dict[str, str],
        names: dict[tuple[str, str], str],
        known: set[str],
        src: Path,
    ):
        self.modules = modules
        self.names = names
        self.known = known | set(modules.values()) | set(names.values())
        self.src = src
        self.warnings: list[str] = []
        self.reverse = {new: old for old, new in modules.items()}
        self.top = {old.split(".")[0] for old in modules} | {m for m, _n in names}
        alternatives = sorted(modules, key=len, reverse=True)
        self.pattern = (
            re.compile(r"(?<![\w.])(" + "|".join(re.escape(m) for m in alternatives) + r")(?!\w)")
            if alternatives
            else None
        )

    # -- module names ----------------------------------------------------------------------
    def map_module(self, module: str) -> str:
        """The new name of a module (a moved module, or a module inside a moved package)."""
        if module in self.modules:
            return self.modules[module]
        for old, new in self.modules.items():
            if module.startswith(old + ".") and module not in self.known:
                return new + module[len(old) :]
        return module

    def file_module(self, path: Path) -> tuple[str | None, bool]:
        """(dotted module name of ``path``, whether it is a package's ``__init__``)."""
        try:
            rel = path.resolve().relative_to(self.src.resolve())
        except ValueError:
            return None, False
        parts = list(rel.with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        return ".".join(parts), is_package

    @staticmethod
    def package_of(module: str, is_package: bool) -> str:
        return module if is_package else module.rpartition(".")[0]

    @staticmethod
    def relative(from_package: str, target: str) -> tuple[int, str]:
        a, b = from_package.split("."), target.split(".")
        common = 0
        while common < min(len(a), len(b)) and a[common] == b[common]:
            common += 1
        return len(a) - common + 1, ".".join(b[common:])

    @staticmethod
    def resolve(level: int, module: str | None, package: str) -> str | None:
        base = package.split(".")
        if level - 1 > len(base) - 1:
            return None
        base = base[: len(base) - (level - 1)]
        return ".".join(base + ([module] if module else []))

    def already_relative_to(self, tree: ast.AST, new_pkg: str | None, old_pkg: str | None) -> bool:
        """Whether the relative imports of a moved file point from its new place (the script
        ran on it before, or it was written there) rather than from its old one: a vote of
        the imports that resolve from one place only; a tie counts as the new place."""
        if new_pkg is None or old_pkg is None:
            return False
        votes = 0
        exists = self.known | set(self.modules)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                from_new = self.resolve(node.level, node.module, new_pkg)
                from_old = self.resolve(node.level, node.module, old_pkg)
                new_ok, old_ok = from_new in exists, from_old in exists
                votes += (new_ok and not old_ok) - (old_ok and not new_ok)
        return votes >= 0  # undecided: assume rewritten (a second run must change nothing)

    # -- statements ------------------------------------------------------------------------
    def rewrite_from(self, node: ast.ImportFrom, old_pkg: str | None, new_pkg: str | None):
        """New statements (as (level, module, [(name, asname)]) tuples) or None if unchanged."""
        if node.level:
            if old_pkg is None:
                return None
            base = old_pkg.split(".")
            if node.level - 1 > len(base) - 1:
                return None
            base = base[: len(base) - (node.level - 1)]
            absolute = ".".join(base + ([node.module] if node.module else []))
        else:
            absolute = node.module or ""
        if absolute.split(".")[0] not in self.top:
            return None
        groups: dict[str, list[tuple[str, str | None]]] = {}
        for alias in node.names:
            name, asname = alias.name, alias.asname
            submodule = f"{absolute}.{name}"
            if (absolute, name) in self.names:
                target, out_name, out_as = self.names[(absolute, name)], name, asname
            elif submodule in self.modules:
                new = self.modules[submodule]
                target, _, out_name = new.rpartition(".")
                out_as = asname or (name if out_name != name else None)
            elif submodule in self.known:  # a submodule of the (new) package: keep
                keep = absolute if absolute in self.modules else self.map_module(absolute)
                target, out_name, out_as = keep, name, asname
            else:
                target, out_name, out_as = self.map_module(absolute), name, asname
            groups.setdefault(target, []).append((out_name, out_as))
        same = list(groups) == [absolute] and all(
            (n, a) == (alias.name, alias.asname)
            for (n, a), alias in zip(groups[absolute], node.names, strict=True)
        )
        moved_file = old_pkg != new_pkg
        if same and not (node.level and moved_file):
            return None
        if same and new_pkg and self.relative(new_pkg, absolute) == (node.level, node.module or ""):
            return None  # a moved file whose relative import still points at the same module
        out = []
        for target, items in groups.items():
            if node.level and new_pkg and target.split(".")[:2] == new_pkg.split(".")[:2]:
                level, rest = self.relative(new_pkg, target)
                out.append((level, rest, items))
            elif node.level and new_pkg and target.split(".")[0] == new_pkg.split(".")[0]:
                out.append((0, target, items))
            else:
                out.append((0, target, items))
        return out

    def rewrite_import(self, node: ast.Import):
        changed = False
        items = []
        for alias in node.names:
            new = self.map_module(alias.name)
            changed |= new != alias.name
            items.append((new, alias.asname))
        return items if changed else None

    @staticmethod
    def render_from(indent: str, level: int, module: str, items, comment: str) -> str:
        names = ", ".join(n if not a else f"{n} as {a}" for n, a in items)
        head = f"{indent}from {'.' * level}{module} import "
        line = head + names
        if len(line) + len(comment) > 99 and len(items) > 1:
            body = "".join(f"{indent}    {n if not a else f'{n} as {a}'},\n" for n, a in items)
            return f"{head}({comment}\n{body}{indent})"
        return line + comment

    def rewrite_text(self, text: str, path: Path) -> str:
        try:
            tree = ast.parse(text)
        except SyntaxError as exc:
            print(f"skipped (syntax error): {path}: {exc}", file=sys.stderr)
            return text
        module, is_package = self.file_module(path)
        new_pkg = self.package_of(module, is_package) if module else None
        old_module = self.reverse.get(module, module) if module else None
        old_pkg = self.package_of(old_module, is_package) if old_module else None
        if old_pkg != new_pkg and self.already_relative_to(tree, new_pkg, old_pkg):
            old_pkg = new_pkg  # a moved file whose relative imports were already rewritten
        lines = text.splitlines(keepends=True)
        edits: list[tuple[int, int, str]] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                result = self.rewrite_from(node, old_pkg, new_pkg)
                if result is None:
                    continue
                first, last = node.lineno - 1, node.end_lineno - 1  # type: ignore[operator]
                indent = re.match(r"\s*", lines[first]).group(0)  # type: ignore[union-attr]
                tail = lines[last][node.end_col_offset :].rstrip("\n")
                comment = tail if tail.strip().startswith("#") else ""
                rendered = "\n".join(
                    self.render_from(indent, level, mod, items, comment)
                    for level, mod, items in result
                )
                edits.append((first, last, rendered + "\n"))
            elif isinstance(node, ast.Import):
                items = self.rewrite_import(node)
                if items is None:
                    continue
                first, last = node.lineno - 1, node.end_lineno - 1  # type: ignore[operator]
                indent = re.match(r"\s*", lines[first]).group(0)  # type: ignore[union-attr]
                tail = lines[last][node.end_col_offset :].rstrip("\n")
                names = ", ".join(n if not a else f"{n} as {a}" for n, a in items)
                edits.append((first, last, f"{indent}import {names}{tail}\n"))
        attr_edits, added = self.attribute_edits(tree, old_pkg)
        for first, last, new in sorted(edits, reverse=True):
            lines[first : last + 1] = [new]
        # attribute edits are on lines after every import (they never overlap an edited one)
        shift = sum(new.count("\n") - (last - first + 1) for first, last, new in edits)
        for line_no, col, old_text, new_text in sorted(attr_edits, reverse=True):
            i = line_no - 1 + shift
            line = lines[i]
            assert line[col : col + len(old_text)] == old_text, (path, line_no)
            lines[i] = line[:col] + new_text + line[col + len(old_text) :]
        if added:
            at = self.import_end(tree) + shift
            indent = ""
            lines[at:at] = [f"{indent}{stmt}\n" for stmt in sorted(added)]
        out = "".join(lines)
        if self.pattern is not None:
            out = self.pattern.sub(self._dotted, out)
        return out

    # -- attributes of an imported module (``recorder.record_bulk_create``) -----------------
    def module_aliases(self, tree: ast.AST, old_pkg: str | None) -> dict[str, str]:
        """Names bound to a module that has ``:name`` entries -> that module."""
        split = {module for module, _name in self.names}
        aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    if old_pkg is None:
                        continue
                    base = self.resolve(node.level, node.module, old_pkg) or ""
                for alias in node.names:
                    if f"{base}.{alias.name}" in split:
                        aliases[alias.asname or alias.name] = f"{base}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in split and alias.asname:
                        aliases[alias.asname] = alias.name
        return aliases

    def attribute_edits(self, tree: ast.AST, old_pkg: str | None):
        aliases = self.module_aliases(tree, old_pkg)
        edits, added = [], set()
        if not aliases:
            return edits, added
        bound = {
            n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and len(node.args) >= 2
                and isinstance(node.args[0], ast.Name)
                and node.args[0].id in aliases
                and isinstance(node.args[1], ast.Constant)
                and (aliases[node.args[0].id], node.args[1].value) in self.names
            ):
                self.warnings.append(
                    f"line {node.lineno}: patches {node.args[0].id}.{node.args[1].value}, which"
                    f" now lives in {self.names[(aliases[node.args[0].id], node.args[1].value)]}"
                    " (patch it where it is looked up)"
                )
            if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
                continue
            alias = node.value.id
            module = aliases.get(alias)
            if module is None or (module, node.attr) not in self.names:
                continue
            target = self.names[(module, node.attr)]
            package, _, last = target.rpartition(".")
            local = last if last not in bound and last not in aliases else f"_{last}_module"
            edits.append((node.value.lineno, node.value.col_offset, alias, local))
            added.add(f"from {package} import {last}" + (f" as {local}" if local != last else ""))
        return edits, added

    @staticmethod
    def import_end(tree: ast.Module) -> int:  # type: ignore[override]
        """The line index after the module's leading block of imports."""
        end = 0
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                end = node.end_lineno or end
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                end = max(end, node.end_lineno or 0) if end == 0 else end
            else:
                break
        return end

    def _dotted(self, match: re.Match[str]) -> str:
        old = match.group(1)
        after = match.string[match.end() :]
        nxt = re.match(r"\.(\w+)", after)
        if nxt and f"{old}.{nxt.group(1)}" in self.known:
            return old  # already a path inside the new package (old -> old.services)
        return self.modules[old]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--map", type=Path, default=HERE / "relayout-map.txt")
    parser.add_argument("--src", type=Path, default=HERE.parent / "src")
    parser.add_argument("--check", action="store_true", help="list, do not write")
    args = parser.parse_args(argv)
    modules, names = load_map(args.map)
    rewriter = Rewriter(modules, names, known_modules(args.src), args.src)
    files: list[Path] = []
    for p in args.paths:
        files.extend(sorted(p.rglob("*.py")) if p.is_dir() else [p])
    changed = 0
    for file in files:
        text = file.read_text(encoding="utf-8")
        rewriter.warnings = []
        new = rewriter.rewrite_text(text, file)
        for warning in rewriter.warnings:
            print(f"CHECK {file}: {warning}", file=sys.stderr)
        if new != text:
            changed += 1
            print(("would rewrite " if args.check else "rewrote ") + str(file))
            if not args.check:
                file.write_text(new, encoding="utf-8")
    print(f"{changed} file(s) {'to rewrite' if args.check else 'rewritten'}", file=sys.stderr)
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
