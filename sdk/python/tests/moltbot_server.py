"""Starts a real MoltBot host (the built moltbot.dll) on a free loopback port for the tests."""

import os
import re
import shutil
import subprocess
import tempfile
import time
import json
import urllib.request
from pathlib import Path

REPO = Path(os.environ.get("MOLTBOT_REPO", Path(__file__).resolve().parents[3]))
DLL = Path(os.environ.get("MOLTBOT_DLL", REPO / "MoltBot" / "bin" / "Debug" / "net10.0" / "moltbot.dll"))
TOKEN = "sdk-test-token-0123456789abcdef"
LISTENING = re.compile(r"Now listening on: (http://127\.0\.0\.1:\d+)")


class MoltBotServer:
    """``with MoltBotServer() as s: s.ws_url`` — a MoltBot process with its own temp data directory."""

    def __init__(self, **settings: str):
        self.settings = {
            "Gateway:Tokens:0": TOKEN,
            "Gateway:MaxTextLength": "2000",
            "Gateway:MaxFrameBytes": "16384",
            # Server pings every second and drops a client that does not answer within 2 s.
            "Gateway:HeartbeatIntervalSeconds": "1",
            "Gateway:HeartbeatTimeoutSeconds": "2",
        }
        self.settings.update(settings)

    def __enter__(self) -> "MoltBotServer":
        if not DLL.exists():
            raise RuntimeError(f"{DLL} not found: build the host first (dotnet build MoltBot)")
        self.root = Path(tempfile.mkdtemp(prefix="moltbot-sdk-py-"))
        self.log_path = self.root / "moltbot.log"
        args = ["dotnet", str(DLL), "--urls", "http://127.0.0.1:0", "--Storage:DataDirectory", str(self.root / "data"),
                "--Models:Directory", str(REPO / "models"), "--Log:Console", "human"]
        for key, value in self.settings.items():
            args += [f"--{key}", value]
        self._log = open(self.log_path, "w")
        # The host logs to stderr; a file (not a pipe) cannot fill up and block it.
        self.process = subprocess.Popen(args, cwd=self.root, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            match = LISTENING.search(self.log_path.read_text(errors="replace"))
            if match:
                self.http_url = match.group(1)
                self.ws_url = self.http_url.replace("http://", "ws://") + "/ws"
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        log = self.log_path.read_text(errors="replace")
        self.__exit__(None, None, None)
        raise RuntimeError(f"MoltBot did not start:\n{log[-4000:]}")

    def history(self, conversation: str) -> list:
        """The conversation's history through the HTTP API (independent of the WebSocket under test)."""
        request = urllib.request.Request(f"{self.http_url}/v1/conversations/{conversation}/messages?platform=web&limit=200",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)["messages"]

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        shutil.rmtree(self.root, ignore_errors=True)
