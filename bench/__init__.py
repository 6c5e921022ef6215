"""Benchmarks (not tests): see bench/console_scale.py."""
