"""Rasa input channels: Rasa's own REST and socket.io channels, with input checked before it reaches the model.

Loaded by the Rasa server through credentials.yml, which makes this the place to remove the work stock Rasa
repeats on every message (bot/rasa_speedups/).
"""

from bot import rasa_speedups

rasa_speedups.install()
