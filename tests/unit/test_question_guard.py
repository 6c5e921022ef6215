"""A question about something is not a command, however DIET read its words."""

from __future__ import annotations

import pytest

from bot.nlu.question_guard import QuestionNotCommand
from tests.unit.nlu_messages import parsed


@pytest.mark.parametrize(
    "text",
    ["did IJM's work stop during the pandemic?", "Who carried out the study that showed the 73% drop?",
     "was the trafficking stopped in Cambodia", "Why did the numbers drop so much?", "by how much did it drop?",
     "and when did the work stop?"],
)  # fmt: skip
def test_a_question_read_as_stop_falls_back_with_diets_other_guesses_next(text):
    message = parsed(text, [("stop", 0.8), ("ask_covid", 0.12), ("nlu_fallback", 0.05)])
    QuestionNotCommand({"commands": ["stop"]}).process([message])
    assert message.get("intent") == {"name": "nlu_fallback", "confidence": 0.8}
    assert [r["name"] for r in message.get("intent_ranking")] == ["nlu_fallback", "ask_covid", "stop"]


@pytest.mark.parametrize(
    "text", ["stop", "please stop", "stop asking me questions", "can you stop", "do you stop?", "how do I stop this?",
             "stop it now", "ok stop", "and stop the form"],
)  # fmt: skip
def test_a_command_stays_a_command(text):
    message = parsed(text, [("stop", 0.9), ("deny", 0.05)])
    QuestionNotCommand({"commands": ["stop"]}).process([message])
    assert message.get("intent")["name"] == "stop"


def test_only_the_configured_commands_are_guarded():
    message = parsed("did IJM ever say no to a case?", [("deny", 0.7), ("ask_founding", 0.2)])
    QuestionNotCommand({"commands": ["stop"]}).process([message])
    assert message.get("intent")["name"] == "deny"


@pytest.mark.parametrize(
    "text", ["thank you! who led it?", "great thanks. and what happened next?", "thanks, when was that?",
             "hi, who founded IJM?", "thanks - and how many were rescued?", "ok thank you. where was the brothel"],
)  # fmt: skip
def test_a_question_after_a_courtesy_falls_back_so_that_it_is_answered(text):
    message = parsed(text, [("thank", 0.9), ("ask_followup", 0.05), ("nlu_fallback", 0.01)])
    QuestionNotCommand({"commands": ["stop"], "courtesies": ["thank"]}).process([message])
    assert message.get("intent") == {"name": "nlu_fallback", "confidence": 0.9}
    assert [r["name"] for r in message.get("intent_ranking")] == ["nlu_fallback", "ask_followup", "thank"]
    # the question alone is what the card matcher reads
    question = message.get("question_part")
    assert question and text.endswith(question) and len(question) < len(text)
    assert message.get("question_after_preamble") is False


@pytest.mark.parametrize(
    "text", ["thank you!", "thanks, bye", "thanks so much, that helps", "hi, can you help me?", "thank you. how do I "
             "give?", "thanks! who are you?", "hello there", "thanks, what can you do?", "alright, have a good one",
             "thanks, is there more"],
)  # fmt: skip
def test_a_courtesy_alone_or_with_a_request_stays_a_courtesy(text):
    message = parsed(text, [("thank", 0.9), ("donate", 0.05)])
    QuestionNotCommand({"commands": ["stop"], "courtesies": ["thank"]}).process([message])
    assert message.get("intent")["name"] == "thank"


def test_courtesies_are_guarded_only_when_configured():
    message = parsed("thank you! who led it?", [("thank", 0.9), ("ask_followup", 0.05)])
    QuestionNotCommand({"commands": ["stop"]}).process([message])
    assert message.get("intent")["name"] == "thank"


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("oh cool my dad loves that show. what country was it about?", "what country was it about?"),
        (
            "makes sense, ty. what happened to trafficking of minors after?",
            "what happened to trafficking of minors after?",
        ),
        ("wow that's so sad, how many girls were there?", "how many girls were there?"),
    ],
)
def test_a_question_after_a_reaction_not_understood_as_a_whole_is_read_as_its_question(text, question):
    for intent in ("nlu_fallback", "out_of_scope"):
        message = parsed(text, [(intent, 0.5), ("ask_followup", 0.3)])
        QuestionNotCommand({"preambles": ["nlu_fallback", "out_of_scope"]}).process([message])
        assert message.get("intent")["name"] == "nlu_fallback"
        assert message.get("question_part") == question
        assert message.get("question_after_preamble") is True  # the card matcher reads the whole message too


@pytest.mark.parametrize(
    "text",
    ["what is this?", "I want to help. where do I start?", "hmm, what can you do?", "ok, tell me more", "cool. bye"],
)
def test_no_question_part_without_a_question_about_something_after_something_else(text):
    message = parsed(text, [("out_of_scope", 0.5), ("ask_followup", 0.3)])
    QuestionNotCommand({"preambles": ["out_of_scope"]}).process([message])
    assert message.get("question_part") is None and message.get("intent")["name"] == "out_of_scope"


def test_a_question_after_a_reaction_is_guarded_only_for_the_configured_intents():
    message = parsed("oh cool. what country was it about?", [("fundraise", 0.8), ("out_of_scope", 0.1)])
    QuestionNotCommand({"preambles": ["nlu_fallback", "out_of_scope"]}).process([message])
    assert message.get("question_part") is None and message.get("intent")["name"] == "fundraise"
    # a fact question keeps its intent (its question part is read in the thread, the intent is not replaced)
    message = parsed("oh cool. what country was it about?", [("ask_media_coverage", 0.8), ("out_of_scope", 0.1)])
    QuestionNotCommand({"preambles": ["nlu_fallback", "out_of_scope"]}).process([message])
    assert message.get("intent")["name"] == "ask_media_coverage"


@pytest.mark.parametrize(
    ("text", "question"),
    [("oh my gosh, babies basically. how many girls total?", "how many girls total?"),
     ("I work in program evaluation so I'm always suspicious of self-reported numbers, who actually verified the "
      "result they're quoting?", "who actually verified the result they're quoting?"),
     ("my grandmother was married at 15 so this hits home, can you tell me what the bill actually did?",
      "what the bill actually did?"),
     ("as someone who's seen fuzzy reports, I'd love to know what this data actually proved, if anything?",
      "what this data actually proved, if anything?"),
     ("usually these cases drag on for months, so how quickly did they get everyone out?",
      "so how quickly did they get everyone out?")],
)  # fmt: skip
def test_the_question_after_a_story_in_a_fact_question_is_its_question_part_and_the_intent_is_kept(text, question):
    message = parsed(text, [("ask_event", 0.8), ("ask_impact", 0.1)])
    QuestionNotCommand({"preambles": ["nlu_fallback"]}).process([message])
    assert message.get("intent")["name"] == "ask_event"
    assert message.get("question_part") == question


@pytest.mark.parametrize(
    ("text", "intent"),
    [("when did IJM start, and who founded it?", "ask_founding"),  # asks two things: the whole is the question
     ("tell me about cambodia? who led it?", "ask_event"),
     ("babies basically. how many?", "ask_event"),  # too short to have a story before the question
     ("my kids want to help, where do I start? what ideas do you have", "fundraise"),  # not a fact question
     ("the girls were so young, it breaks my heart", "ask_event")],  # no question at the end
)  # fmt: skip
def test_no_question_part_when_the_part_before_asks_too_or_the_message_is_no_fact_question(text, intent):
    message = parsed(text, [(intent, 0.8), ("nlu_fallback", 0.1)])
    QuestionNotCommand({"preambles": ["nlu_fallback"]}).process([message])
    assert message.get("question_part") is None


def test_a_question_after_no_thanks_is_answered_with_the_configured_courtesies():
    """config.yml's courtesies include `deny`: "no thanks. what's the events email tho" after the offer to take a
    message asks for the events address; "no thanks, what else can you do?" (asked of the assistant) stays a no."""
    from pathlib import Path

    import yaml

    pipeline = yaml.safe_load((Path(__file__).parents[2] / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    config = next(c for c in pipeline if c["name"].endswith("QuestionNotCommand"))
    message = parsed("no thanks. what's the events email tho", [("deny", 0.8), ("talk_to_person", 0.1)])
    QuestionNotCommand(config).process([message])
    assert message.get("intent")["name"] == "nlu_fallback"
    assert message.get("question_part") == "what's the events email tho"
    message = parsed("no thanks, what else can you do?", [("deny", 0.8), ("ask_capabilities", 0.1)])
    QuestionNotCommand(config).process([message])
    assert message.get("intent")["name"] == "deny"


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("and what was his goal at the start, if you don't mind me asking?", "and what was his goal at the start"),
        ("how old were the girls by any chance?", "how old were the girls"),
        ("who funded it, thanks", "who funded it"),
    ],
)
def test_the_question_before_a_courtesy_that_ends_the_message_is_its_question_part(text, question):
    message = parsed(text, [("nlu_fallback", 0.45), ("ask_founder", 0.3)])
    QuestionNotCommand({"preambles": ["nlu_fallback", "out_of_scope"]}).process([message])
    assert message.get("question_part") == question


@pytest.mark.parametrize("text", ["thanks", "what can you do, please", "ok, if that's ok"])
def test_a_courtesy_at_the_end_of_no_question_about_something_leaves_no_question_part(text):
    message = parsed(text, [("nlu_fallback", 0.45), ("ask_founder", 0.3)])
    QuestionNotCommand({"preambles": ["nlu_fallback", "out_of_scope"]}).process([message])
    assert message.get("question_part") is None


def test_a_question_in_a_later_sentence_after_a_courtesy_is_answered():
    """ "Lovely, thank you. What was the title of that free guide you mentioned?": the question is the last sentence,
    and "you mentioned" does not make it a question to the assistant; "thanks, what can you do?" stays a courtesy."""
    text = "Lovely, thank you. What was the title of that free guide you mentioned?"
    message = parsed(text, [("thank", 0.77), ("ask_founder", 0.1)])
    guard = QuestionNotCommand({"courtesies": ["thank"]})
    guard.process([message])
    assert message.get("intent")["name"] == "nlu_fallback"
    assert message.get("question_part") == "What was the title of that free guide you mentioned?"
    courtesy = parsed("thanks, what can you do?", [("thank", 0.9), ("ask_capabilities", 0.1)])
    guard.process([courtesy])
    assert courtesy.get("intent")["name"] == "thank"
