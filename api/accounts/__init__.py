"""Accounts: password hashing, API keys, and the admin operations (users, teams, businesses)."""
