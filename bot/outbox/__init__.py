"""The outbox: records that still have to reach a webhook or a team's inbox, and the worker that sends them.

A record and its outbox rows are written in one transaction, so nothing recorded can miss its delivery; the
worker (`python -m bot.outbox`, started by `ijm-bot run`) retries until the destination accepts it.
"""
