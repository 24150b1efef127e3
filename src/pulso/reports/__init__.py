"""CSV, XLSX and PDF renderers (issue 8)."""
