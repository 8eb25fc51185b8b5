"""The operator console: web pages and a JSON API served by the daemon on its own listen
address (``[console] listen``), over the same service layer as the operator CLI.

app.py is what every call stands on (the Call, the role checks), auth.py signs sessions and
checks CSRF and roles, pages.py and api.py are the two faces, server.py assembles the FastAPI
application and runs it under uvicorn in the daemon.
"""
