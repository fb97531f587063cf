"""The sign-in tests use the directories and directory-backed nodes of tests/conftest.py."""
