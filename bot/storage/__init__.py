"""The databases: Rasa's conversation store and (later) the app's own tables."""
