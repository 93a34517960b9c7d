"""The page kit every HTML page shares: templates, the login session, the layout.

It sits above ``accounts`` and below every domain that draws pages (web, gp, sas,
messaging, indicators), so that a domain can render a page without importing ``web``.
"""
