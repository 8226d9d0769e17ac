"""Start-up: `aurora --help` and a cold lexical `aurora search`, against `python -c "import typer"`.

    python bench/startup.py [--runs 15]

Indexes the stdlib corpus (bench/corpus.py) first if needed. Every command is a new
process; the baseline runs in the same session, from a neutral folder (a stdlib copy
as the current folder would shadow the real standard library for `python -c`).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from corpus import ensure_corpus
from measure import AURORA, CODE_QUERIES, arguments, median, runs, save


def main() -> None:
    """Measure and print the start-up table."""
    args = arguments(__doc__.splitlines()[0], runs=15).parse_args()
    corpus = ensure_corpus(args.corpus)
    if not (corpus / ".aurora").is_dir():
        subprocess.run([AURORA, "index", "-q", str(corpus)], check=True)
    neutral = Path(tempfile.mkdtemp())
    rows = {
        "python -c pass": runs([sys.executable, "-c", "pass"], args.runs, neutral),
        'python -c "import typer"': runs([sys.executable, "-c", "import typer"], args.runs, neutral),
        "aurora --help": runs([AURORA, "--help"], args.runs, neutral),
        "aurora plugins list": runs([AURORA, "plugins", "list"], args.runs, neutral),
    }
    searches = []
    queries = CODE_QUERIES[:5]
    for query in queries:
        searches += runs([AURORA, "search", query, "-C", str(corpus)], max(1, args.runs // len(queries)) + 1, neutral)
    rows["aurora search (cold, lexical)"] = searches
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
