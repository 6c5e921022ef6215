"""Fundraiser help: ideas and tips by kind, the guide, events@ijm.ca, and a lead for the events team."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import JourneyForm, form_values, reset
from actions.journey_thread import last_bot_action, picks_a_fundraiser_kind
from actions.records import submit_enquiry
from bot.content.contacts import contacts
from bot.content.supporters import Messages, enquiry_messages, fundraising_content
from bot.settings import Settings
from bot.supporters.replies import fundraising_replies
from bot.supporters.understanding import looks_like_question

# "can your team help us plan it?", "could someone from the events team call me?": asking for what the offer offers,
# right after it (DIET reads it as a follow-up, not as a yes).
ASKS_FOR_THE_TEAMS_HELP = re.compile(
    r"\b(can|could|would|will)\b.{0,30}\b(team|someone|somebody|you|events)\b.{0,30}"
    r"\b(help|plan|contact|reach|get in touch|call|e-?mail)\b.{0,20}\b(us|me|it|plan\w*)\b",
    re.IGNORECASE,
)


# "nah i'll just read the guide first, what's it called again": a no that asks for the guide.
ASKS_ABOUT_THE_GUIDE = re.compile(r"\b(guide|tips|what'?s it called|what is it called|name of it)\b|\?", re.IGNORECASE)


def asks_for_the_teams_help(tracker: Tracker) -> bool:
    text = str(tracker.latest_message.get("text") or "")
    return last_bot_action(tracker) == "action_fundraising_ideas" and bool(ASKS_FOR_THE_TEAMS_HELP.search(text))


# "a car wash fundraiser", "host a bake sale", "a lemonade stand": the visitor named what they will do, though it is
# none of the kinds with tips; the lead form takes it as the kind and does not ask again.
ACTIVITY = re.compile(
    r"\b(?:a|an|our|my)\s+((?:[a-z][\w'-]*\s+){0,2}?(?:\w+-a-thon|\w+athon|sale|wash|stand|drive|night|dinner|gala|auction|concert|"
    r"tournament|show|fair|market|breakfast|brunch|bbq|barbecue|raffle|dance|festival|hike|swim|run|walk|ride|"
    r"cook-?off))\b",
    re.IGNORECASE,
)


def _kind_named(tracker: Tracker) -> str | None:
    kind = next(iter(tracker.get_latest_entity_values("fundraiser_kind")), None)
    return kind if kind in fundraising_content().kinds else None


def described_activity(text: str) -> str | None:
    """The activity a visitor named that is none of the kinds ("car wash"), for the lead's kind."""
    match = ACTIVITY.search(text)
    return match.group(1).lower() if match else None


class ActionFundraisingIdeas(Action):
    """ "How can I fundraise?" → every kind with tips; "a birthday fundraiser" → that kind's tips only.
    A follow-up to the ideas ("is there a guide?", "email?": any other intent, data/rules.yml) gets the guide,
    the events team and the offer again, not the ideas a second time; asking for the team's help ("can your team help
    us plan it?") takes the offer."""

    def name(self) -> str:
        return "action_fundraising_ideas"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if asks_for_the_teams_help(tracker):
            return [FollowupAction("fundraiser_form")]  # "can your team help us plan it?" takes the offer
        follow_up = (tracker.latest_message.get("intent") or {}).get("name") != "fundraise"
        # a follow-up that picks one of the ideas ("i like the birthday one") gets that kind's tips
        kind = _kind_named(tracker) if not follow_up or picks_a_fundraiser_kind(tracker) else None
        public_url = Settings.from_env().public_url
        for reply in fundraising_replies(kind, public_url, tracker.sender_id, ideas=not follow_up or kind is not None):
            dispatcher.utter_message(text=reply.text, buttons=reply.buttons)
        # Remembered so that the lead form, if accepted, doesn't ask for the kind again.
        text = str(tracker.latest_message.get("text") or "")
        return [] if follow_up else [SlotSet("lead_event_kind", kind or described_activity(text))]


class ActionDeclineFundraiserHelp(Action):
    def name(self) -> str:
        return "action_decline_fundraiser_help"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        """ "nah i'll just read the guide first, what's it called again": the no, and the guide and the events team
        when the no comes with a question or asks for the guide."""
        dispatcher.utter_message(text=fundraising_content().message("declined_offer"))
        text = str(tracker.latest_message.get("text") or "")
        if looks_like_question(text) or ASKS_ABOUT_THE_GUIDE.search(text):
            public_url = Settings.from_env().public_url
            replies = fundraising_replies(None, public_url, tracker.sender_id, offer=False, ideas=False)
            dispatcher.utter_message(text=replies[-1].text)  # the guide and the events team
        return reset("fundraiser_form")


class ValidateFundraiserForm(JourneyForm):
    form = "fundraiser_form"

    def messages(self) -> Messages:
        return enquiry_messages()


class ActionSubmitFundraiserLead(Action):
    def name(self) -> str:
        return "action_submit_fundraiser_lead"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        values = form_values(tracker, "fundraiser_form")
        content = fundraising_content()
        kind = values["lead_event_kind"]
        submit_enquiry(
            dispatcher,
            tracker,
            kind="fundraiser",
            team=contacts().get("events"),
            name=values["lead_name"],
            email=values["lead_email"],
            details={
                "event_kind": content.kinds[kind].title if kind in content.kinds else str(kind),
                "event_date": str(values["lead_event_date"]),
            },
            thank_you=content.message("thank_you"),
        )
        return reset("fundraiser_form")
