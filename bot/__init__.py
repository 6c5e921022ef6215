"""The IJM Canada supporter assistant: everything around the Rasa project (CLI, settings, content, web app)."""
