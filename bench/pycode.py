"""Code search on a Python set built here: docstring -> function, from installed PyPI packages, docstrings removed.

    python bench/pycode.py [--packages a,b] [--per-package N] [--out DIR] [--backend NAME] [--stores DIR]
                           [--generate-only]

Like CoSQA, but from real packages: each package's .py sources (from this interpreter's
site-packages, never the standard library) are copied to OUT/repos/<package>/ with every
module, class and function docstring removed, and each function or method whose
docstring opens with a sentence of at least four words becomes a query (that sentence)
whose target is the function's lines in the stripped file (``def`` line to end), category
"semantic". Dunder methods are left out, and so is a sentence that documents several
functions of a package; at most N queries per package are kept, drawn with a fixed seed.
OUT (default bench/corpus/pycode) is a set in the codesearch format, rewritten on every
run, so ``aurora eval OUT`` reads it as it is; OUT/PROVENANCE.json records the versions.

The set is then scored in this process with the lexical pipeline, with and without the
reranker, and with --backend, the hybrid pipeline of that embedder with and without it.
The two variants of a pipeline share one index (the reranker works at query time), so
the second one's index time is that of a no-change run; --stores keeps the indexes for
the next run (the embeddings are the slow part). Prints a Markdown table and
writes bench/results/pycode[-BACKEND].json.
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata
import importlib.util
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from codesearch import HYBRID, LEXICAL, checksums, revision
from measure import NO_RERANKER, RESULTS, save

import aurora
from aurora.cli.progress import Progress
from aurora.evaluation.codesearch import CodesearchReport, evaluate

DEFAULT_OUT = Path(__file__).resolve().parent / "corpus" / "pycode"
#: Import names of pure-Python packages with real docstrings (installed with Aurora or its tools).
PACKAGES = ("click", "jinja2", "requests", "pluggy", "attr", "httpx")
PER_PACKAGE = 150
SEED = 11
MIN_WORDS = 4
GENERATOR = "bench/pycode.py"

#: A Sphinx role such as :func:`~pkg.name` (its text kept) and what ends a sentence (not "e.g." or "i.e.").
ROLE = re.compile(r":[\w:.-]+:`~?!?([^`]*)`")
SENTENCE_END = re.compile(r"(?<!e\.g\.)(?<!i\.e\.)(?<=[.!?])\s+")


# --- removing docstrings ---------------------------------------------------------------


def strip_docstrings(source: bytes) -> bytes:
    """Return ``source`` without its module, class and function docstrings; the rest keeps its bytes.

    A docstring on lines of its own loses those lines (a body left empty gets a ``pass``
    there); one that shares a line with code is replaced by ``pass`` in place. Repeated
    until no docstring is left (a bare string after a docstring becomes the next one).
    """
    while owners := [node for node in ast.walk(ast.parse(source)) if _docstring(node) is not None]:
        lines = source.splitlines(keepends=True)
        for owner in sorted(owners, key=lambda node: _docstring(node).lineno, reverse=True):
            _remove(lines, owner)
        source = b"".join(lines)
    return source


def _docstring(node: ast.AST) -> ast.Expr | None:
    """Return the docstring statement of a module, class or function, None if it has none."""
    if not isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) or not node.body:
        return None
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return first
    return None


def _remove(lines: list[bytes], owner: ast.AST) -> None:
    """Remove ``owner``'s docstring from ``lines`` (a file's lines, line endings kept), in place."""
    expr = _docstring(owner)
    first, last = expr.lineno - 1, expr.end_lineno - 1
    before, after = lines[first][: expr.col_offset], lines[last][expr.end_col_offset :]
    if before.strip() or after.strip()[:1] not in (b"", b"#"):
        lines[first : last + 1] = [before + b"pass" + after]
    elif isinstance(owner, ast.Module) or len(owner.body) > 1:
        del lines[first : last + 1]
    else:
        ending = lines[last][len(lines[last].rstrip(b"\r\n")) :]
        lines[first : last + 1] = [before + b"pass" + ending]


# --- queries ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Documented:
    """A function of a stripped file with the first sentence of the docstring it had."""

    path: str
    name: str
    start_line: int
    end_line: int
    sentence: str


def first_sentence(docstring: str) -> str | None:
    """Return the docstring's first sentence as a query (roles and backquotes dropped), None if under four words."""
    paragraph = " ".join(docstring.strip().split("\n\n")[0].split())
    if paragraph.startswith((":", "..", ">>>")):
        return None
    text = ROLE.sub(r"\1", paragraph).replace("`", "")
    sentence = SENTENCE_END.split(text, maxsplit=1)[0].rstrip(".:")
    return sentence if len(sentence.split()) >= MIN_WORDS else None


def documented_functions(path: str, source: bytes, stripped: bytes) -> list[Documented]:
    """Return the functions of ``source`` (dunders aside) with a usable docstring, placed in ``stripped``."""
    before, after = (_functions(ast.parse(text)) for text in (source, stripped))
    if [node.name for node in before] != [node.name for node in after]:
        raise RuntimeError(f"{path}: removing docstrings changed the functions")
    found = []
    for original, function in zip(before, after, strict=True):
        docstring = ast.get_docstring(original)
        if docstring is None or (function.name.startswith("__") and function.name.endswith("__")):
            continue
        sentence = first_sentence(docstring)
        if sentence is not None:
            found.append(Documented(path, function.name, function.lineno, function.end_lineno, sentence))
    return found


def _functions(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]


def select_queries(found: list[Documented], per_package: int, seed: int) -> list[Documented]:
    """Drop sentences that document several functions; draw at most ``per_package`` with ``seed``, in file order."""
    counts: dict[str, int] = {}
    for item in found:
        counts[item.sentence] = counts.get(item.sentence, 0) + 1
    unique = sorted((item for item in found if counts[item.sentence] == 1), key=lambda i: (i.path, i.start_line))
    drawn = random.Random(seed).sample(unique, min(per_package, len(unique)))
    return sorted(drawn, key=lambda item: (item.path, item.start_line))


def annotation(item: Documented) -> dict[str, Any]:
    """Return ``item`` as a query of an annotations file."""
    target = {"path": item.path, "start_line": item.start_line, "end_line": item.end_line}
    return {"query": item.sentence, "relevant": [target], "secondary": [], "category": "semantic"}


# --- generating the set ----------------------------------------------------------------


class Package(NamedTuple):
    """A package to draw from: its import name, its folder and the distribution that installed it."""

    name: str
    folder: Path
    distribution: str
    version: str


def installed(name: str) -> Package:
    """Return the installed package ``name``, refusing a module, the standard library and editable installs."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{name}: not an installed package")
    folder = Path(next(iter(spec.submodule_search_locations)))
    if "site-packages" not in folder.parts:
        raise SystemExit(f"{name}: {folder} is not in site-packages")
    distribution = importlib.metadata.packages_distributions().get(name, [name])[0]
    return Package(name, folder, distribution, importlib.metadata.version(distribution))


def build_package(top: Path, dest: Path) -> tuple[list[Documented], list[str]]:
    """Copy ``top``'s .py files, docstrings removed, to ``dest``/<top's name>/; return its documented functions.

    Files this Python cannot parse are left out and returned second.
    """
    found, unparsed = [], []
    for file in sorted(top.rglob("*.py")):
        relative = file.relative_to(top.parent).as_posix()
        source = file.read_bytes()
        try:
            stripped = strip_docstrings(source)
        except SyntaxError:
            unparsed.append(relative)
            continue
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(stripped)
        found += documented_functions(relative, source, stripped)
    return found, unparsed


def generate(out: Path, packages: list[Package], per_package: int, seed: int) -> dict[str, Any]:
    """Write the set to ``out`` (replacing a set this script wrote there) and return its provenance."""
    if out.exists() and not _generated(out):
        raise SystemExit(f"{out} exists and is not a set written by {GENERATOR}; not replacing it")
    staging = out.with_name(out.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "annotations").mkdir(parents=True)
    provenance: dict[str, Any] = {
        "generator": GENERATOR,
        "python": sys.version.split()[0],
        "seed": seed,
        "per_package": per_package,
        "min_words": MIN_WORDS,
        "packages": {},
    }
    for package in packages:
        found, unparsed = build_package(package.folder, staging / "repos" / package.name)
        queries = select_queries(found, per_package, seed)
        text = json.dumps([annotation(item) for item in queries], indent=1) + "\n"
        (staging / "annotations" / f"{package.name}.json").write_text(text, encoding="utf-8")
        provenance["packages"][package.name] = {
            "distribution": package.distribution,
            "version": package.version,
            "files": sum(1 for _ in (staging / "repos" / package.name).rglob("*.py")),
            "documented_functions": len(found),
            "queries": len(queries),
            "unparsed_files": unparsed,
        }
    specs = [{"name": package.name, "language": "python", "benchmark_root": None} for package in packages]
    (staging / "repos.json").write_text(json.dumps(specs, indent=1) + "\n", encoding="utf-8")
    (staging / "PROVENANCE.json").write_text(json.dumps(provenance, indent=1) + "\n", encoding="utf-8")
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return provenance


def _generated(folder: Path) -> bool:
    """Return whether ``folder`` holds a set this script wrote."""
    try:
        return json.loads((folder / "PROVENANCE.json").read_text(encoding="utf-8")).get("generator") == GENERATOR
    except (OSError, ValueError, AttributeError):
        return False


# --- scoring ---------------------------------------------------------------------------


def variants(backend: str | None) -> dict[str, tuple[str, str | None]]:
    """Return each variant's pipeline configuration and embedder backend (None: lexical)."""
    chosen = {"lexical, reranked": (LEXICAL, None), "lexical, no reranker": (LEXICAL + NO_RERANKER, None)}
    if backend:
        chosen[f"hybrid {backend}, reranked"] = (HYBRID, backend)
        chosen[f"hybrid {backend}, no reranker"] = (HYBRID + NO_RERANKER, backend)
    return chosen


def score(data: Path, config: str, backend: str | None, stores: Path) -> CodesearchReport:
    """Evaluate the set at ``data`` with the pipeline ``config`` (and ``backend``), indexes kept in ``stores``."""
    with tempfile.TemporaryDirectory(prefix="aurora-bench-pycode-") as project:
        (Path(project) / "aurora.toml").write_text(config, encoding="utf-8")
        opened = aurora.open(project)
        pipeline = opened.pipeline(backend=backend)
        return evaluate(data, opened.config, pipeline, opened.host, None, Progress.for_terminal(), store_dir=stores)


def markdown(reports: dict[str, CodesearchReport]) -> str:
    """Return the overall table (one row per variant) and the chunk-level scores per package, in Markdown."""
    lines = [
        "| variant | nDCG@10 chunk | nDCG@10 file | queries | index (s) | query p50 (ms) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, report in reports.items():
        document = report.to_dict()
        overall = document["overall"]
        lines.append(
            f"| {name} | {overall['ndcg_at_10']['chunk']:.3f} | {overall['ndcg_at_10']['file']:.3f} | "
            f"{overall['queries']:,} | {document['index_s']:.1f} | {document['latency_p50_ms']:.1f} |"
        )
    packages = list(next(iter(reports.values())).to_dict()["per_repo"])
    lines += ["", "| nDCG@10 chunk | " + " | ".join(packages) + " |", "|---|" + "---:|" * len(packages)]
    for name, report in reports.items():
        per_repo = report.to_dict()["per_repo"]
        lines.append(f"| {name} | " + " | ".join(f"{per_repo[p]['ndcg_at_10']['chunk']:.3f}" for p in packages) + " |")
    return "\n".join(lines)


def main() -> None:
    """Generate the set, score every variant on it and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", default=",".join(PACKAGES), help="comma-separated import names")
    parser.add_argument("--per-package", type=int, default=PER_PACKAGE, help="most queries per package")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the set")
    parser.add_argument("--backend", help="embedder plugin for the hybrid variants (default: lexical only)")
    parser.add_argument("--stores", type=Path, help="keep the indexes here and reuse them (default: none)")
    parser.add_argument("--generate-only", action="store_true", help="write the set and stop")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    packages = [installed(name) for name in args.packages.split(",")]
    provenance = generate(args.out.resolve(), packages, args.per_package, args.seed)
    for name, entry in provenance["packages"].items():
        print(f"{name} {entry['version']}: {entry['files']} files, {entry['queries']} queries")
    if args.generate_only:
        return
    started = time.perf_counter()
    reports, configs = {}, {}
    with tempfile.TemporaryDirectory(prefix="aurora-bench-pycode-") as scratch:
        os.environ["XDG_CONFIG_HOME"] = str(Path(scratch) / "config")  # no user configuration
        stores = args.stores.resolve() if args.stores else Path(scratch)
        for name, (config, backend) in variants(args.backend).items():
            reports[name] = score(args.out.resolve(), config, backend, stores / (backend or "lexical"))
            configs[name] = config
    wall_s = time.perf_counter() - started
    table = markdown(reports)
    print(table)
    print(f"\nwall time {wall_s:.0f} s")
    document = {
        "command": sys.argv,
        "aurora": revision(),
        "data": {"folder": str(args.out), "sha256": checksums(args.out), "provenance": provenance},
        "wall_s": round(wall_s, 1),
        "markdown": table,
        "variants": {name: {"config": configs[name], "report": report.to_dict()} for name, report in reports.items()},
    }
    print(f"saved {save('pycode' + (f'-{args.backend}' if args.backend else ''), document, args.results)}")


if __name__ == "__main__":
    main()
