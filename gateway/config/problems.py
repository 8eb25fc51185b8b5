"""Collecting configuration problems, so an operator fixes them all in one edit.

A loader records every problem it finds (file, line, key, what is wrong, how to fix it) and
raises once at the end. Stopping at the first problem would make a PSAO editing a 5,000-line
roster run the loader once per typo.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gateway.errors import ConfigError, GatewayError


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a configuration file."""

    file: str
    line: int | None
    key: str
    what: str
    fix: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.key}: {self.what} (fix: {self.fix})"


@dataclass
class Problems:
    """The problems found so far in one load."""

    file: Path
    found: list[Problem] = field(default_factory=list)

    def add(self, line: int | None, key: str, what: str, fix: str) -> None:
        self.found.append(Problem(str(self.file), line, key, what, fix))

    def raise_if_any(self) -> None:
        """Raise one ConfigError that names every problem (the first ones in the message)."""
        if not self.found:
            return
        shown = self.found[:20]
        more = len(self.found) - len(shown)
        lines = "; ".join(str(problem) for problem in shown)
        if more:
            lines += f"; ... and {more} more"
        raise ConfigProblems(
            f"{len(self.found)} problem(s): {lines}",
            problems=tuple(self.found),
        )


class ConfigProblems(ConfigError):
    """A ConfigError that keeps the list of problems, for tests and for an operator UI."""

    def __init__(self, what: str, *, problems: tuple[Problem, ...]) -> None:
        self.problems = problems
        super().__init__(what, fix="correct every entry listed, then load again")


def by_place(error: Exception) -> str:
    """A configuration error told by place only (``file:line key``), for an event, an alert
    or /healthz: a value from the roster, or a message quoting one, has no business there."""
    if isinstance(error, ConfigProblems):
        places = [f"{Path(p.file).name}:{p.line or '-'} {p.key}" for p in error.problems[:5]]
        more = f" and {len(error.problems) - 5} more" if len(error.problems) > 5 else ""
        return f"{len(error.problems)} problem(s) in " + ", ".join(places) + more
    if isinstance(error, GatewayError) and error.where:
        return f"{type(error).__name__} at {error.where}"
    return type(error).__name__
