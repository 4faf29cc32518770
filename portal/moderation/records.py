"""The record of decisions (/moderation/log), its exports and the dashboard (/moderation/stats)."""
