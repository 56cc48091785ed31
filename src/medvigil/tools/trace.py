"""`make trace` (`python -m medvigil.tools.trace`): which DOMAIN.md requirements have tests.

Requirement IDs (PLAT-1, TRC-7, ...) are read from DOMAIN.md: the file named by the
MEDVIGIL_DOMAIN_MD environment variable, else `../shared/DOMAIN.md` next to the repository.
Tests are found the way pytest finds them: a `pytest --collect-only` run (in a subprocess, with
this module as a plugin) reports every test item with the IDs of its `@pytest.mark.req(...)`
markers (function, class or module `pytestmark`), plus IDs written in the test's name
(`test_fbk_4_...`). Parametrized tests count once per case.

Prints a table (requirement, number of tests, the first few test names), then the
requirements that have no test, then IDs cited by tests that DOMAIN.md does not define.
Always exits 0 (it informs; it does not gate), except with --fail-under-coverage.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

OUT_ENV = "MEDVIGIL_TRACE_OUT"
ID_LINE = re.compile(r"^\s*[-*]\s+\**([A-Z][A-Z0-9]*-\d+)\**[\s:.—-]*(.*)$")
EXAMPLES = 3


def repo_root() -> Path:
    """The repository (the directory holding pyproject.toml) of this source tree, else cwd."""
    for start in (Path(__file__).resolve(), Path.cwd().resolve()):
        for parent in [start, *start.parents]:
            if (parent / "pyproject.toml").is_file() and (parent / "src" / "medvigil").is_dir():
                return parent
    return Path.cwd()


def domain_path(root: Path) -> Path:
    configured = os.environ.get("MEDVIGIL_DOMAIN_MD")
    if configured:
        return Path(configured)
    return root.parent / "shared" / "DOMAIN.md"


def parse_requirements(text: str) -> dict[str, str]:
    """{ID: short title} in document order, from lines like `- PLAT-1 Users, departments...`."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        m = ID_LINE.match(line)
        if m and m.group(1) not in found:
            found[m.group(1)] = m.group(2).strip()
    return found


def ids_in_name(name: str, known: list[str]) -> set[str]:
    """IDs written in a test's name: test_fbk_4_clock, test_PLAT1_... (known IDs only)."""
    out = set()
    for rid in known:
        prefix, num = rid.split("-")
        if re.search(rf"(?<![a-z0-9]){prefix.lower()}[-_]?{num}(?![0-9])", name.lower()):
            out.add(rid)
    return out


# --- the pytest plugin side (runs inside the collecting subprocess) -------------------------


def pytest_collection_modifyitems(session: Any, config: Any, items: list[Any]) -> None:
    out = os.environ.get(OUT_ENV)
    if not out:
        return
    rows = []
    for item in items:
        ids: list[str] = []
        for mark in item.iter_markers(name="req"):
            for arg in mark.args:
                if isinstance(arg, list | tuple | set):
                    ids.extend(str(a) for a in arg)
                else:
                    ids.append(str(arg))
        rows.append({"nodeid": item.nodeid, "name": item.name, "ids": sorted(set(ids))})
    Path(out).write_text(json.dumps({"items": rows}), encoding="utf-8")


def pytest_collectreport(report: Any) -> None:
    out = os.environ.get(OUT_ENV)
    if out and report.failed:
        with open(out + ".errors", "a", encoding="utf-8") as fh:
            fh.write(report.nodeid + "\n")


# --- the command ----------------------------------------------------------------------------


def collect(root: Path) -> tuple[list[dict[str, Any]], list[str], str]:
    """Run pytest's collection; return (items, modules that failed to collect, stderr tail)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "items.json")
        env = {**os.environ, OUT_ENV: out, "MEDVIGIL_TESTING": "1"}
        src = str(root / "src")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH", "")) if p)
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "--continue-on-collection-errors",
            "-p",
            "medvigil.tools.trace",
            "-p",
            "no:randomly",
        ]
        proc = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
            cmd, cwd=root, env=env, capture_output=True, text=True, check=False
        )
        if not Path(out).exists():
            # e.g. an unknown option: retry without the optional plugin switch
            proc = subprocess.run(  # noqa: S603
                cmd[:-2], cwd=root, env=env, capture_output=True, text=True, check=False
            )
        items = (
            json.loads(Path(out).read_text(encoding="utf-8"))["items"] if Path(out).exists() else []
        )
        errors_file = Path(out + ".errors")
        errors = errors_file.read_text(encoding="utf-8").split() if errors_file.exists() else []
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        return items, errors, tail


def short(name: str) -> str:
    return name.split("[", 1)[0]


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def examples(nodeids: list[str], width: int = 110) -> str:
    """The first few distinct test names, clipped, with a count of the others."""
    names = list(dict.fromkeys(short(n.rsplit("::", 1)[-1]) for n in nodeids))
    shown = [clip(n, 32) for n in names[:EXAMPLES]]
    text = ", ".join(shown)
    if len(names) > EXAMPLES:
        text += f", … (+{len(names) - EXAMPLES})"
    return clip(text, width)


def render_table(rows: list[tuple[str, str, str, str]], headers: tuple[str, ...]) -> str:
    widths = [max(len(headers[i]), *(len(r[i]) for r in rows)) for i in range(len(headers))]
    widths[-1] = len(headers[-1])  # the last column is free width
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()
    sep = "  ".join("-" * w for w in widths)
    body = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join([line, sep, *body])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--domain", help="path of DOMAIN.md (default: MEDVIGIL_DOMAIN_MD or ../shared/DOMAIN.md)"
    )
    parser.add_argument(
        "--fail-under-coverage",
        type=float,
        default=None,
        metavar="PCT",
        help="exit 1 if fewer than PCT%% of the requirements have a test",
    )
    args = parser.parse_args(argv)
    root = repo_root()
    path = Path(args.domain) if args.domain else domain_path(root)
    if not path.is_file():
        print(
            f"trace: requirements file not found at {path}. Set MEDVIGIL_DOMAIN_MD to the path "
            "of DOMAIN.md to see which requirements have tests."
        )
        return 0
    reqs = parse_requirements(path.read_text(encoding="utf-8"))
    if not reqs:
        print(f"trace: no requirement IDs (lines like '- PLAT-1 ...') found in {path}.")
        return 0
    items, errors, tail = collect(root)
    known = list(reqs)
    by_req: dict[str, list[str]] = defaultdict(list)
    unknown: dict[str, list[str]] = defaultdict(list)
    for item in items:
        ids = set(item["ids"]) | ids_in_name(item["name"], known)
        for rid in ids:
            (by_req if rid in reqs else unknown)[rid].append(item["nodeid"])

    rows = []
    for rid, title in reqs.items():
        nodes = by_req.get(rid, [])
        rows.append((rid, clip(title, 40), str(len(nodes)), examples(nodes)))
    print(f"Requirements: {path}")
    print(f"Tests collected: {len(items)}\n")
    print(render_table(rows, ("requirement", "title", "tests", "test names (first few)")))
    missing = [rid for rid in reqs if not by_req.get(rid)]
    covered = len(reqs) - len(missing)
    pct = 100.0 * covered / len(reqs)
    print(f"\n{covered} of {len(reqs)} requirements have at least one test ({pct:.0f}%).")
    if missing:
        print(f"\nRequirements with no tests ({len(missing)}):")
        print("  " + " ".join(missing))
    if unknown:
        print("\nIDs cited by tests but not defined in DOMAIN.md:")
        for rid, nodes in sorted(unknown.items()):
            print(f"  {rid}: {', '.join(nodes[:EXAMPLES])}")
    if errors:
        print(
            f"\nWarning: {len(errors)} test module(s) could not be collected "
            "(their tests are not counted):"
        )
        for e in errors:
            print(f"  {e}")
    if not items:
        print("\nWarning: pytest collected no tests. Its output ends with:\n" + tail)
    if args.fail_under_coverage is not None and pct < args.fail_under_coverage:
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # `... | head`
        sys.exit(0)
