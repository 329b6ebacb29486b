"""Rules that users write: --rules, reviewbot.rulesPath, .reviewbot/rules/, `rules test`,
and a second rule that reads right in every output format (no words of the built-in rule)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from gitenv import git
from typer.testing import CliRunner

from reviewbot.cli.app import app
from reviewbot.model.errors import RuleError
from reviewbot.rules.spec import builtin_rules, combine, load_rule_file, load_rules, select

RULES = Path(__file__).parent / "rules"
ITEM_LOCK = RULES / "item-lock.toml"
PACKAGE = Path(__file__).parent.parent / "reviewbot"
# The built-in rule's domain words: they belong in queries/*.toml, never in the engine.
DOMAIN = re.compile(r"uffd|\bPTEs?\b|\bscan\b|isolate|khugepaged", re.IGNORECASE)
UFFD_WORDS = re.compile(
    r"uffd|\bPTEs?\b|khugepaged|\bVMAs?\b", re.IGNORECASE
)  # not the vma_level key

LOCKED_CONTINUE = b"""
static int drain_items(struct item *items, int n)
{
\tstruct item *it;

\tfor (it = items; it < items + n; it++) {
\t\tstruct item cur = item_get(it);
\t\tif (item_locked(cur))
\t\t\tcontinue;
\t\tconsume(cur);
\t}
\treturn 0;
}
"""

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def _string_literals(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string literal that is not a docstring (f-string parts included)."""
    tree = ast.parse(path.read_text("utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


@pytest.mark.slow
def test_no_domain_words_in_engine_strings():
    # demo.py is the bundled kernel-shaped sample history: data, like queries/.
    hits = [
        f"{p.relative_to(PACKAGE)}:{line}: {text!r}"
        for p in sorted(PACKAGE.rglob("*.py"))
        if "queries" not in p.parts and p.name != "demo.py"
        for line, text in _string_literals(p)
        if DOMAIN.search(text)
    ]
    assert hits == []


def test_the_word_scan_finds_what_it_should():
    # The detector itself: a literal with a domain word is caught, a docstring is not.
    assert DOMAIN.search("the next PTE") and DOMAIN.search("uffd-wp guard")
    assert not DOMAIN.search("the next item")


@pytest.fixture
def items_tree(tmp_path, monkeypatch):
    src = tmp_path / "lib" / "items.c"
    src.parent.mkdir()
    src.write_bytes(LOCKED_CONTINUE)
    monkeypatch.chdir(tmp_path)
    return src


def test_second_rule_text_output_reads_in_its_own_words(items_tree):
    r = run("check", str(items_tree), "--rules", str(ITEM_LOCK), "--rule", "item-lock")
    assert r.exit_code == 1, r.output
    assert "continue goes to the next item" in r.stdout
    assert "item-lock" in r.stdout and "drain" in r.stdout
    assert not UFFD_WORDS.search(r.stdout)


def test_second_rule_json_and_sarif_output(items_tree):
    r = run(
        "check", str(items_tree), "--rules", str(ITEM_LOCK), "--rule", "item-lock", "-f", "json"
    )
    assert r.exit_code == 1
    (res,) = json.loads(r.stdout)["results"]
    assert res["rule"] == "item-lock" and [c["id"] for c in res["checks"]] == ["drain"]
    assert "next item" in res["checks"][0]["message"]
    assert not UFFD_WORDS.search(r.stdout)
    r = run(
        "check", str(items_tree), "--rules", str(ITEM_LOCK), "--rule", "item-lock", "-f", "sarif"
    )
    doc = json.loads(r.stdout)
    (desc,) = doc["runs"][0]["tool"]["driver"]["rules"]
    assert desc["id"] == "item-lock/drain" and desc["properties"]["tags"] == ["items"]
    assert [x["ruleId"] for x in doc["runs"][0]["results"]] == ["item-lock/drain"]
    assert not UFFD_WORDS.search(r.stdout)


def test_second_rule_sweep_md_and_html(tmp_path):
    repo = tmp_path / "items"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "lib").mkdir()
    (repo / "lib" / "items.c").write_bytes(LOCKED_CONTINUE)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "items")
    git(repo, "tag", "v6.1")
    common = ["sweep", "--repo", str(repo), "--rules", str(ITEM_LOCK), "--rule", "item-lock"]
    md = run(*common, "-f", "md")
    assert md.exit_code == 1, md.output
    assert "drain" in md.stdout and "v6.1" in md.stdout
    assert not UFFD_WORDS.search(md.stdout)
    html = run(*common, "-f", "html")
    assert html.exit_code == 1 and "<html" in html.stdout.lower()
    assert "drain" in html.stdout
    assert not re.search(r"uffd|khugepaged|\bPTE", html.stdout, re.IGNORECASE)


def test_rules_test_passes_for_builtin_and_second_rule():
    r = run("rules", "test", "--rules", str(RULES))
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert sum(line.startswith("ok ") for line in lines) == len(lines) >= 6
    assert any("item-lock: continue skips a locked item" in line for line in lines)
    assert "6 examples, 0 failed" in r.stderr


def test_rules_test_fails_on_a_wrong_expectation(tmp_path):
    text = ITEM_LOCK.read_text().replace(
        'expect = { drain = "present" }', 'expect = { drain = "missing" }'
    )
    (tmp_path / "item-lock.toml").write_text(text)
    (tmp_path / "item-lock").mkdir()
    (tmp_path / "item-lock" / "continue.c").write_bytes(
        (RULES / "item-lock" / "continue.c").read_bytes()
    )
    r = run("rules", "test", "--rules", str(tmp_path), "--rule", "item-lock")
    assert r.exit_code == 1
    assert "FAIL item-lock: a locked item stops the drain" in r.stdout
    assert "drain: expected missing, got present" in r.stdout
    assert "2 examples, 1 failed" in r.stderr


def test_bad_rule_file_is_exit_2_naming_file_and_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(ITEM_LOCK.read_text().replace("entry_type =", "entry_typo ="))
    r = run("rules", "test", "--rules", str(bad))
    assert r.exit_code == 2
    assert str(bad) in r.stderr and "'entry_typo'" in r.stderr and "checks[0]" in r.stderr
    assert r.stdout == ""
    r = run("check", "x.c", "--rules", str(tmp_path / "nope.toml"))
    assert r.exit_code == 2 and "nope.toml does not exist" in r.stderr


@pytest.mark.parametrize(
    "edit, needle",
    [
        (('drain = "present"', 'drain = "gone"'), "tests[0].expect.drain: 'gone' is not a verdict"),
        (
            ('expect = { drain = "present" }', 'expect = { nope = "present" }'),
            "'nope' is not a check",
        ),
        (("version = 1", 'version = "one"'), "'version' must be an integer"),
        (('marked = "locked"', "marked = 3"), "vocabulary: 'marked' must be a string"),
        (('file = "item-lock/continue.c"', 'file = "missing.c"'), "missing.c"),
    ],
)
def test_rule_errors_name_file_and_key(tmp_path, edit, needle):
    (tmp_path / "r.toml").write_text(ITEM_LOCK.read_text().replace(*edit))
    with pytest.raises(RuleError) as e:
        load_rule_file(tmp_path / "r.toml")
    assert str(tmp_path / "r.toml") in str(e.value) or "missing.c" in str(e.value)
    assert needle in str(e.value)


def _renamed(tmp_path: Path, rule_id: str, overrides: bool = False) -> Path:
    text = ITEM_LOCK.read_text().replace('id = "item-lock"', f'id = "{rule_id}"')
    if overrides:
        text = text.replace("version = 1\n", "version = 1\noverrides = true\n")
    path = tmp_path / f"{rule_id}.toml"
    path.write_text(text)
    (tmp_path / "item-lock").mkdir(exist_ok=True)
    (tmp_path / "item-lock" / "continue.c").write_bytes(
        (RULES / "item-lock" / "continue.c").read_bytes()
    )
    return path


def test_user_rules_add_to_builtins_and_clash_unless_overriding(tmp_path):
    rules = combine(builtin_rules(), load_rules([ITEM_LOCK]))
    assert [r.id for r in rules] == ["item-lock", "khugepaged-uffd-wp", "khugepaged-uffd-wp-swap"]
    assert [r.id for r in select(rules, ["item-lock"])] == ["item-lock"]
    (tmp_path / "a").mkdir()
    clash = _renamed(tmp_path / "a", "khugepaged-uffd-wp")
    with pytest.raises(RuleError) as e:
        combine(builtin_rules(), load_rules([clash]))
    assert "is a built-in rule" in str(e.value) and str(clash) in str(e.value)
    (tmp_path / "b").mkdir()
    over = _renamed(tmp_path / "b", "khugepaged-uffd-wp", overrides=True)
    (rule,) = [
        r for r in combine(builtin_rules(), load_rules([over])) if r.id == "khugepaged-uffd-wp"
    ]
    assert rule.origin == str(over) and [c.id for c in rule.checks] == ["drain"]
    with pytest.raises(RuleError) as e:
        combine(builtin_rules(), load_rules([ITEM_LOCK, ITEM_LOCK]))
    assert "also defined in" in str(e.value)


def test_user_rules_cache_key_carries_the_file_digest(tmp_path):
    builtin = builtin_rules()[0]
    user = load_rule_file(ITEM_LOCK)
    assert builtin.cache_id == builtin.id
    assert user.cache_id.startswith("item-lock@") and len(user.cache_id) == len("item-lock@") + 12


def test_rules_from_git_config_and_repository_default(tmp_path, monkeypatch):
    repo = tmp_path / "linux"
    repo.mkdir()
    git(repo, "init", "-q")
    monkeypatch.chdir(repo)
    assert "item-lock" not in run("rules").stdout
    local = repo / ".reviewbot" / "rules"
    local.mkdir(parents=True)
    _renamed(local, "local-lock")
    out = run("rules").stdout
    assert "local-lock (version 1 from" in out
    _renamed(tmp_path, "config-lock")
    git(repo, "config", "reviewbot.rulesPath", str(tmp_path / "config-lock.toml"))
    out = run("rules").stdout
    assert "config-lock" in out and "local-lock" not in out  # the nearer setting replaces
    out = run("rules", "--rules", str(ITEM_LOCK)).stdout
    assert "item-lock" in out and "config-lock" not in out  # the flag wins


def test_hook_install_records_rules(tmp_path, monkeypatch):
    repo = tmp_path / "linux"
    repo.mkdir()
    git(repo, "init", "-q")
    r = run("hook", "install", "--repo", str(repo), "--rules", str(ITEM_LOCK))
    assert r.exit_code == 0, r.output
    script = (repo / ".git" / "hooks" / "pre-commit").read_text()
    assert f"--rules '{ITEM_LOCK.absolute()}'" in script
    assert "lib/items.c" in script  # the user rule's path is guarded too
    email = (repo / ".git" / "hooks" / "sendemail-validate").read_text()
    assert f"--rules '{ITEM_LOCK.absolute()}' \"$@\"" in email


@pytest.mark.slow
def test_installed_hook_runs_the_recorded_user_rule(tmp_path):
    repo = tmp_path / "items"
    (repo / "lib").mkdir(parents=True)
    git(repo, "init", "-q")
    guarded = LOCKED_CONTINUE.replace(b"continue;", b"return -EBUSY;")
    (repo / "lib" / "items.c").write_bytes(guarded)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "items")
    assert run("hook", "install", "--repo", str(repo), "--rules", str(ITEM_LOCK)).exit_code == 0
    (repo / "lib" / "items.c").write_bytes(LOCKED_CONTINUE)
    p = git(repo, "commit", "-qam", "drain on", check=False)
    assert p.returncode == 1
    assert (
        b"item-lock drain: the staged version loses the item-lock guard of drain_items()"
        in p.stderr
    )
    assert b"continue goes to the next item" in p.stderr and b"uffd" not in p.stderr
