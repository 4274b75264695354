"""`--jobs N`: checking files in a pool of worker processes, each with its own session (settings and parse cache).

Files are handed out in contiguous chunks of the sorted list, so a worker checks neighbouring files, which tend to
import the same modules, and its parse cache serves them (measured against per-file tasks in
`bench/static_throughput.py`). Results come back keyed by file; the caller orders them, so the output does not
depend on N or on which worker finished first. A worker that dies (killed, out of memory, a crash in native code)
never hangs the run: the files it had not reported are checked again one by one, each in a fresh process, and a
file whose process dies again becomes one error line.
"""

from __future__ import annotations

import multiprocessing
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from lossguard.config import Config
from lossguard.static.session import CheckSession, FileResult

_CHUNKS_PER_WORKER = 4

_session: CheckSession | None = None


def _start_worker(checked: dict[Path, str], enabled: frozenset[str] | None, config: Config) -> None:
    global _session
    _session = CheckSession(checked, enabled, config)


def _check_chunk(files: list[str]) -> list[tuple[str, FileResult]]:
    assert _session is not None, "the worker's initializer did not run"
    return [(file, _session.check(file)) for file in files]


def _context() -> multiprocessing.context.BaseContext:
    # fork starts a worker in milliseconds with lossguard already imported; elsewhere, the default.
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def chunked(files: list[str], jobs: int) -> list[list[str]]:
    """Contiguous chunks, a few per worker so that a slow chunk does not leave the other workers idle."""
    count = max(1, min(len(files), jobs * _CHUNKS_PER_WORKER))
    size, extra = divmod(len(files), count)
    chunks, start = [], 0
    for number in range(count):
        end = start + size + (1 if number < extra else 0)
        chunks.append(files[start:end])
        start = end
    return [chunk for chunk in chunks if chunk]


def check_in_pool(files: list[str], jobs: int, checked: dict[Path, str], enabled: frozenset[str] | None,
                  config: Config, chunks: list[list[str]] | None = None) -> dict[str, FileResult]:
    """Every file's result, checked by `jobs` processes; a file whose process died has an error line instead."""
    import lossguard.static.project  # noqa: F401 - imported once here, so that forked workers start with it

    results: dict[str, FileResult] = {}
    arguments = (checked, enabled, config)
    try:
        with ProcessPoolExecutor(jobs, mp_context=_context(), initializer=_start_worker, initargs=arguments) as pool:
            futures: list[Future] = [pool.submit(_check_chunk, chunk) for chunk in (chunks or chunked(files, jobs))]
            for future in futures:
                try:
                    results.update(future.result())
                except BrokenProcessPool:
                    break
                except Exception:  # noqa: BLE001 - its files are checked again alone below, and named if they fail
                    continue
    except BrokenProcessPool:
        pass
    for file in files:
        if file not in results:
            results[file] = _check_alone(file, arguments)
    return results


def _check_alone(file: str, arguments: tuple[dict[Path, str], frozenset[str] | None, Config]) -> FileResult:
    """One file in a process of its own, after a worker died: it is either checked or named as the culprit."""
    try:
        with ProcessPoolExecutor(1, mp_context=_context(), initializer=_start_worker, initargs=arguments) as pool:
            return pool.submit(_check_chunk, [file]).result()[0][1]
    except BrokenProcessPool:
        return FileResult(error=f"{file}:1:1: error: internal error, please report it: the process checking it "
                                "stopped (killed, out of memory, or a crash)")
    except Exception as error:  # noqa: BLE001 - e.g. a result that cannot be sent back
        return FileResult(error=f"{file}:1:1: error: internal error, please report it: {type(error).__name__}: {error}")
