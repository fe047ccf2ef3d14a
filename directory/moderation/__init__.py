"""Moderation: reports, impersonation queues, actions and appeals."""
