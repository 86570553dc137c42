"""The board portal (``vogscreen serve``): the API for HR systems under ``/api/v1`` and the
Dutch pages for people under ``/``, in one FastAPI app. Like the CLI it is an entry point:
it checks who is asking and for which board, calls one pipeline function, and shows the
answer. It has no logic of its own."""
