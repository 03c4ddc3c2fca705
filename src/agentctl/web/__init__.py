"""Fetching web pages for documents: the HTTP client with its address checks and cache
(:mod:`agentctl.web.fetch`) and the HTML-to-markdown conversion (:mod:`agentctl.web.convert`,
the only markdownify user). Imported only by ``agentctl fetch`` and the ``fetch_doc`` action."""
