"""Reconciliation rules as data: which PBM a claim or a payment belongs to, how each PBM
writes CLP01, which PLB items are DIR and what each PLB reason code means.

The built-in rules (``reconcile.toml`` beside this module) hold the defaults; a deployment's
``mappings/reconcile.toml`` (beside its gateway.toml) lists its PBMs and may override the
defaults, key by key::

    [[pbm]]
    id = "pbm-beta"                 # the name reports use
    partners = ["beta"]             # 835s (and response batches) pulled from these partners
    payer_ids = ["1999999999"]      # ... or whose TRN03 / N1*PR identifier is one of these
    bins = ["999102"]               # claims whose 101-A1 BIN is one of these
    pcns = []                       # ... and, when listed, whose 104-A4 PCN is one of these
    clp01 = '^(?P<rx>[0-9]+)(?P<fill>[0-9]{2})$'   # group rx required, fill optional

Every key is checked when the file is loaded; a problem names the file, the key and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from gateway.config.problems import Problems
from gateway.config.tables import choice, read_toml, unknown_keys

BUILT_IN = Path(__file__).resolve().parent / "reconcile.toml"
FILE_NAME = "reconcile.toml"
CATEGORIES = ("fee", "interest", "recoupment", "forwarding_balance", "adjustment")
_NEVER = re.compile(r"(?!)")  # only when loading failed (problems are raised)
_TOP = {"defaults", "plb_categories", "pbm", "reports"}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
REPORT_FORMATS = ("csv", "json", "html")
_PBM_KEYS = {"id", "name", "partners", "payer_ids", "bins", "pcns", "clp01", "dir_plb"}


@dataclass(frozen=True)
class DirRule:
    """A PLB item is DIR when its reason is ``reason`` and its reference matches."""

    reason: str
    reference: re.Pattern[str]

    def matches(self, reason: str, reference: str | None) -> bool:
        return reason == self.reason and bool(self.reference.search(reference or ""))


@dataclass(frozen=True)
class PbmRule:
    """One PBM: how to recognise its claims and payments, and how it writes CLP01."""

    id: str
    name: str
    partners: frozenset[str]
    payer_ids: frozenset[str]
    bins: frozenset[str]
    pcns: frozenset[str]
    clp01: re.Pattern[str]
    dir_plb: tuple[DirRule, ...]


@dataclass(frozen=True)
class ReportSchedule:
    """When members get their reconciliation report: never, weekly or monthly."""

    every: str  # off | weekly | monthly
    weekday: int  # weekly: 0 = Monday, the day the week before is reported
    formats: tuple[str, ...]

    def due_period(self, today: date) -> tuple[date, date] | None:
        """The latest period whose report is due by ``today`` (None when off)."""
        if self.every == "weekly":
            end = today - timedelta(days=today.weekday() + 1)  # the last Sunday before today
            if end + timedelta(days=1 + self.weekday) > today:
                end -= timedelta(days=7)
            return end - timedelta(days=6), end
        if self.every == "monthly":
            end = today.replace(day=1) - timedelta(days=1)
            return end.replace(day=1), end
        return None


@dataclass(frozen=True)
class ClaimNumber:
    """What CLP01 says: the Rx number (leading zeros dropped) and the fill, when it says."""

    rx_number: str
    fill_number: int | None


@dataclass(frozen=True)
class ReconcileConfig:
    """The loaded rules. ``pbm_for_*`` return a PBM id; an unknown one is named by what was
    seen (``bin:999001``, ``partner:acme``), so nothing is dropped for want of a rule."""

    pbms: tuple[PbmRule, ...]
    default_clp01: re.Pattern[str]
    default_dir_plb: tuple[DirRule, ...]
    plb_categories: dict[str, str]  # reason code -> category
    reports: ReportSchedule = ReportSchedule("off", 0, ("html", "csv"))
    file: str = ""

    def rule(self, pbm_id: str) -> PbmRule | None:
        return next((p for p in self.pbms if p.id == pbm_id), None)

    def pbm_for_claim(self, bin_: str, pcn: str) -> str:
        for pbm in self.pbms:
            if bin_ in pbm.bins and (not pbm.pcns or pcn in pbm.pcns):
                return pbm.id
        return f"bin:{bin_}"

    def pbm_for_payment(self, partner: str, payer_ids: tuple[str | None, ...]) -> str:
        for pbm in self.pbms:
            if partner in pbm.partners or any(p in pbm.payer_ids for p in payer_ids if p):
                return pbm.id
        return f"partner:{partner}"

    def claim_number(self, pbm_id: str, clp01: str) -> ClaimNumber | None:
        """Rx and fill out of CLP01 by the PBM's pattern (or the default); None when the
        pattern does not match (the payment is then recorded under CLP01 as it stands)."""
        number = self.claim_numbers(pbm_id)(clp01)
        return None if number is None else ClaimNumber(*number)

    def claim_numbers(self, pbm_id: str) -> Callable[[str], tuple[str, int | None] | None]:
        """:meth:`claim_number` of one PBM as (rx, fill): the rule and its pattern looked up
        once (per payment), not once per claim of a million-claim central pay."""
        rule = self.rule(pbm_id)
        pattern = rule.clp01 if rule else self.default_clp01
        fullmatch, has_fill = pattern.fullmatch, "fill" in pattern.groupindex

        def number(clp01: str) -> tuple[str, int | None] | None:
            match = fullmatch(clp01.strip())
            if match is None:
                return None
            fill = match["fill"] if has_fill else None
            return rx_key(match["rx"]), int(fill) if fill else None

        return number

    def plb_category(self, pbm_id: str, reason: str, reference: str | None) -> str:
        rule = self.rule(pbm_id)
        rules = rule.dir_plb if rule and rule.dir_plb else self.default_dir_plb
        if any(r.matches(reason, reference) for r in rules):
            return "dir"
        return self.plb_categories.get(reason, "other")


def rx_key(rx_number: str) -> str:
    """An Rx number as both sides compare it: NCPDP pads 402-D2 with zeros, CLP01 may not."""
    return rx_number.strip().lstrip("0") or "0"


def load_reconcile_config(site_dir: Path | None = None) -> ReconcileConfig:
    """The built-in rules, overridden by ``site_dir/reconcile.toml`` when there is one."""
    problems = Problems(BUILT_IN)
    data = read_toml(BUILT_IN, problems) or {}
    problems.raise_if_any()
    file = str(BUILT_IN)
    site = site_dir / FILE_NAME if site_dir else None
    if site is not None and site.is_file():
        problems = Problems(site)
        overrides = read_toml(site, problems) or {}
        problems.raise_if_any()
        data = _merged(data, overrides)
        file = str(site)
    problems = Problems(Path(file))
    config = _config(data, problems, file)
    problems.raise_if_any()
    return config


def _merged(base: dict[str, Any], site: dict[str, Any]) -> dict[str, Any]:
    """Site keys replace built-in ones within [defaults] and [plb_categories]."""
    merged = dict(base)
    for table in ("defaults", "plb_categories", "reports"):
        if isinstance(site.get(table), dict):
            merged[table] = {**base.get(table, {}), **site[table]}
    for key, value in site.items():
        if key not in ("defaults", "plb_categories", "reports"):
            merged[key] = value
    return merged


def _config(data: dict[str, Any], problems: Problems, file: str) -> ReconcileConfig:
    unknown_keys(data, _TOP, "", problems)
    defaults = _dict(data.get("defaults", {}), "defaults", problems)
    unknown_keys(defaults, {"clp01", "dir_plb"}, "defaults.", problems)
    default_clp01 = _pattern(defaults.get("clp01"), "defaults.clp01", problems, rx=True)
    default_dir = _dir_rules(defaults.get("dir_plb", []), "defaults.dir_plb", problems)
    categories: dict[str, str] = {}
    table = _dict(data.get("plb_categories", {}), "plb_categories", problems)
    unknown_keys(table, set(CATEGORIES), "plb_categories.", problems)
    for category, codes in table.items():
        for code in _strings(codes, f"plb_categories.{category}", problems):
            categories[code] = category
    pbms: list[PbmRule] = []
    entries = data.get("pbm", [])
    if not isinstance(entries, list):
        problems.add(None, "pbm", "is not a list of tables", "write each PBM as a [[pbm]] table")
        entries = []
    for n, entry in enumerate(entries):
        pbm = _pbm(entry, f"pbm[{n}].", problems, default_clp01)
        if pbm is not None:
            if any(p.id == pbm.id for p in pbms):
                problems.add(None, f"pbm[{n}].id", f"{pbm.id!r} is listed twice",
                             "give each PBM its own id")
            pbms.append(pbm)
    reports = _reports(_dict(data.get("reports", {}), "reports", problems), problems)
    return ReconcileConfig(tuple(pbms), default_clp01 or _NEVER, default_dir, categories,
                           reports, file)


def _reports(table: dict[str, Any], problems: Problems) -> ReportSchedule:
    unknown_keys(table, {"schedule", "weekday", "formats"}, "reports.", problems)
    every = choice(table, "schedule", "reports.", problems, ("off", "weekly", "monthly"), "off")
    weekday = choice(table, "weekday", "reports.", problems, WEEKDAYS, "monday")
    formats = _strings(table.get("formats", ["html", "csv"]), "reports.formats", problems)
    unknown = [f for f in formats if f not in REPORT_FORMATS]
    if unknown or not formats:
        problems.add(None, "reports.formats", f"{unknown or formats!r} is not a list of "
                     "report formats", f"list some of {', '.join(REPORT_FORMATS)}")
    return ReportSchedule(every, WEEKDAYS.index(weekday), tuple(formats))


def _pbm(entry: Any, where: str, problems: Problems, default_clp01: re.Pattern[str] | None
         ) -> PbmRule | None:
    entry = _dict(entry, where.rstrip("."), problems)
    unknown_keys(entry, _PBM_KEYS, where, problems)
    pbm_id = entry.get("id")
    if not isinstance(pbm_id, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", pbm_id):
        problems.add(None, f"{where}id", f"{pbm_id!r} is not a plain id",
                     'write id = "pbm-name" (letters, digits, - _ .)')
        return None
    clp01 = default_clp01
    if "clp01" in entry:
        clp01 = _pattern(entry["clp01"], f"{where}clp01", problems, rx=True)
    if clp01 is None:
        return None
    return PbmRule(
        id=pbm_id,
        name=str(entry.get("name", pbm_id)),
        partners=frozenset(_strings(entry.get("partners", []), f"{where}partners", problems)),
        payer_ids=frozenset(_strings(entry.get("payer_ids", []), f"{where}payer_ids", problems)),
        bins=frozenset(_strings(entry.get("bins", []), f"{where}bins", problems)),
        pcns=frozenset(_strings(entry.get("pcns", []), f"{where}pcns", problems)),
        clp01=clp01,
        dir_plb=_dir_rules(entry.get("dir_plb", []), f"{where}dir_plb", problems),
    )


def _dir_rules(value: Any, where: str, problems: Problems) -> tuple[DirRule, ...]:
    if not isinstance(value, list):
        problems.add(None, where, "is not a list of tables",
                     f'write [[{where}]] tables with reason = "FB" and reference = "^DIR"')
        return ()
    rules = []
    for n, item in enumerate(value):
        item = _dict(item, f"{where}[{n}]", problems)
        unknown_keys(item, {"reason", "reference"}, f"{where}[{n}].", problems)
        reason = item.get("reason")
        pattern = _pattern(item.get("reference", ""), f"{where}[{n}].reference", problems)
        if not isinstance(reason, str) or not reason:
            problems.add(None, f"{where}[{n}].reason", f"{reason!r} is not a PLB reason code",
                         'write reason = "FB"')
        elif pattern is not None:
            rules.append(DirRule(reason, pattern))
    return tuple(rules)


def _pattern(value: Any, where: str, problems: Problems, *, rx: bool = False
             ) -> re.Pattern[str] | None:
    if not isinstance(value, str):
        problems.add(None, where, f"{value!r} is not a regular expression",
                     "write it as a TOML literal string: '^(?P<rx>[0-9]+)$'")
        return None
    try:
        pattern = re.compile(value)
    except re.error as exc:
        problems.add(None, where, f"is not a valid regular expression ({exc})",
                     "correct the pattern (Python re syntax)")
        return None
    if rx and "rx" not in pattern.groupindex:
        problems.add(None, where, "has no (?P<rx>...) group",
                     "name the Rx number part (?P<rx>...) and the fill part (?P<fill>...)")
        return None
    return pattern


def _dict(value: Any, where: str, problems: Problems) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    problems.add(None, where, "is not a table", f"write it as [{where}] with keys below it")
    return {}


def _strings(value: Any, where: str, problems: Problems) -> list[str]:
    if isinstance(value, list) and all(isinstance(v, str) and v for v in value):
        return value
    problems.add(None, where, f"{value!r} is not a list of strings", 'write ["a", "b"]')
    return []
