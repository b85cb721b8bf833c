"""Credits: pure rules (rules.py) and the one transactional ledger service (ledger.py)."""
