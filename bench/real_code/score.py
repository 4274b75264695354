"""Score `lossguard check` on the labelled real-code set: recall per rule, precision, and every miss.

Run by hand (it needs the fetched snapshots under /work/.mirror; CI has no network):

    PYTHONPATH=$PWD python bench/real_code/score.py              # file mode: each labelled file alone
    PYTHONPATH=$PWD python bench/real_code/score.py --repos      # whole repositories, every finding listed
    PYTHONPATH=/work/main python bench/real_code/score.py --json /tmp/main.json   # score another checkout

Each manifest row names a file of a public repository at a commit. The script lays that commit out with `git archive`
into a cache folder and runs the checker there (cwd = repository root, so project imports resolve), with `--config`
pointing at an empty pyproject so the repository's own `[tool.lossguard]` cannot change what is reported.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_MIRROR = Path("/work/.mirror")
DEFAULT_CACHE = Path.home() / ".cache" / "lossguard-real-code"
COLUMNS = ["repo", "path", "commit", "label", "rule", "lines", "note"]
LABELS = ("positive", "negative")


class ManifestError(Exception):
    """A manifest row that cannot be scored; the message names the file and the row."""


@dataclass(frozen=True)
class Spot:
    """Where a finding belongs: a file of the repository, a notebook cell (1-based among all cells) or None, a line."""

    path: str
    cell: int | None
    line: int


@dataclass(frozen=True)
class Label:
    manifest: str
    row: int
    repo: str
    path: str
    commit: str
    label: str
    rule: str
    spots: tuple[Spot, ...]
    note: str


@dataclass(frozen=True)
class Hit:
    """One finding as the checker reported it (path relative to the repository root)."""

    code: str
    path: str
    cell: int | None
    line: int
    message: str

    @property
    def spot(self) -> Spot:
        return Spot(self.path, self.cell, self.line)

    def where(self) -> str:
        cell = f"cell {self.cell}:" if self.cell is not None else ""
        return f"{self.path}:{cell}{self.line}"


@dataclass
class CheckRun:
    """The checker's answer for one target: `ok`, or why there is no usable answer."""

    status: str  # ok | crash | timeout | unparsable | missing-snapshot | layout-failed
    hits: list[Hit] = field(default_factory=list)
    detail: str = ""
    seconds: float = 0.0


@dataclass
class Result:
    label: Label
    outcome: str  # found | missed | clean | false-positive | crash | timeout | unparsable | missing-snapshot | ...
    matching: list[Hit]
    others: list[Hit]
    detail: str = ""


# ---------------------------------------------------------------- manifest (pure)


def parse_spots(text: str, path: str) -> tuple[Spot, ...]:
    """`12`, `12;40` (lines of `path`), `3:7` (notebook cell 3, line 7), `pkg/utils.py:55` (a line of another file)."""
    spots = []
    for item in (part.strip() for part in text.split(";")):
        if not item:
            continue
        if item.isdigit():
            spots.append(Spot(path, None, int(item)))
            continue
        match = re.fullmatch(r"(\d+):(\d+)", item)
        if match:
            spots.append(Spot(path, int(match[1]), int(match[2])))
            continue
        match = re.fullmatch(r"(.+\.(?:py|ipynb)):(?:(\d+):)?(\d+)", item)
        if not match:
            raise ValueError(f"cannot read line item {item!r}")
        cell = int(match[2]) if match[2] else None
        spots.append(Spot(match[1], cell, int(match[3])))
    if not spots:
        raise ValueError("no line given")
    return tuple(spots)


def parse_manifest(path: Path) -> list[Label]:
    """The rows of one manifest, checked column by column; a bad row raises ManifestError naming it."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != COLUMNS:
            raise ManifestError(f"{path}: columns must be exactly {','.join(COLUMNS)} (found {reader.fieldnames})")
        labels = []
        for row_number, row in enumerate(reader, start=2):
            where = f"{path}:{row_number}"
            if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", row["repo"] or ""):
                raise ManifestError(f"{where}: repo must be owner/name, not {row['repo']!r}")
            if not re.fullmatch(r"[0-9a-f]{40}", row["commit"] or ""):
                raise ManifestError(f"{where}: commit must be 40 hex digits")
            if row["label"] not in LABELS:
                raise ManifestError(f"{where}: label must be positive or negative, not {row['label']!r}")
            if not re.fullmatch(r"LG\d{3}", row["rule"] or ""):
                raise ManifestError(f"{where}: rule must be a code like LG101, not {row['rule']!r}")
            if not (row["path"] or "").endswith((".py", ".ipynb")):
                raise ManifestError(f"{where}: path must be a .py or .ipynb file")
            try:
                spots = parse_spots(row["lines"] or "", row["path"])
            except ValueError as error:
                raise ManifestError(f"{where}: lines: {error}") from None
            labels.append(
                Label(str(path), row_number, row["repo"], row["path"], row["commit"], row["label"], row["rule"],
                      spots, (row["note"] or "").strip())
            )
        return labels


# ---------------------------------------------------------------- matching (pure)


def same_spot(hit: Hit, spot: Spot) -> bool:
    return hit.path == spot.path and hit.line == spot.line and (spot.cell is None or hit.cell == spot.cell)


def judge(label: Label, run: CheckRun) -> Result:
    """A positive is found when a finding of its rule sits at one of its spots; a negative is clean when its file has
    no finding at all (and none of its spots elsewhere has one)."""
    if run.status != "ok":
        return Result(label, run.status, [], [], run.detail)
    files = {label.path} | {spot.path for spot in label.spots}
    in_scope = [hit for hit in run.hits if hit.path in files]
    if label.label == "positive":
        matching = [hit for hit in in_scope if hit.code == label.rule and any(same_spot(hit, s) for s in label.spots)]
        others = [hit for hit in in_scope if hit not in matching]
        return Result(label, "found" if matching else "missed", matching, others)
    on_negative = [hit for hit in in_scope if hit.path == label.path or any(same_spot(hit, s) for s in label.spots)]
    return Result(label, "false-positive" if on_negative else "clean", on_negative, [])


def unlabelled(results: list[Result], labels: list[Label]) -> list[tuple[Label, Hit]]:
    """Findings on positive files that match no positive of the set (another file's label, or the same line with its
    own rule), including other rules at a labelled line, which may be a second real pitfall: a person judges them."""
    labelled = [(lab.repo, lab.rule, spot) for lab in labels if lab.label == "positive" for spot in lab.spots]
    seen: set[tuple[str, Hit]] = set()
    out = []
    for result in results:
        for hit in result.others:
            key = (result.label.repo, hit)
            if key in seen or any(repo == result.label.repo and rule == hit.code and same_spot(hit, s)
                                  for repo, rule, s in labelled):
                continue
            seen.add(key)
            out.append((result.label, hit))
    return out


# ---------------------------------------------------------------- snapshots and layout


def find_git_dir(mirror: Path, repo: str) -> Path | None:
    """The git directory of the fetched snapshot of `repo` (a folder named owner+name..., bare or with .git)."""
    prefix = repo.replace("/", "+")
    if not mirror.is_dir():
        return None
    folders = sorted(d for d in mirror.iterdir() if d.is_dir() and d.name.lower().startswith(prefix.lower()))
    folders.sort(key=lambda d: d.name.lower() != prefix.lower())  # the exact name first
    for folder in folders:
        for candidate in (folder / "repo" / ".git", folder / "repo", folder / ".git", folder):
            if (candidate / "HEAD").is_file() and (candidate / "objects").is_dir():
                return candidate
    return None


def lay_out(git_dir: Path, repo: str, commit: str, cache: Path) -> Path:
    """The commit's tree as plain files under the cache, extracted once and reused."""
    target = cache / f"{repo.replace('/', '+')}-{commit[:12]}"
    if (target / ".lossguard-layout-complete").is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=cache))
    try:
        archive = subprocess.run(["git", "--git-dir", str(git_dir), "archive", "--format=tar", commit],
                                 capture_output=True, check=False)
        if archive.returncode == 0:
            untar = subprocess.run(["tar", "-x", "-C", str(staging)], input=archive.stdout, capture_output=True,
                                   check=False)
            if untar.returncode != 0:
                raise RuntimeError(untar.stderr.decode(errors="replace").strip() or "tar failed")
        else:  # snapshots lack their largest blobs, and git archive stops at the first missing one
            extract_present_blobs(git_dir, commit, staging)
        (staging / ".lossguard-layout-complete").write_text(commit + "\n")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def extract_present_blobs(git_dir: Path, commit: str, into: Path) -> None:
    """Write every file of the commit whose blob the snapshot holds (one `git cat-file --batch` for all of them)."""
    listing = subprocess.run(["git", "--git-dir", str(git_dir), "ls-tree", "-r", "-z", commit],
                             capture_output=True, check=False)
    if listing.returncode != 0:
        raise RuntimeError(listing.stderr.decode(errors="replace").strip() or f"no commit {commit}")
    entries = []
    for record in listing.stdout.split(b"\0"):
        if not record:
            continue
        meta, _, name = record.partition(b"\t")
        mode, kind, sha = meta.split()
        if kind == b"blob" and mode != b"120000":
            entries.append((sha.decode(), name.decode("utf-8", errors="surrogateescape")))
    batch = subprocess.run(["git", "--git-dir", str(git_dir), "cat-file", "--batch"],
                           input="".join(sha + "\n" for sha, _ in entries).encode(), capture_output=True, check=False)
    data, offset = batch.stdout, 0
    for sha, name in entries:
        end = data.index(b"\n", offset)
        header = data[offset:end].split()
        offset = end + 1
        if len(header) < 3 or header[1] == b"missing":
            continue
        size = int(header[2])
        target = into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data[offset:offset + size])
        offset += size + 1


def empty_config(cache: Path) -> Path:
    """A pyproject.toml without [tool.lossguard]: passed with --config so no repository configuration applies."""
    folder = cache / "empty-config"
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "pyproject.toml"
    if not config.is_file():
        config.write_text('[project]\nname = "lossguard-real-code-empty-config"\n')
    return config


# ---------------------------------------------------------------- running the checker


def python_syntax_error(file: Path) -> str | None:
    """Why a .py file cannot be parsed by Python 3 (the checker then reports nothing), or None."""
    if file.suffix != ".py":
        return None
    try:
        ast.parse(file.read_bytes(), filename=str(file))
    except SyntaxError as error:
        return f"Python 3 cannot parse it (line {error.lineno}: {error.msg})"
    except (ValueError, OSError) as error:
        return f"cannot read it ({error})"
    return None


def run_checker(command: list[str], root: Path, target: str, config: Path, timeout: float) -> CheckRun:
    """`lossguard check --format json` on `target` with cwd `root`; every failure becomes a status, never an exception."""
    args = [*command, "check", "--format", "json", "--exit-zero", "--config", str(config), target]
    started = time.perf_counter()
    try:
        proc = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return CheckRun("timeout", detail=f"over {timeout:g} s", seconds=time.perf_counter() - started)
    except OSError as error:
        return CheckRun("crash", detail=f"cannot start the checker: {error}")
    seconds = time.perf_counter() - started
    errors = [line for line in proc.stderr.splitlines() if ": error: " in line]
    tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
    if proc.returncode not in (0, 2):  # 2: some files could not be checked; the others are still reported
        return CheckRun("crash", detail=f"exit {proc.returncode}: {tail}", seconds=seconds)
    try:
        raw = json.loads(proc.stdout or "[]")
        hits = [Hit(item["code"], normalise(item["path"], root), item.get("cell"), int(item["line"]),
                    item.get("message", "")) for item in raw]
    except (ValueError, KeyError, TypeError) as error:
        return CheckRun("crash", detail=f"unreadable JSON ({error}): {proc.stdout[:200]!r} {tail}", seconds=seconds)
    if proc.returncode == 2 and target != ".":
        return CheckRun("unparsable", hits, detail=tail, seconds=seconds)
    detail = f"{len(errors)} file errors, e.g. {errors[0]}" if errors else ""
    return CheckRun("ok", hits, detail=detail, seconds=seconds)


def normalise(path: str, root: Path) -> str:
    """A finding's path relative to the repository root, with forward slashes."""
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            candidate = candidate.resolve().relative_to(root.resolve())
        except ValueError:
            return candidate.as_posix()
    return candidate.as_posix().removeprefix("./")


# ---------------------------------------------------------------- the two modes


def prepare(labels: list[Label], mirror: Path, cache: Path) -> dict[tuple[str, str], Path | str]:
    """Each (repo, commit) laid out once: its folder, or the reason it could not be."""
    roots: dict[tuple[str, str], Path | str] = {}
    for repo, commit in sorted({(lab.repo, lab.commit) for lab in labels}):
        git_dir = find_git_dir(mirror, repo)
        if git_dir is None:
            roots[(repo, commit)] = f"no snapshot under {mirror}: fetch github:{repo} first"
            continue
        try:
            roots[(repo, commit)] = lay_out(git_dir, repo, commit, cache)
        except (RuntimeError, OSError) as error:
            roots[(repo, commit)] = f"cannot lay out {commit[:12]}: {error}"
    return roots


def score_files(labels: list[Label], roots: dict, command: list[str], config: Path, timeout: float) -> list[Result]:
    results = []
    runs: dict[tuple[str, str, str], CheckRun] = {}
    for lab in labels:
        root = roots[(lab.repo, lab.commit)]
        key = (lab.repo, lab.commit, lab.path)
        if key not in runs:
            if isinstance(root, str):
                runs[key] = CheckRun("missing-snapshot" if root.startswith("no snapshot") else "layout-failed",
                                     detail=root)
            elif not (root / lab.path).is_file():
                runs[key] = CheckRun("layout-failed", detail=f"{lab.path} is not in the commit")
            else:
                reason = python_syntax_error(root / lab.path)
                runs[key] = (CheckRun("unparsable", detail=reason) if reason
                             else run_checker(command, root, lab.path, config, timeout))
            print(f"  {runs[key].status:<16} {runs[key].seconds:6.2f} s  {lab.repo}  {lab.path}", file=sys.stderr)
        results.append(judge(lab, runs[key]))
    return results


def score_repos(labels: list[Label], roots: dict, command: list[str], config: Path, timeout: float) -> list[Result]:
    """Every finding over each whole repository, marked against the labels, for a person to judge; and each label
    judged against its whole repository's findings (a loss call in a module that the labelled file's caller
    reaches is found here even when the file checked alone does not reach it)."""
    results: list[Result] = []
    by_root: dict[tuple[str, str], list[Label]] = defaultdict(list)
    for lab in labels:
        by_root[(lab.repo, lab.commit)].append(lab)
    total_findings = total_marked = 0
    for (repo, commit), labs in sorted(by_root.items()):
        root = roots[(repo, commit)]
        print(f"\n== {repo} @ {commit[:12]}")
        if isinstance(root, str):
            print(f"   not scored: {root}")
            results.extend(judge(lab, CheckRun("missing-snapshot", detail=root)) for lab in labs)
            continue
        files = sum(1 for p in root.rglob("*") if p.suffix in (".py", ".ipynb") and p.is_file())
        run = run_checker(command, root, ".", config, timeout)
        results.extend(judge(lab, run) for lab in labs)
        rate = files / run.seconds if run.seconds else 0.0
        print(f"   {run.status}: {files} files in {run.seconds:.1f} s ({rate:.1f} files/s) {run.detail}")
        for hit in sorted(run.hits, key=lambda h: (h.path, h.cell or 0, h.line, h.code)):
            mark = "unlabelled: judge"
            for lab in labs:
                if any(same_spot(hit, s) for s in lab.spots) or (lab.label == "negative" and hit.path == lab.path):
                    ok = lab.label == "positive" and hit.code == lab.rule
                    mark = f"{'LABELLED' if ok else 'ON LABEL, WRONG'}: {lab.label} {lab.rule}"
                    total_marked += 1
                    break
            total_findings += 1
            print(f"   {hit.where()} {hit.code} {hit.message}  [{mark}]")
    print(f"\n{total_findings} findings over the repositories, {total_marked} on labelled lines or negative files")
    return results


# ---------------------------------------------------------------- report


def report(results: list[Result], labels: list[Label]) -> None:
    positives = [r for r in results if r.label.label == "positive"]
    negatives = [r for r in results if r.label.label == "negative"]
    scored = ("found", "missed", "clean", "false-positive")
    print("\nrule     positives  found  recall")
    for rule in sorted({r.label.rule for r in positives}):
        rows = [r for r in positives if r.label.rule == rule]
        found = sum(r.outcome == "found" for r in rows)
        print(f"{rule:<8} {len(rows):>9} {found:>6}  {percent(found, len(rows))}")
    found = sum(r.outcome == "found" for r in positives)
    print(f"{'all':<8} {len(positives):>9} {found:>6}  {percent(found, len(positives))}")
    false_positives = [r for r in negatives if r.outcome == "false-positive"]
    other_rule_on_positive = sum(1 for r in positives for hit in r.others
                                 if any(same_spot(hit, s) for s in r.label.spots))
    print(f"\nnegatives: {len(negatives)}, with a finding (false positives): {len(false_positives)}")
    print(f"precision on labelled lines: {percent(found, found + len(false_positives))}"
          f" ({found} right, {len(false_positives)} negatives flagged; {other_rule_on_positive} findings of another rule"
          " at a positive's line, listed below to judge)")
    repos = {r.label.repo for r in results}
    print(f"set: {len(positives)} positives from {len({r.label.repo for r in positives})} repositories,"
          f" {len(negatives)} negatives from {len({r.label.repo for r in negatives})}; {len(repos)} repositories")
    problems = [r for r in results if r.outcome not in scored]
    if problems:
        print(f"\nnot scored ({len(problems)}; counted as misses for positives):")
        for r in problems:
            print(f"  {r.outcome}: {r.label.repo} {r.label.path}  {r.detail}")
    misses = [r for r in positives if r.outcome != "found"]
    print(f"\nmisses ({len(misses)}):")
    for r in misses:
        lines = ";".join(spot_text(s, r.label.path) for s in r.label.spots)
        print(f"  {r.label.rule} {r.label.repo} {r.label.path}:{lines}  [{r.outcome}]\n      {r.label.note}")
    print(f"\nfalse positives ({len(false_positives)}):")
    for r in false_positives:
        for hit in r.matching:
            print(f"  {r.label.repo} {hit.where()} {hit.code} {hit.message}\n      label: {r.label.note}")
    extra = unlabelled(results, labels)
    print(f"\nunlabelled findings to judge ({len(extra)}):")
    for lab, hit in extra:
        print(f"  {lab.repo} {hit.where()} {hit.code} {hit.message}")


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "    -"


def spot_text(spot: Spot, path: str) -> str:
    place = "" if spot.path == path else f"{spot.path}:"
    cell = f"{spot.cell}:" if spot.cell is not None else ""
    return f"{place}{cell}{spot.line}"


def write_json(results: list[Result], out: Path) -> None:
    payload = [
        {
            "repo": r.label.repo, "path": r.label.path, "commit": r.label.commit, "label": r.label.label,
            "rule": r.label.rule, "lines": [asdict(s) for s in r.label.spots], "outcome": r.outcome,
            "detail": r.detail, "matching": [asdict(h) for h in r.matching], "others": [asdict(h) for h in r.others],
        }
        for r in results
    ]
    out.write_text(json.dumps(payload, indent=1) + "\n")


# ---------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", action="append", type=Path,
                        help="a manifest CSV (repeatable; default: every bench/real_code/manifest*.csv)")
    parser.add_argument("--mirror", type=Path, default=DEFAULT_MIRROR, help="where fetched snapshots live")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where commits are laid out (reused)")
    parser.add_argument("--python", default=sys.executable, help="the interpreter that runs lossguard")
    parser.add_argument("--lossguard-cmd", help="the checker command (default: PYTHON -m lossguard)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per file (file mode)")
    parser.add_argument("--repo-timeout", type=float, default=600.0, help="seconds per repository (--repos)")
    parser.add_argument("--repos", action="store_true", help="check each whole repository and list every finding")
    parser.add_argument("--only", help="only repositories whose owner/name contains this text")
    parser.add_argument("--json", type=Path, help="write the per-label results here")
    args = parser.parse_args(argv)

    manifests = args.manifest or sorted(HERE.glob("manifest*.csv"))
    if not manifests:
        print("error: no manifest found", file=sys.stderr)
        return 2
    labels: list[Label] = []
    for manifest in manifests:
        try:
            labels.extend(parse_manifest(manifest))
        except (ManifestError, OSError, csv.Error) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    if args.only:
        labels = [lab for lab in labels if args.only.lower() in lab.repo.lower()]
    command = shlex.split(args.lossguard_cmd) if args.lossguard_cmd else [args.python, "-m", "lossguard"]
    print(f"{len(labels)} labels from {', '.join(str(m) for m in manifests)}; checker: {' '.join(command)}"
          f" (PYTHONPATH={os.environ.get('PYTHONPATH', '')})", file=sys.stderr)

    roots = prepare(labels, args.mirror, args.cache)
    for (repo, _commit), root in sorted(roots.items()):
        if isinstance(root, str):
            print(f"warning: {repo}: {root}", file=sys.stderr)
    config = empty_config(args.cache)
    if args.repos:
        results = score_repos(labels, roots, command, config, args.repo_timeout)
        print("\n== each label judged against its whole repository's findings")
    else:
        results = score_files(labels, roots, command, config, args.timeout)
    report(results, labels)
    if args.json:
        write_json(results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
