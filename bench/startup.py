"""Start-up: `aurora --help` and a cold lexical `aurora search`, against `python -c "import typer"`.

    python bench/startup.py [--runs 15]

Indexes the stdlib corpus (bench/corpus.py) first if needed. Every command is a new
process; the commands run round-robin (each round runs every one, the search with the
next of 5 queries) so that a slower period of a shared machine weighs on all rows
alike, from a neutral folder (a stdlib copy as the current folder would shadow the
real standard library for `python -c`).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from corpus import ensure_corpus
from measure import AURORA, CODE_QUERIES, arguments, median, run_once, save


def main() -> None:
    """Measure and print the start-up table."""
    args = arguments(__doc__.splitlines()[0], runs=15).parse_args()
    corpus = ensure_corpus(args.corpus)
    if not (corpus / ".aurora").is_dir():
        subprocess.run([AURORA, "index", "-q", str(corpus)], check=True)
    neutral = Path(tempfile.mkdtemp())
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        'python -c "import typer"': [sys.executable, "-c", "import typer"],
        "aurora --help": [AURORA, "--help"],
        "aurora plugins list": [AURORA, "plugins", "list"],
    }
    # --mode lexical: another bench (embedding.py --packages all) may leave vectors in the corpus's index
    searches = [[AURORA, "search", query, "--mode", "lexical", "--root", str(corpus)] for query in CODE_QUERIES[:5]]
    rows: dict[str, list[tuple[float, int]]] = {name: [] for name in [*commands, "aurora search (cold, lexical)"]}
    for command in [*commands.values(), *searches]:  # warm-up: file caches, .pyc files
        run_once(command, neutral)
    for round_number in range(args.runs):  # round-robin, so that drift affects every row alike
        for name, command in commands.items():
            rows[name].append(run_once(command, neutral))
        rows["aurora search (cold, lexical)"].append(run_once(searches[round_number % len(searches)], neutral))
    baseline = median([wall for wall, _ in rows['python -c "import typer"']])
    table = {}
    print("| command | median wall (s) | x import typer | peak RSS (MB) | runs |\n|---|---|---|---|---|")
    for name, measured in rows.items():
        wall = median([w for w, _ in measured])
        rss = max(r for _, r in measured)
        table[name] = {
            "median_s": round(wall, 4),
            "ratio": round(wall / baseline, 2),
            "peak_rss_mb": rss,
            "runs": len(measured),
        }
        print(f"| `{name}` | {wall:.3f} | {wall / baseline:.2f} | {rss} | {len(measured)} |")
    print(f"\nsaved {save('startup', {'rows': table}, args.results)}")


if __name__ == "__main__":
    main()
