"""Venue pages, one module per page. Each view parses, calls one service, and renders the page or,
for htmx requests, just the fragment it swaps (Django 6 template partials)."""
