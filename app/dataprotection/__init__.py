"""Data protection duties: retention of personal data (issue 20, item 6)."""
