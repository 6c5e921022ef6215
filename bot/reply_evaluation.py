"""Does the *reply* answer the question? Held-out visitor questions played against the running assistant.

The files (tests/nlu/facts_*.yml) were written from the article alone by people who never saw data/: each
question names the fact(s) the reply must contain (`expect`: every item; an item that is a list is any one of
its alternatives), or says the article has no answer (`answerable: false`: the reply must say so honestly).
`followups` are conversations scored on the reply to their last turn; `actions` are requests scored on any of
`expect_any`; `journeys` are whole conversations (giving, the forms, a question in the middle of one, a disclosure
part-way) scored turn by turn: each turn's reply must contain one of its `expect_any`, and a journey goes through
only if every turn does. The assistant runs for real (`ijm-bot run` on free loopback ports and a throw-away SQLite
database); every question is a new conversation over the REST channel.

Only the tuning file's failures are printed; the unseen file's are written to var/ and not looked at while
tuning, so that its score stays an honest estimate.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests
import yaml

from bot.ports import free_port
from bot.settings import PROJECT_ROOT

TUNING = PROJECT_ROOT / "tests" / "nlu" / "facts_tuning.yml"
# A second tuning file, by another writer who never saw data/ (2026-12-04): its failures are read while tuning too.
TUNING_MORE = PROJECT_ROOT / "tests" / "nlu" / "facts_tuning_more.yml"
# Follow-up conversations and questions the article can't answer, by a fourth writer (2026-12-06), read while tuning.
TUNING_DIALOGUES = PROJECT_ROOT / "tests" / "nlu" / "facts_tuning_dialogues.yml"
# A third tuning file, by a fifth writer (2026-12-07): questions, questions the article can't answer, follow-ups.
TUNING_ROUND3 = PROJECT_ROOT / "tests" / "nlu" / "facts_tuning_round3.yml"
# Follow-up conversations (two and three turns, and after the supporter journeys), by a sixth writer (2026-12-07).
TUNING_ROUND4 = PROJECT_ROOT / "tests" / "nlu" / "facts_tuning_round4.yml"
# Follow-up conversations by an eighth writer (2026-12-07, fifth session), read while tuning.
TUNING_ROUND5 = PROJECT_ROOT / "tests" / "nlu" / "facts_tuning_round5.yml"
# Follow-up conversations by a tenth writer (2026-12-07, sixth session), read while tuning.
TUNING_ROUND6 = PROJECT_ROOT / "tests" / "nlu" / "facts_tuning_round6.yml"
# Harder follow-ups (a different detail of the same event, chains reaching back, long chatty turns, comparisons), by
# a twelfth writer (2026-12-07, sixth session), read while tuning.
TUNING_ROUND7 = PROJECT_ROOT / "tests" / "nlu" / "facts_tuning_round7.yml"
# Follow-ups by a thirteenth writer of follow-ups, from the article and tests/nlu/followups_brief.md (2026-12-07, eighth
# session; the first to include follow-ups the article can't answer), read while tuning.
TUNING_ROUND8 = PROJECT_ROOT / "tests" / "nlu" / "facts_tuning_round8.yml"
# Ninth session: 220 questions by a twenty-third writer from tests/nlu/questions_brief.md (read while tuning), and 70
# journeys by a twenty-fourth from the journeys brief (read while tuning).
TUNING_ROUND9 = PROJECT_ROOT / "tests" / "nlu" / "facts_tuning_round9.yml"
TUNING_JOURNEYS_SIXTH = PROJECT_ROOT / "tests" / "nlu" / "journeys_tuning_sixth.yml"
UNSEEN = PROJECT_ROOT / "tests" / "nlu" / "facts_unseen.yml"
# A second unseen file, by a third writer who saw only the article (2026-12-06): scored, never read while tuning.
UNSEEN_FRESH = PROJECT_ROOT / "tests" / "nlu" / "facts_unseen_fresh.yml"
# Follow-up conversations by a seventh writer who saw only the article (2026-12-07): scored, never read.
UNSEEN_FOLLOWUPS = PROJECT_ROOT / "tests" / "nlu" / "followups_unseen.yml"
# Follow-up conversations by a ninth writer who saw only the article (2026-12-07, fifth session): scored, never read.
UNSEEN_FOLLOWUPS_SECOND = PROJECT_ROOT / "tests" / "nlu" / "followups_unseen_second.yml"
# Follow-up conversations by an eleventh writer who saw only the article (2026-12-07, sixth session): never read.
UNSEEN_FOLLOWUPS_THIRD = PROJECT_ROOT / "tests" / "nlu" / "followups_unseen_third.yml"
# Whole conversations through the supporter journeys, turn by turn, by a thirteenth writer who saw only the article
# and a description of what the assistant does (2026-12-07, seventh session), read while tuning; and by a
# fourteenth writer from the same brief, scored, never read.
TUNING_JOURNEYS = PROJECT_ROOT / "tests" / "nlu" / "journeys_tuning.yml"
UNSEEN_JOURNEYS = PROJECT_ROOT / "tests" / "nlu" / "journeys_unseen.yml"
# A second pair from a corrected brief (a form does not ask what the visitor already said; where jobs, volunteering
# and partnerships are sent), by a fifteenth writer (harder journeys, read while tuning) and a sixteenth (never read).
TUNING_JOURNEYS_SECOND = PROJECT_ROOT / "tests" / "nlu" / "journeys_tuning_second.yml"
UNSEEN_JOURNEYS_SECOND = PROJECT_ROOT / "tests" / "nlu" / "journeys_unseen_second.yml"
# A third pair from the corrected brief, longer (3 to 8 turns): a seventeenth writer asked for what first drafts miss
# (greetings, corrections, signing up twice, amounts written every way; read while tuning) and an eighteenth asked
# for a month of a charity website's traffic (never read).
TUNING_JOURNEYS_THIRD = PROJECT_ROOT / "tests" / "nlu" / "journeys_tuning_third.yml"
# A fourth tuning file, by a nineteenth writer asked for the journeys the others neglected (the media and message
# forms to the end, unsubscribing, "what can you do?", history questions full of danger words, disclosures).
TUNING_JOURNEYS_FOURTH = PROJECT_ROOT / "tests" / "nlu" / "journeys_tuning_fourth.yml"
UNSEEN_JOURNEYS_THIRD = PROJECT_ROOT / "tests" / "nlu" / "journeys_unseen_third.yml"
# Eighth session: a fifth journeys tuning file (read while tuning), and follow-ups by a fourteenth writer of them from
# the same brief as the eighth tuning file's writer (scored before and after the session's changes, never read).
TUNING_JOURNEYS_FIFTH = PROJECT_ROOT / "tests" / "nlu" / "journeys_tuning_fifth.yml"
UNSEEN_FOLLOWUPS_FOURTH = PROJECT_ROOT / "tests" / "nlu" / "followups_unseen_fourth.yml"
# Ninth session, both never read: 220 questions by a twenty-second writer from the article and
# tests/nlu/questions_brief.md, and 70 journeys by a twenty-first from the article and tests/nlu/journeys_brief.md.
UNSEEN_THIRD = PROJECT_ROOT / "tests" / "nlu" / "facts_unseen_third.yml"
UNSEEN_JOURNEYS_FOURTH = PROJECT_ROOT / "tests" / "nlu" / "journeys_unseen_fourth.yml"
# Tenth session: 100 follow-up conversations by a twenty-fifth writer from tests/nlu/followups_brief.md (never read),
# and 100 by a twenty-sixth from the same brief (read while tuning).
UNSEEN_FOLLOWUPS_FIFTH = PROJECT_ROOT / "tests" / "nlu" / "followups_unseen_fifth.yml"
TUNING_ROUND10 = PROJECT_ROOT / "tests" / "nlu" / "facts_tuning_round10.yml"
# ...and, read while tuning too, 100 more by a twenty-seventh writer (a third of them three or four turns long) and 70
# journeys by a twenty-eighth from the journeys brief (addresses of their own, so no other file's sign-ups collide).
TUNING_ROUND11 = PROJECT_ROOT / "tests" / "nlu" / "facts_tuning_round11.yml"
# ...and 100 by a twenty-ninth, asked for many kinds of visitors and 25 follow-ups after supporter answers (read)
TUNING_ROUND12 = PROJECT_ROOT / "tests" / "nlu" / "facts_tuning_round12.yml"
TUNING_JOURNEYS_SEVENTH = PROJECT_ROOT / "tests" / "nlu" / "journeys_tuning_seventh.yml"
HIDDEN = (UNSEEN, UNSEEN_FRESH, UNSEEN_FOLLOWUPS, UNSEEN_FOLLOWUPS_SECOND, UNSEEN_FOLLOWUPS_THIRD, UNSEEN_JOURNEYS,
          UNSEEN_JOURNEYS_SECOND, UNSEEN_JOURNEYS_THIRD, UNSEEN_FOLLOWUPS_FOURTH, UNSEEN_THIRD,
          UNSEEN_JOURNEYS_FOURTH, UNSEEN_FOLLOWUPS_FIFTH)  # fmt: skip
START_TIMEOUT = 400
READY_MARKER = "IJM assistant is ready."


def normalise(text: str) -> str:
    """What a reply and an expectation are compared as: case, quotes, thousands separators, "percent"."""
    text = text.replace("’", "'").replace("“", '"').replace("”", '"').replace("—", " ").replace("–", "-")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text.casefold())
    text = re.sub(r"\s*(per ?cent|percent)\b", "%", text)
    return re.sub(r"\s+", " ", text)


def contains(reply: str, item: str | list[str]) -> bool:
    alternatives = item if isinstance(item, list) else [item]
    said = normalise(reply)
    return any(normalise(str(a)) in said for a in alternatives)


def honest_markers() -> list[str]:
    """What an honest "I don't have that" reply contains (from the content files)."""
    from bot.content.assistant import assistant_content
    from bot.content.contacts import contacts
    from bot.content.facts import facts

    assistant = assistant_content()
    return [
        contacts().unknown_message,
        facts().message("unknown_place_or_year"),
        assistant.message("out_of_scope"),
        assistant.message("not_understood"),
    ]


@dataclass
class Case:
    kind: str  # question, unanswerable, followup, action, journey
    turns: list[str]
    expect: list = field(default_factory=list)
    expect_any: list[str] = field(default_factory=list)
    # A follow-up the article can't answer (`answerable: false`): its reply must say so honestly.
    answerable: bool = True
    # A journey's checks, one per turn: the reply to that turn must contain one of them (an empty list: not checked).
    checks: list[list[str]] = field(default_factory=list)


@dataclass
class Outcome:
    case: Case
    reply: str  # the last reply; for a journey that failed, the first turn that failed and its reply
    passed: bool
    turns_passed: int = 0  # a journey's checked turns whose reply had what was expected
    turns_checked: int = 0


def load_cases(path: Path) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases = []
    for entry in data.get("questions") or []:
        if entry.get("answerable") is False:
            cases.append(Case("unanswerable", [entry["q"]]))
        else:
            cases.append(Case("question", [entry["q"]], expect=list(entry.get("expect") or [])))
    for entry in data.get("followups") or []:
        cases.append(Case("followup", list(entry["turns"]), expect=list(entry.get("expect") or []),
                          answerable=entry.get("answerable") is not False))  # fmt: skip
    for entry in data.get("actions") or []:
        cases.append(Case("action", [entry["q"]], expect_any=[str(x) for x in entry.get("expect_any") or []]))
    for entry in data.get("journeys") or []:
        turns = entry["turns"]
        cases.append(Case("journey", [str(t["say"]) for t in turns],
                          checks=[[str(x) for x in t.get("expect_any") or []] for t in turns]))  # fmt: skip
    return cases


def judge(case: Case, reply: str, markers: list[str]) -> bool:
    if case.kind == "unanswerable" or not case.answerable:
        return any(normalise(m)[:40] in normalise(reply) for m in markers)
    if case.kind == "action":
        return any(contains(reply, item) for item in case.expect_any)
    return bool(case.expect) and all(contains(reply, item) for item in case.expect)


def judge_journey(case: Case, replies: list[str]) -> Outcome:
    """A journey goes through when every checked turn's reply has one of its checks; a journey with nothing to
    check never passes."""
    checked = [i for i, check in enumerate(case.checks) if check]
    failed = [i for i in checked if i >= len(replies) or not any(contains(replies[i], c) for c in case.checks[i])]
    if failed:
        i = failed[0]
        got = replies[i][:300] if i < len(replies) else ""
        where = f"turn {i + 1} {case.turns[i]!r}: expected any of {case.checks[i]}; got {got!r}"
        return Outcome(case, where, False, len(checked) - len(failed), len(checked))
    return Outcome(case, replies[-1] if replies else "", bool(checked), len(checked), len(checked))


def reply_text(messages: list[dict]) -> str:
    """The bot's messages as a visitor reads them: texts and button titles."""
    parts = []
    for message in messages:
        parts.append(str(message.get("text") or ""))
        parts.extend(str(b.get("title") or "") for b in message.get("buttons") or [])
    return "\n".join(p for p in parts if p)


def play(rest_url: str, case: Case) -> list[str]:
    """Each turn's reply, one conversation."""
    sender = f"eval-{uuid.uuid4().hex[:12]}"
    replies = []
    for turn in case.turns:
        response = requests.post(rest_url, json={"sender": sender, "message": turn}, timeout=30)
        response.raise_for_status()
        replies.append(reply_text(response.json()))
    return replies


@dataclass
class FileScore:
    label: str
    path: Path
    outcomes: list[Outcome]
    stock: bool = False  # played to the stock-config baseline (for comparison, never a goal)

    @property
    def unseen(self) -> bool:
        return self.path in HIDDEN

    def share(self, kind: str) -> tuple[int, int]:
        relevant = [o for o in self.outcomes if o.case.kind == kind]
        return sum(o.passed for o in relevant), len(relevant)

    def rate(self, kind: str) -> float:
        passed, total = self.share(kind)
        return passed / total if total else 1.0

    def turn_share(self) -> tuple[int, int]:
        """The journeys' checked turns that had what was expected."""
        journeys = [o for o in self.outcomes if o.case.kind == "journey"]
        return sum(o.turns_passed for o in journeys), sum(o.turns_checked for o in journeys)

    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.passed]


@contextlib.contextmanager
def running_assistant(log_dir: Path, model: Path | None = None, checkout: Path | None = None) -> Iterator[str]:
    """`ijm-bot run` on free ports with a throw-away database and no rate limits (serving `model` if given, else
    the project's own; with `checkout` and no model, that checkout's code and model, e.g. an older commit's for a
    before/after benchmark); yields the REST address."""
    ports = {name: str(free_port()) for name in ("RASA_PORT", "ACTION_PORT", "WEB_PORT")}
    workdir = Path(tempfile.mkdtemp(prefix="ijm-eval-"))
    env = {**os.environ, **ports, "DATABASE_URL": f"sqlite:///{workdir}/eval.db", "RATE_LIMIT_PER_SESSION": "off",
           "RATE_LIMIT_PER_IP": "off", "LOG_LEVEL": "WARNING"}  # fmt: skip
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"reply-evaluation-assistant{'-' + model.stem.split('.')[0] if model else ''}.log"
    command = [str(Path(sys.executable).with_name("ijm-bot")), "run"] + (["--model", str(model)] if model else [])
    if checkout is not None:
        env["PYTHONPATH"] = str(checkout)
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=checkout)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while READY_MARKER not in log.read_text(encoding="utf-8", errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the assistant did not start; see {log}")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{ports['RASA_PORT']}/webhooks/rest/webhook"
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                process.kill()


def score_files(rest_url: str, files: list[tuple[str, Path]], stock: bool = False) -> list[FileScore]:
    markers = honest_markers()
    scores = []
    for label, path in files:
        outcomes = []
        for case in load_cases(path):
            replies = play(rest_url, case)
            if case.kind == "journey":
                outcomes.append(judge_journey(case, replies))
            else:
                outcomes.append(Outcome(case, replies[-1], judge(case, replies[-1], markers)))
        scores.append(FileScore(f"{label} (stock config)" if stock else label, path, outcomes, stock))
    return scores


def markdown(scores: list[FileScore]) -> str:
    kinds = [("question", "fact questions: the reply has the fact"), ("unanswerable", "not in the article: said so"),
             ("followup", "follow-ups keep the thread"), ("action", "requests reach their journey"),
             ("journey", "journeys go through, every turn")]  # fmt: skip
    lines = ["# Replies on the held-out visitor questions", "", "| | " + " | ".join(s.label for s in scores) + " |",
             "|---|" + "---|" * len(scores)]  # fmt: skip
    for kind, name in kinds:
        cells = []
        for score in scores:
            passed, total = score.share(kind)
            cells.append(f"{passed}/{total} ({passed / total:.1%})" if total else "-")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    turns = [score.turn_share() for score in scores]
    lines.append("| journeys' turns answered | " + " | ".join(
        f"{passed}/{total} ({passed / total:.1%})" if total else "-" for passed, total in turns) + " |")  # fmt: skip
    return "\n".join(lines) + "\n"


def failure_lines(score: FileScore) -> list[str]:
    return [f"- [journey] {' → '.join(o.case.turns)!r}: {o.reply}" if o.case.kind == "journey" else
            f"- [{o.case.kind}] {' → '.join(o.case.turns)!r}: expected {o.case.expect or o.case.expect_any}; "
            f"got {o.reply[:300]!r}" for o in score.failures()]  # fmt: skip


@dataclass(frozen=True)
class ReplyGoals:
    """What `ijm-bot evaluate --check` requires of the replies, per file: floors a little under the figures measured
    when they were set, so that a change that makes the assistant understand less fails `make test`. The issue's goal
    of 97% of fact questions is met on both unseen files; its goal of every follow-up is not.

    Figures when set (2026-12-07, third session; fact questions / follow-ups / not in the article): tuning 99.4% /
    100% / 95%, second tuning 96.2% / 97.8% / 100%, dialogues - / 97.5% / 88.3%, third tuning 98% / 94.3% / 73.6%;
    unseen 97.1% / 94.4% / 90.6% and fresh unseen 97.6% / 93.7% / 85.7% (earlier trainings of the same data gave
    96.5% / 92.6% and 97.4% / 89.9%: the floors of the unseen files sit under both, for training's variance).
    Fourth session (same model data, this session's follow-up rules): follow-ups 100% / 97.8% / 97.5% / 97.1%, the
    follow-up tuning file 91.1%, unseen 96.3% and fresh unseen 96.2%, unseen follow-ups 91.4% (first scored then).
    Fifth session: follow-ups 97.8% and 94.4% on the fourth and fifth tuning files, 94.3% and 89.0% on the two unseen
    follow-up files; the third tuning file's questions the article can't answer 78.2%. Sixth session: the sixth tuning
    file 97.0%, the seventh 85.0% (75.0% at first), the third unseen follow-up file 90.2% (88.0% before the session's
    changes, with the same model data)."""

    tuning: tuple[float, float, float] = (0.95, 0.94, 0.85)
    more: tuple[float, float, float] = (0.94, 0.91, 0.90)
    dialogues: tuple[float, float, float] = (0.95, 0.92, 0.80)
    round3: tuple[float, float, float] = (0.94, 0.88, 0.72)
    round4: tuple[float, float, float] = (0.95, 0.92, 0.85)
    unseen: tuple[float, float, float] = (0.94, 0.88, 0.80)
    fresh: tuple[float, float, float] = (0.96, 0.86, 0.75)
    unseen_followups: tuple[float, float, float] = (0.95, 0.88, 0.85)
    round5: tuple[float, float, float] = (0.95, 0.90, 0.85)
    unseen_followups_second: tuple[float, float, float] = (0.95, 0.84, 0.85)
    round6: tuple[float, float, float] = (0.95, 0.92, 0.85)
    unseen_followups_third: tuple[float, float, float] = (0.95, 0.85, 0.85)
    round7: tuple[float, float, float] = (0.95, 0.80, 0.85)
    # Eighth session: the eighth tuning file 87% -> 97% of follow-ups (10 it can't answer among them), the fourth
    # unseen follow-up file 91% -> 96% (scored before and after, never read).
    round8: tuple[float, float, float] = (0.95, 0.92, 0.85)
    unseen_followups_fourth: tuple[float, float, float] = (0.95, 0.90, 0.85)
    # Ninth session: the ninth tuning file's questions 188 -> 196 of 200 (19/20 it can't answer said so), the third
    # unseen file's 189 -> 195 of 200 (19/20), scored before and after, never read.
    round9: tuple[float, float, float] = (0.95, 0.90, 0.85)
    unseen_third: tuple[float, float, float] = (0.94, 0.90, 0.85)
    # Tenth session: the fifth unseen follow-up file 93 -> 94 of 100 (scored before and after, never read); the tenth
    # and eleventh tuning files 93 -> 100 and 88 -> 99 of 100.
    unseen_followups_fifth: tuple[float, float, float] = (0.95, 0.88, 0.85)
    round10: tuple[float, float, float] = (0.95, 0.94, 0.85)
    round11: tuple[float, float, float] = (0.95, 0.94, 0.85)
    round12: tuple[float, float, float] = (0.95, 0.92, 0.85)

    def floors(self, path: Path) -> tuple[float, float, float]:
        """Fact questions, follow-ups and questions the article does not answer."""
        by_file = {UNSEEN_FRESH: self.fresh, UNSEEN: self.unseen, TUNING_MORE: self.more,
                   TUNING_DIALOGUES: self.dialogues, TUNING_ROUND3: self.round3, TUNING_ROUND4: self.round4,
                   UNSEEN_FOLLOWUPS: self.unseen_followups, TUNING_ROUND5: self.round5,
                   UNSEEN_FOLLOWUPS_SECOND: self.unseen_followups_second, TUNING_ROUND6: self.round6,
                   UNSEEN_FOLLOWUPS_THIRD: self.unseen_followups_third, TUNING_ROUND7: self.round7,
                   TUNING_ROUND8: self.round8, UNSEEN_FOLLOWUPS_FOURTH: self.unseen_followups_fourth,
                   TUNING_ROUND9: self.round9, UNSEEN_THIRD: self.unseen_third,
                   UNSEEN_FOLLOWUPS_FIFTH: self.unseen_followups_fifth, TUNING_ROUND10: self.round10,
                   TUNING_ROUND11: self.round11, TUNING_ROUND12: self.round12}  # fmt: skip
        return by_file.get(path, self.tuning)

    # Journeys that go through, every turn (seventh session, at the end): the tuning files 94.3%, 100%, 95.0%, 96.2%;
    # the unseen ones 90.0%, 91.2% and 76.2% (74.3%, 78.8% and 66.2% on the session's first commit). Floors a few
    # points under, for training's variance. Ninth session: the fourth unseen file 63/70 (90.0%) before and after.
    journeys_tuning: float = 0.88
    journeys_unseen: float = 0.85
    journeys_unseen_third: float = 0.72
    # the sixth tuning file: 59/70 on the session's first commit, 66/70 (94.3%) after
    # the seventh (tenth session): 66/70 on first scoring, 70/70 after

    def journey_floor(self, path: Path) -> float:
        if path == UNSEEN_JOURNEYS_THIRD:
            return self.journeys_unseen_third
        unseen = (UNSEEN_JOURNEYS, UNSEEN_JOURNEYS_SECOND, UNSEEN_JOURNEYS_FOURTH)
        return self.journeys_unseen if path in unseen else self.journeys_tuning


def run_reply_evaluation(
    report_dir: Path, check: bool, goals: ReplyGoals = ReplyGoals(), stock_model: Path | None = None
) -> list[str]:
    """Play the files to the running assistant (and, given `stock_model`, to the stock-config baseline as well);
    write reports/reply-evaluation.md (the tuning files' failures in it) and each unseen file's failures to
    var/reply-evaluation-<file>-failures.md (not to be read while tuning); return the goals missed."""
    named = (("tuning file", TUNING), ("second tuning file", TUNING_MORE), ("dialogue tuning file", TUNING_DIALOGUES),
             ("third tuning file", TUNING_ROUND3), ("follow-up tuning file", TUNING_ROUND4),
             ("fifth tuning file", TUNING_ROUND5), ("sixth tuning file", TUNING_ROUND6),
             ("seventh tuning file", TUNING_ROUND7), ("eighth tuning file", TUNING_ROUND8),
             ("ninth tuning file", TUNING_ROUND9), ("tenth tuning file", TUNING_ROUND10),
             ("eleventh tuning file", TUNING_ROUND11), ("twelfth tuning file", TUNING_ROUND12),
             ("journeys tuning file", TUNING_JOURNEYS),
             ("second journeys tuning file", TUNING_JOURNEYS_SECOND),
             ("third journeys tuning file", TUNING_JOURNEYS_THIRD),
             ("fourth journeys tuning file", TUNING_JOURNEYS_FOURTH),
             ("fifth journeys tuning file", TUNING_JOURNEYS_FIFTH),
             ("sixth journeys tuning file", TUNING_JOURNEYS_SIXTH),
             ("seventh journeys tuning file", TUNING_JOURNEYS_SEVENTH), ("unseen file", UNSEEN),
             ("fresh unseen file", UNSEEN_FRESH), ("unseen follow-ups", UNSEEN_FOLLOWUPS),
             ("second unseen follow-ups", UNSEEN_FOLLOWUPS_SECOND),
             ("third unseen follow-ups", UNSEEN_FOLLOWUPS_THIRD),
             ("fourth unseen follow-ups", UNSEEN_FOLLOWUPS_FOURTH), ("unseen journeys", UNSEEN_JOURNEYS),
             ("second unseen journeys", UNSEEN_JOURNEYS_SECOND),
             ("third unseen journeys", UNSEEN_JOURNEYS_THIRD), ("third unseen file", UNSEEN_THIRD),
             ("fourth unseen journeys", UNSEEN_JOURNEYS_FOURTH),
             ("fifth unseen follow-ups", UNSEEN_FOLLOWUPS_FIFTH))  # fmt: skip
    files = [(label, path) for label, path in named if path.exists()]
    with running_assistant(PROJECT_ROOT / "var") as rest_url:
        scores = score_files(rest_url, files)
    if stock_model is not None:
        with running_assistant(PROJECT_ROOT / "var", stock_model) as rest_url:
            scores += score_files(rest_url, files, stock=True)
    report = markdown(scores)
    for score in scores:
        if score.stock:
            continue
        if not score.unseen:
            report += f"\n## Failures on the {score.label}\n\n" + ("\n".join(failure_lines(score)) or "- none") + "\n"
        else:
            hidden = PROJECT_ROOT / "var" / f"reply-evaluation-{score.path.stem}-failures.md"
            hidden.parent.mkdir(parents=True, exist_ok=True)
            hidden.write_text("\n".join(failure_lines(score)) + "\n", encoding="utf-8")
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "reply-evaluation.md").write_text(report, encoding="utf-8")
    print(report, flush=True)
    if not check:
        return []
    problems = []
    for score in scores:
        if score.stock:
            continue
        questions, followups, unanswerable = goals.floors(score.path)
        for kind, floor in (("question", questions), ("followup", followups), ("unanswerable", unanswerable)):
            if score.rate(kind) < floor:
                what = "questions not in the article said so" if kind == "unanswerable" else f"{kind}s answered"
                problems.append(f"{score.label}: {what} {score.rate(kind):.1%} < {floor:.0%}")
        if score.rate("journey") < goals.journey_floor(score.path):
            floor = goals.journey_floor(score.path)
            problems.append(f"{score.label}: journeys through {score.rate('journey'):.1%} < {floor:.0%}")
    return problems
