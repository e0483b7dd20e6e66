"""Handing a conversation to a human cultural mediator: tickets, relay, pause and resume."""
