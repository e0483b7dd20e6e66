"""Rasa input/output channels: the doors people and mediators use to reach the assistant."""
