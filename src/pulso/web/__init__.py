"""Dashboard pages (one module per page), Jinja2 templates and static assets. Pages call services only."""
