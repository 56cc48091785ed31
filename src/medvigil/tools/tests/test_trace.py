"""`make trace`: requirement IDs from DOMAIN.md, matched with the tests that cite them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from medvigil.tools import trace

pytestmark = pytest.mark.req("PLAT-1")  # the tooling that proves the requirements are tested

DOMAIN = """# Brief
### PLAT — platform
- PLAT-1 Users, departments and roles.
- PLAT-2 Audit trail: every change.
- **FBK-10** Quarterly analysis
Text that mentions PLAT-9 in passing is not a requirement.
"""


def test_requirement_ids_and_titles_are_parsed_in_document_order():
    reqs = trace.parse_requirements(DOMAIN)
    assert list(reqs) == ["PLAT-1", "PLAT-2", "FBK-10"]
    assert reqs["PLAT-2"] == "Audit trail: every change."


def test_ids_written_in_test_names_are_recognised_without_prefix_collisions():
    known = ["FBK-1", "FBK-10", "PLAT-1"]
    assert trace.ids_in_name("test_fbk_10_quarterly", known) == {"FBK-10"}
    assert trace.ids_in_name("test_FBK1_intake", known) == {"FBK-1"}
    assert trace.ids_in_name("test_platform_1", known) == set()


def test_missing_domain_file_prints_a_clear_message_and_exits_0(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MEDVIGIL_DOMAIN_MD", str(tmp_path / "nope.md"))
    assert trace.main([]) == 0
    assert "requirements file not found" in capsys.readouterr().out


def test_table_counts_marked_tests_and_lists_requirements_without_tests(tmp_path):
    """End to end on a throw-away project: markers on functions, classes and pytestmark,
    parametrized cases, an ID in a test name, an unknown ID, a module that fails to import."""
    root = Path(trace.__file__).resolve().parents[3]
    proj = tmp_path / "proj"
    (proj / "src" / "medvigil").mkdir(parents=True)
    (proj / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nmarkers = ["req(*ids): ids"]\n'
        'python_files = ["test_*.py"]\naddopts = "-p no:django -p no:cacheprovider"\n'
    )
    (proj / "test_a.py").write_text(
        "import pytest\n"
        "pytestmark = pytest.mark.req('PLAT-2')\n"
        "@pytest.mark.req('PLAT-1')\n"
        "@pytest.mark.parametrize('x', [1, 2])\n"
        "def test_one(x): pass\n"
        "class TestGroup:\n"
        "    pytestmark = pytest.mark.req('ZZZ-9')\n"
        "    def test_two(self): pass\n"
        "def test_fbk_10_named(): pass\n"
    )
    (proj / "test_broken.py").write_text("import no_such_module_here\n")
    domain = tmp_path / "DOMAIN.md"
    domain.write_text(DOMAIN + "- TRC-1 Products\n")
    env = {
        **os.environ,
        "MEDVIGIL_DOMAIN_MD": str(domain),
        "PYTHONPATH": str(root / "src"),
    }
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from medvigil.tools import trace; "
            "trace.repo_root = lambda: __import__('pathlib').Path(sys.argv[1]); "
            "sys.exit(trace.main([]))",
            str(proj),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=proj,
    ).stdout
    lines = {line.split()[0]: line for line in out.splitlines() if line[:1].isupper()}
    assert " 2 " in lines["PLAT-1"] and "test_one" in lines["PLAT-1"]
    assert " 4 " in lines["PLAT-2"]  # every test of the module
    assert " 1 " in lines["FBK-10"] and "test_fbk_10_named" in lines["FBK-10"]
    assert "Requirements with no tests (1):" in out and "TRC-1" in out.split("no tests")[1]
    assert "ZZZ-9" in out.split("not defined in DOMAIN.md")[1]
    assert "could not be collected" in out and "test_broken.py" in out
