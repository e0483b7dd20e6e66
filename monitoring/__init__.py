"""Monitoring for the Region and the editors' queue of unanswered questions (issue #18)."""
