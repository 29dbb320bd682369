"""The browser sandbox page: static HTML/CSS/JS plus a few JSON routes, next to the control API.

``app.build_page_app`` serves ``static/`` and mounts the emulator's ``/sandbox/api`` routes on the
same origin, so the page can download files (the policy PDF) with their names and no CORS.
"""
