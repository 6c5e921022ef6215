"""Giving: reading an amount and a frequency from a message, the campaign switch, the donation link."""
