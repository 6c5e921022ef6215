"""Rasa input channels: Rasa's own REST and socket.io channels, with input checked before it reaches the model.

Loaded by the Rasa server through credentials.yml.
"""
