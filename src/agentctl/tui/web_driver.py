"""The driver of a board served in a browser (``board --web``): textual's WebDriver, made to
end its process whenever its session ends.

textual-serve starts one ``board --tui`` process per browser session and talks to it over
its stdin and stdout. The stock driver leaves the process running when that channel is gone:
at end of input (the server died or dropped the session) nothing asks the app to exit, and
an exit that must first flush output to a server no longer reading never finishes, so
SIGTERM, which it turns into a polite exit request, does not end it either. Each such
process kept polling the workspace. Here end of input, a ``quit`` from the server, SIGTERM
and SIGHUP all ask the app to exit, and if it has not exited ``GRACE`` seconds later the
process ends anyway (the board writes only through mutations, which survive an abrupt end
like any crash).
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from typing import Any

from textual import messages
from textual.drivers.web_driver import WebDriver

GRACE = 3.0  # seconds an exit request may take before the process is ended


class SessionBoundWebDriver(WebDriver):
    _deadline: threading.Timer | None = None
    _session_loop: asyncio.AbstractEventLoop | None = None

    def start_application_mode(self) -> None:
        self._session_loop = asyncio.get_running_loop()
        super().start_application_mode()
        for number in (signal.SIGTERM, signal.SIGHUP):
            self._session_loop.add_signal_handler(number, self.end_session)

    def run_input_thread(self) -> None:
        try:
            super().run_input_thread()
        finally:
            self.end_session()  # end of input: the session is over whoever ended it

    def on_meta(self, packet_type: str, payload: dict[str, object]) -> None:
        super().on_meta(packet_type, payload)
        if packet_type == "quit":
            self.end_session()

    def end_session(self) -> None:
        """Ask the app to exit, and end the process if it has not within ``GRACE`` seconds."""
        if self._deadline is not None:
            return
        self._deadline = threading.Timer(GRACE, os._exit, args=(0,))
        self._deadline.daemon = True
        self._deadline.start()
        loop = self._session_loop
        if loop is not None and not loop.is_closed():
            app: Any = self._app
            try:
                asyncio.run_coroutine_threadsafe(app._post_message(messages.ExitApp()), loop)
            except RuntimeError:  # the loop is already shutting down
                pass
