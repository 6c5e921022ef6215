"""The reply scoring of `ijm-bot evaluate`: what counts as a reply that contains the fact asked for."""

from __future__ import annotations

from bot.reply_evaluation import Case, contains, honest_markers, judge, judge_journey, load_cases, reply_text
from tests.conftest import ROOT


def test_numbers_and_percentages_match_whichever_way_they_are_written():
    assert contains("over 76,063 people", "76063")
    assert contains("a 73% reduction", "73 percent")
    assert contains("Thirty-seven girls", ["37", "thirty-seven"])
    assert not contains("76,000 people", "76,063")


def test_every_expected_item_must_be_in_the_reply():
    case = Case("question", ["how old were the girls?"], expect=[["three", "3"], "10"])
    assert judge(case, "from just three to 10 years old", [])
    assert not judge(case, "from just three years old", [])
    assert not judge(Case("question", ["?"], expect=[]), "anything", [])  # a case with nothing to find never passes


def test_a_journey_goes_through_only_if_every_checked_turn_does(tmp_path):
    path = tmp_path / "journeys.yml"
    path.write_text(
        "journeys:\n- turns:\n  - say: 'newsletter please'\n    expect_any: ['What e-mail address']\n"
        "  - say: 'hmm'\n  - say: 'yes'\n    expect_any: ['is now signed up', 'already signed up']\n"
    )
    [case] = load_cases(path)
    assert case.kind == "journey" and case.turns == ["newsletter please", "hmm", "yes"]
    assert case.checks == [["What e-mail address"], [], ["is now signed up", "already signed up"]]
    through = judge_journey(case, ["What e-mail address should...", "anything", "a@b.ca is already signed up"])
    assert through.passed and (through.turns_passed, through.turns_checked) == (2, 2)
    stuck = judge_journey(case, ["Sorry, I didn't understand that.", "anything", "a@b.ca is now signed up"])
    assert not stuck.passed and (stuck.turns_passed, stuck.turns_checked) == (1, 2)
    assert stuck.reply.startswith("turn 1 'newsletter please'")  # the failure says where the journey broke
    assert not judge_journey(Case("journey", ["hi"], checks=[[]]), ["Hello!"]).passed  # nothing checked: no pass


def test_a_question_the_article_cannot_answer_passes_only_with_an_honest_reply():
    markers = honest_markers()
    case = Case("unanswerable", ["what is the CEO's salary?"])
    assert judge(case, markers[0] + " The IJM Canada team can help.", markers)
    assert not judge(case, "IJM began in 1997.", markers)


def test_a_follow_up_the_article_cannot_answer_passes_only_with_an_honest_reply(tmp_path):
    path = tmp_path / "followups.yml"
    path.write_text("followups:\n- turns: ['who founded ijm?', 'is he married?']\n  answerable: false\n")
    [case] = load_cases(path)
    assert case.kind == "followup" and not case.answerable
    markers = honest_markers()
    assert judge(case, markers[0], markers)
    assert not judge(case, "Gary Haugen founded IJM in 1997.", markers)


def test_a_reply_is_read_with_its_buttons():
    text = reply_text([{"text": "Did you mean:", "buttons": [{"title": "When IJM began", "payload": "/x"}]}])
    assert "When IJM began" in text


def test_the_held_out_files_load_and_are_as_big_as_promised():
    tuning = load_cases(ROOT / "tests" / "nlu" / "facts_tuning.yml")
    unseen = load_cases(ROOT / "tests" / "nlu" / "facts_unseen.yml")
    assert sum(c.kind == "question" for c in unseen) >= 300
    assert sum(c.kind == "followup" for c in unseen) >= 40
    assert sum(c.kind == "question" for c in tuning) >= 150
    more = load_cases(ROOT / "tests" / "nlu" / "facts_tuning_more.yml")
    assert sum(c.kind == "question" for c in more) >= 250 and sum(c.kind == "followup" for c in more) >= 40
    fresh = load_cases(ROOT / "tests" / "nlu" / "facts_unseen_fresh.yml")
    assert sum(c.kind == "question" for c in fresh) >= 300 and sum(c.kind == "followup" for c in fresh) >= 40
    assert all(c.expect for c in unseen + tuning + fresh if c.kind in ("question", "followup"))


def test_the_safety_report_puts_the_stock_model_beside_ours_model_alone():
    from pathlib import Path

    from bot.evaluation import SAFETY_CORPUS, SafetyScore, safety_markdown

    yes, no = True, False
    ours_fired = {"model": [yes, no, yes], "net": [no, yes, no], "together": [yes, yes, yes]}
    stock_fired = {"model": [yes, no, no], "net": [no, no, no], "together": [yes, no, no]}
    ours = SafetyScore("ours", SAFETY_CORPUS, ["d1", "d2"], ["n1"], ours_fired)
    stock = SafetyScore("stock", SAFETY_CORPUS, ["d1", "d2"], ["n1"], stock_fired)
    report = safety_markdown([ours, stock])
    assert "| ours, model | `safety_corpus.yml` | 1/2 | 1/1 |" in report
    assert "| ours, net | `safety_corpus.yml` | 1/2 | 0/1 |" in report
    assert "| ours, together | `safety_corpus.yml` | 2/2 | 1/1 |" in report
    assert "| stock, together | `safety_corpus.yml` | 1/2 | 0/1 |" in report
    assert "stock, net" not in report  # the stock pipeline has no net
    assert ours.missed() == [] and stock.missed() == ["d2"] and ours.misfires("together") == ["n1"]
    assert isinstance(SAFETY_CORPUS, Path)


def test_the_stock_baseline_is_reported_beside_ours_but_never_gates(monkeypatch, tmp_path):
    """`ijm-bot evaluate --baseline` plays the same files to the stock config: its columns are in the report,
    its (lower) scores are not goals."""
    import contextlib

    import bot.reply_evaluation as evaluation
    from bot.reply_evaluation import FileScore, Outcome, run_reply_evaluation

    question = Case("question", ["when did IJM begin?"], expect=["1997"])
    served = []

    @contextlib.contextmanager
    def fake_assistant(log_dir, model=None):
        served.append(model)
        yield "stock" if model else "ours"

    def fake_scores(rest_url, files, stock=False):
        passed = rest_url == "ours"
        return [FileScore(f"{label}{' (stock config)' if stock else ''}", path, [Outcome(question, "", passed)], stock)
                for label, path in files]  # fmt: skip

    monkeypatch.setattr(evaluation, "running_assistant", fake_assistant)
    monkeypatch.setattr(evaluation, "score_files", fake_scores)
    monkeypatch.setattr(evaluation, "PROJECT_ROOT", tmp_path)
    problems = run_reply_evaluation(tmp_path, check=True, stock_model=tmp_path / "stock.tar.gz")
    report = (tmp_path / "reply-evaluation.md").read_text()
    assert served == [None, tmp_path / "stock.tar.gz"]
    assert "tuning file (stock config)" in report and "| 1/1 (100.0%) |" in report and "0/1 (0.0%)" in report
    assert problems == []  # the stock files failed everything, ours nothing: no goal missed


def test_each_file_has_its_own_floor_and_a_score_under_it_is_a_problem(monkeypatch, tmp_path):
    import contextlib

    import bot.reply_evaluation as evaluation
    from bot.reply_evaluation import TUNING, TUNING_MORE, UNSEEN, FileScore, Outcome, ReplyGoals, run_reply_evaluation

    goals = ReplyGoals()
    assert goals.floors(UNSEEN) != goals.floors(TUNING) and goals.floors(TUNING_MORE)[0] >= goals.floors(UNSEEN)[0]
    question = Case("question", ["when did IJM begin?"], expect=["1997"])

    @contextlib.contextmanager
    def fake_assistant(log_dir, model=None):
        yield "ours"

    unanswerable = Case("unanswerable", ["does Gary Haugen have kids?"])

    def failing_scores(rest_url, files, stock=False):
        journey = Case("journey", ["newsletter please"], checks=[["What e-mail address"]])
        outcomes = [Outcome(question, "", False), Outcome(unanswerable, "Gary Haugen...", False),
                    Outcome(journey, "turn 1 ...", False, 0, 1)]  # fmt: skip
        return [FileScore(label, path, outcomes, stock) for label, path in files]

    monkeypatch.setattr(evaluation, "running_assistant", fake_assistant)
    monkeypatch.setattr(evaluation, "score_files", failing_scores)
    monkeypatch.setattr(evaluation, "PROJECT_ROOT", tmp_path)
    problems = run_reply_evaluation(tmp_path, check=True)
    assert any(p.startswith("unseen file: questions answered 0.0%") for p in problems)
    assert any(p.startswith("tuning file: questions") for p in problems)
    assert any(p.startswith("third tuning file: questions not in the article said so 0.0% < 72%") for p in problems)
    assert any(p == "second unseen journeys: journeys through 0.0% < 85%" for p in problems)
    assert any(p == "third unseen journeys: journeys through 0.0% < 72%" for p in problems)
    assert any(p == "journeys tuning file: journeys through 0.0% < 88%" for p in problems)


def test_the_unseen_files_failures_stay_out_of_the_report(monkeypatch, tmp_path):
    """The unseen files are scored but their failures go to var/, not to the report read while tuning."""
    import contextlib

    import bot.reply_evaluation as evaluation
    from bot.reply_evaluation import HIDDEN, FileScore, Outcome, run_reply_evaluation

    @contextlib.contextmanager
    def fake_assistant(log_dir, model=None):
        yield "ours"

    def failing_scores(rest_url, files, stock=False):
        return [FileScore(label, path, [Outcome(Case("question", [f"secret {path.stem}"], ["x"]), "", False)], stock)
                for label, path in files]  # fmt: skip

    monkeypatch.setattr(evaluation, "running_assistant", fake_assistant)
    monkeypatch.setattr(evaluation, "score_files", failing_scores)
    monkeypatch.setattr(evaluation, "PROJECT_ROOT", tmp_path)
    problems = run_reply_evaluation(tmp_path, check=True)
    report = (tmp_path / "reply-evaluation.md").read_text()
    assert len(HIDDEN) == 12
    for hidden in HIDDEN:
        assert f"secret {hidden.stem}" not in report
        assert f"secret {hidden.stem}" in (tmp_path / "var" / f"reply-evaluation-{hidden.stem}-failures.md").read_text()
    assert "secret facts_tuning" in report
    assert any(p.startswith("fresh unseen file: questions answered 0.0%") for p in problems)
