"""The card verdict of bot/nlu/card_matcher.py on hand-made parse data: which card, how sure, and when a message
the DIET classifier could not place is given a topic after all."""

from __future__ import annotations

from rasa.shared.nlu.training_data.message import Message

from bot.nlu.card_matcher import CardMatcher

EXAMPLES = {
    "ask_founding/founding_year": ["when was IJM founded", "what year did IJM start"],
    "ask_founder/gary_haugen": ["who founded IJM", "who is Gary Haugen"],
    "ask_event/gates_result_79": ["what did the auditors find in the Philippines", "what was the 79% reduction"],
    "safety_followup/calling": ["what happens when I call", "is the call free"],
}


def matcher(examples: dict[str, list[str]] = EXAMPLES) -> CardMatcher:
    return CardMatcher(CardMatcher.get_default_config(), None, None, examples)  # type: ignore[arg-type]


def parsed(text: str, intents: list[tuple[str, float]], selector: dict[str, float]) -> Message:
    message = Message(data={"text": text})
    ranking = [{"name": name, "confidence": confidence} for name, confidence in intents]
    message.set("intent", ranking[0])
    message.set("intent_ranking", ranking)
    selector_ranking = [{"intent_response_key": label, "confidence": c} for label, c in selector.items()]
    message.set("response_selector", {"default": {"ranking": selector_ranking}})
    return message


def verdict_of(message: Message) -> tuple[str, dict]:
    matcher().process([message])
    return message.get("intent")["name"], message.get("fact_card")


def test_a_confident_question_gets_its_card_and_keeps_its_intent():
    intent, card = verdict_of(parsed("what year did IJM start?", [("ask_founding", 0.9)],
                                     {"ask_founding/founding_year": 0.9}))  # fmt: skip
    assert intent == "ask_founding"
    assert card["card"] == "founding_year" and card["unsure"] is False
    assert card["ranking"][0]["label"] == "ask_founding/founding_year"


def test_not_understood_but_the_guess_and_the_card_agree_is_answered():
    """DIET's guess just under the fallback threshold and the card ranked first point to the same topic."""
    message = parsed("is IJM really that old, or is that marketing?",
                     [("nlu_fallback", 0.45), ("ask_founding", 0.41), ("ask_mission", 0.1)],
                     {"ask_founding/founding_year": 0.45, "ask_founder/gary_haugen": 0.05})  # fmt: skip
    intent, card = verdict_of(message)
    assert intent == "ask_founding"
    assert card["card"] == "founding_year" and card["unsure"] is False
    assert message.get("intent_ranking")[0]["name"] == "ask_founding"


def test_not_understood_and_the_guess_points_elsewhere_stays_not_understood():
    message = parsed("is IJM really that old, or is that marketing?",
                     [("nlu_fallback", 0.45), ("ask_mission", 0.41)],
                     {"ask_founding/founding_year": 0.45})  # fmt: skip
    assert verdict_of(message)[0] == "nlu_fallback"


def test_not_understood_with_a_weak_guess_stays_not_understood():
    message = parsed("is IJM really that old, or is that marketing?",
                     [("nlu_fallback", 0.45), ("ask_founding", 0.12)],
                     {"ask_founding/founding_year": 0.45})  # fmt: skip
    assert verdict_of(message)[0] == "nlu_fallback"


def test_a_close_lexical_match_is_rescued_without_the_model():
    message = parsed("who founded IJM??", [("nlu_fallback", 0.45), ("greet", 0.2)], {})
    intent, card = verdict_of(message)
    assert intent == "ask_founder" and card["card"] == "gary_haugen"


def test_a_safety_follow_up_is_never_given_by_rescue():
    """Its questions only make sense right after the safety answer."""
    message = parsed("is the call free", [("nlu_fallback", 0.45), ("safety_followup", 0.4)],
                     {"safety_followup/calling": 0.8})  # fmt: skip
    assert verdict_of(message)[0] == "nlu_fallback"


def test_the_guess_may_agree_with_the_second_card():
    message = parsed("is IJM only about the founder?", [("nlu_fallback", 0.45), ("ask_founder", 0.35)],
                     {"ask_founding/founding_year": 0.5, "ask_founder/gary_haugen": 0.4})  # fmt: skip
    intent, card = verdict_of(message)
    assert intent == "ask_founder" and card["card"] == "gary_haugen"  # re-ranked with the rescued intent


def test_a_year_named_favours_the_card_whose_questions_name_it():
    examples = {**EXAMPLES, "ask_event/cambodia_73_percent": ["what did the 2015 study find"],
                "ask_event/india_2020": ["what happened in 2020", "what happened in India"]}  # fmt: skip
    card_matcher = matcher(examples)
    message = parsed("what happened in 2015", [("ask_event", 0.99)],
                     {"ask_event/india_2020": 0.59, "ask_event/cambodia_73_percent": 0.04})  # fmt: skip
    message.set("entities", [{"entity": "year", "value": "2015"}])
    card_matcher.process([message])
    assert message.get("fact_card")["card"] == "cambodia_73_percent"

    without = parsed("what happened in 2015", [("ask_event", 0.99)],
                     {"ask_event/india_2020": 0.6, "ask_event/cambodia_73_percent": 0.05})  # fmt: skip
    card_matcher.process([without])  # no year entity: no bonus
    assert without.get("fact_card")["card"] == "india_2020"


def test_a_wrong_year_in_the_question_does_not_outweigh_a_clear_question():
    """ "Was IJM founded in 2000?": the founding card, whose questions name 1997, still wins."""
    examples = {**EXAMPLES, "ask_field_offices/offices_2000": ["what happened in 2000", "offices opened in 2000"],
                "ask_founding/founding_year": ["when was IJM founded", "was IJM founded in 1997"]}  # fmt: skip
    card_matcher = matcher(examples)
    message = parsed("was IJM founded in 2000?", [("ask_founding", 0.95)],
                     {"ask_founding/founding_year": 0.9, "ask_field_offices/offices_2000": 0.02})  # fmt: skip
    message.set("entities", [{"entity": "year", "value": "2000"}])
    card_matcher.process([message])
    assert message.get("fact_card")["card"] == "founding_year"


def test_an_ambiguous_message_is_answered_when_its_second_guess_agrees_with_the_cards():
    """Two guesses too close to call make the fallback classifier give up; the cards can break the tie."""
    message = parsed("where did IJM start out, like physically?",
                     [("nlu_fallback", 0.3), ("out_of_scope", 0.45), ("ask_founding", 0.43)],
                     {"ask_founding/founding_year": 0.3})  # fmt: skip
    intent, card = verdict_of(message)
    assert intent == "ask_founding" and card["card"] == "founding_year"


def test_an_event_named_favours_the_cards_whose_questions_name_it():
    examples = {**EXAMPLES, "ask_event/gates_project": ["what was the Gates Foundation project", "the gates project"]}
    card_matcher = matcher(examples)
    text = "Gates Foundation: what year did it start?"
    selector = {"ask_founding/founding_year": 0.5, "ask_event/gates_project": 0.3}
    named = parsed(text, [("ask_event", 0.5)], selector)
    named.set("entities", [{"entity": "event", "value": "gates_project", "start": 0, "end": 16}])
    unnamed = parsed(text, [("ask_event", 0.5)], selector)
    card_matcher.process([named, unnamed])
    assert named.get("fact_card")["card"] == "gates_project"
    bonus = card_matcher.config["event_bonus"]
    scores = {e["label"]: e["score"] for e in unnamed.get("fact_card")["ranking"]}
    assert {e["label"]: e["score"] for e in named.get("fact_card")["ranking"]}["ask_event/gates_project"] == (
        round(scores["ask_event/gates_project"] + bonus, 4)
    )


def test_a_year_no_card_knows_changes_no_score():
    """ "Was the bill passed in 2012?": every card would be penalised alike, and the verdict made less sure."""
    examples = {**EXAMPLES, "ask_event/child_marriage_bill": ["what happened in 2021", "the child marriage bill"]}
    card_matcher = matcher(examples)
    with_year = parsed("was the bill passed in 2012?", [("ask_event", 0.9)], {"ask_event/child_marriage_bill": 0.9})
    with_year.set("entities", [{"entity": "year", "value": "2012"}])
    without = parsed("was the bill passed in 2012?", [("ask_event", 0.9)], {"ask_event/child_marriage_bill": 0.9})
    card_matcher.process([with_year, without])
    assert with_year.get("fact_card")["score"] == without.get("fact_card")["score"]


def test_a_number_named_favours_the_card_whose_questions_name_it():
    """ "I heard the 73% figure came from the Philippines?": the 73% belongs to Cambodia, whatever the place says."""
    examples = {**EXAMPLES, "ask_event/cambodia_73_percent": ["what did the 2015 study find", "the 73% drop"]}
    card_matcher = matcher(examples)
    message = parsed("I heard the 73% figure came from the Philippines?", [("ask_event", 0.9)],
                     {"ask_event/gates_result_79": 0.5, "ask_event/cambodia_73_percent": 0.2})  # fmt: skip
    card_matcher.process([message])
    assert message.get("fact_card")["card"] == "cambodia_73_percent"


def test_a_card_scoring_high_on_its_own_rescues_a_message_diet_could_not_place():
    examples = {**EXAMPLES, "ask_event/gates_result_79": ["what was the 79% reduction", "who found the 79%"]}
    card_matcher = matcher(examples)
    message = parsed("That 79 percent: is it IJM's own number or did someone else measure it?",
                     [("nlu_fallback", 0.3), ("ask_more", 0.41)], {"ask_event/gates_result_79": 0.6})  # fmt: skip
    card_matcher.process([message])
    assert message.get("intent")["name"] == "ask_event" and message.get("fact_card")["card"] == "gates_result_79"


def test_without_a_response_selector_the_card_classifier_gives_the_learned_opinion():
    examples = {**EXAMPLES, "ask_founder/haugen_lawyer": ["what was Gary's job before IJM", "was he a lawyer"]}
    message = parsed("what did gary do for a living before ijm", [("ask_founder", 0.9)], {})
    message.set("response_selector", None)
    matcher(examples).process([message])
    ranking = message.get("fact_card")["ranking"]
    assert ranking[0]["label"] == "ask_founder/haugen_lawyer"
    assert ranking[0]["selector"] > 0.3 and ranking[0]["selector"] > ranking[1]["selector"]


def test_the_card_classifier_is_trained_with_the_model_and_loaded_from_it(tmp_path):
    """Trained once at `rasa train`, kept in the model: loading does not retrain it."""
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.nlu import card_matcher

    storage = LocalModelStorage(tmp_path)
    resource = Resource("card_matcher")
    trained = CardMatcher.create(CardMatcher.get_default_config(), storage, resource, None)  # type: ignore[arg-type]
    data = TrainingData(
        [
            Message(data={"text": text, "intent": label.split("/")[0], "intent_response_key": label})
            for label, texts in EXAMPLES.items()
            for text in texts
        ]
    )
    trained.train(data)

    def refuse(*args, **kwargs):
        raise AssertionError("the classifier was trained again at load time")

    original = card_matcher.CardClassifier.__init__
    card_matcher.CardClassifier.__init__ = refuse  # type: ignore[method-assign]
    try:
        loaded = CardMatcher.load(CardMatcher.get_default_config(), storage, resource, None)  # type: ignore[arg-type]
    finally:
        card_matcher.CardClassifier.__init__ = original  # type: ignore[method-assign]
    assert loaded.classifier.probabilities("who founded IJM") == trained.classifier.probabilities("who founded IJM")
    assert max(loaded.classifier.probabilities("when was IJM founded").items(), key=lambda kv: kv[1])[0] == (
        "ask_founding/founding_year"
    )


def test_the_card_classifiers_probabilities_are_its_models_own():
    """The direct computation gives what scikit-learn's predict_proba gives, for many cards and for two."""
    import numpy as np
    from scipy.sparse import hstack

    from bot.nlu.card_matcher import CardClassifier, normalise

    two = {label: EXAMPLES[label] for label in list(EXAMPLES)[:2]}
    for examples in (EXAMPLES, two):
        classifier = CardClassifier(examples, 20.0)
        for text in ("who started IJM?", "what did the auditors find", "is the call free"):
            x = [normalise(text)]
            features = hstack([classifier.characters.transform(x), classifier.words.transform(x)]).tocsr()
            expected = classifier.model.predict_proba(features)[0]
            got = classifier.probabilities(text)
            assert np.allclose([got[label] for label in classifier.model.classes_], expected)


def test_a_cards_years_are_the_articles_not_those_of_its_wrong_premise_questions():
    """ "Was IJM founded in 2000?" trains the founding card, but 2000 is the year of the first field offices: a
    question naming 2000 is favoured towards the offices' card, and the founding card's year is 1997."""
    examples = {
        "ask_founding/founding_year": ["when was IJM founded", "was IJM founded in 2000?", "what year did IJM start"],
        "ask_field_offices/offices_2000": ["where were the first field offices", "which offices opened first"],
    }
    built = matcher(examples)
    assert built.years["ask_founding/founding_year"] == frozenset({"1997"})
    assert "2000" in built.years["ask_field_offices/offices_2000"]
    message = parsed("what happened in 2000?", [("ask_event", 0.6)], {})
    message.set("entities", [{"entity": "year", "value": "2000"}])
    message.set("response_selector", None)
    built.process([message])
    assert message.get("fact_card")["card"] == "offices_2000"


def test_a_card_classifier_used_before_it_is_pickled_pickles_and_answers_the_same():
    """Its derived weights and analyzers are rebuilt after loading, not pickled (an analyzer may not pickle)."""
    import pickle

    from bot.nlu.card_matcher import CardClassifier

    classifier = CardClassifier(EXAMPLES, 20.0)
    before = classifier.probabilities("who started IJM?")
    restored = pickle.loads(pickle.dumps(classifier))
    assert "_analyses" not in restored.__dict__ and "_weights" not in restored.__dict__
    assert restored.probabilities("who started IJM?") == before


def test_the_lexical_index_scores_the_best_cosine_of_each_cards_questions():
    """Computed over the message's n-grams only; the same as scikit-learn's transform and a cosine, card by card."""
    import numpy as np
    from sklearn.metrics.pairwise import cosine_similarity

    from bot.nlu.card_matcher import LexicalIndex, normalise

    index = LexicalIndex(EXAMPLES)
    for text in ("who started IJM?", "what did the auditors find", "qqqq", ""):
        scores = index.scores(text)
        for label in EXAMPLES:
            questions = index.vectorizer.transform([normalise(q) for q in EXAMPLES[label]])
            expected = cosine_similarity(index.vectorizer.transform([normalise(text)]), questions).max()
            assert np.isclose(scores[label], max(expected, 0.0)), (text, label)


def test_words_that_name_one_topic_are_reported_and_words_every_topic_uses_are_not():
    examples = {
        "ask_covid/covid_work_continued": [f"did the pandemic stop ijm {i}" for i in range(6)],
        "ask_founder/gary_haugen": ["who is the founder", "the founder?"]
        + [f"who is gary haugen of the organisation {i}" for i in range(4)],
        "ask_founding/founding_year": [f"when did the organisation start {i}" for i in range(6)],
    }
    words = matcher(examples).words_naming_topics("Did the PANDEMIC change the organisation?")
    assert words == {"pandemic": "covid"}  # "organisation" is in two topics' questions
    assert matcher(examples).words_naming_topics("who benefits?") == {}
    # a topic's title word counts when its questions use it most ("founder": "The founder, Gary Haugen")
    assert matcher(examples).words_naming_topics("founder?") == {"founder": "founder"}


def test_the_classifiers_coefficients_are_kept_in_single_precision_even_from_an_older_model(tmp_path):
    """Half the memory (the Rasa server's 800 MB goal); a model pickled with doubles is loaded as singles."""
    import joblib
    import numpy as np
    import pytest

    from bot.nlu.card_matcher import CardClassifier

    classifier = CardClassifier(EXAMPLES, 20.0)
    assert classifier.model.coef_.dtype == np.float32
    classifier.model.coef_ = classifier.model.coef_.astype(np.float64)  # as models trained before 2026-12-07
    joblib.dump(classifier, tmp_path / "old.pkl")
    loaded = joblib.load(tmp_path / "old.pkl")
    assert loaded.model.coef_.dtype == np.float32
    assert loaded.probabilities("who started IJM?") == pytest.approx(classifier.probabilities("who started IJM?"))


def test_the_question_after_a_courtesy_is_what_the_cards_are_matched_against():
    # the question part that bot/nlu/question_guard.py keeps, not the thanks before it
    text = "thanks for what the auditors found in the Philippines, the 79% reduction! who founded IJM?"
    message = parsed(text, [("nlu_fallback", 0.5)], {})
    message.set("question_part", "who founded IJM?")
    _, card = verdict_of(message)
    assert card["card"] == "gary_haugen"
    # the whole message is read as the 79% result
    _, card = verdict_of(parsed(text, [("nlu_fallback", 0.5)], {}))
    assert card["card"] == "gates_result_79"


def test_a_number_before_the_question_part_still_counts():
    # "no the other one, the 79% one. where was that?": the question part is "where was that?", the 79 is before it
    text = "no the other one, the 79% one. where was that?"
    message = parsed(text, [("nlu_fallback", 0.5)], {})
    message.set("question_part", "where was that?")
    _, card = verdict_of(message)
    assert card["card"] == "gates_result_79"


def test_after_a_reaction_or_a_story_the_whole_message_is_read_as_well_as_its_question():
    text = "I keep thinking about the auditors in the Philippines. when was that?"
    message = parsed(text, [("nlu_fallback", 0.5)], {})
    message.set("question_part", "when was that?")
    message.set("question_after_preamble", True)
    _, card = verdict_of(message)
    assert card["card"] == "gates_result_79"
    # a courtesy's question part is read alone
    message = parsed(text, [("nlu_fallback", 0.5)], {})
    message.set("question_part", "when was that?")
    _, card = verdict_of(message)
    assert card["card"] == "founding_year"
