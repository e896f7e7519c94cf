"""Drive headless Chromium over the DevTools protocol (CDP) on 127.0.0.1: open a page,
evaluate JavaScript in it, take a full-page screenshot. No extra dependency: aiohttp's
websocket client speaks CDP.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Page:
    """One CDP session on a page target."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        await self.ws.send_json({"id": ident, "method": method, "params": params})
        while True:
            message = json.loads((await self.ws.receive(timeout=30)).data)
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    async def wait_event(self, method: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event.get("method") == method:
                    self.events.remove(event)
                    return event
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(method)
            self.events.append(json.loads((await self.ws.receive(timeout=left)).data))

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        return result["result"].get("value")


async def _inspect(port: int, url: str, script: str, screenshot: Path | None, width: int) -> Any:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/json/list") as response:
            targets = await response.json()
        page_target = next(t for t in targets if t.get("type") == "page")
        async with http.ws_connect(page_target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            page = Page(ws)
            await page.send("Page.enable")
            await page.send(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=900,
                deviceScaleFactor=1,
                mobile=False,
            )
            await page.send("Page.navigate", url=url)
            await page.wait_event("Page.loadEventFired")
            value = await page.evaluate(script)
            if screenshot is not None:
                height = await page.evaluate("document.documentElement.scrollHeight")
                await page.send(
                    "Emulation.setDeviceMetricsOverride",
                    width=width,
                    height=int(height),
                    deviceScaleFactor=1,
                    mobile=False,
                )
                shot = await page.send("Page.captureScreenshot", format="png")
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                screenshot.write_bytes(base64.b64decode(shot["data"]))
            return value


def inspect_page(path: Path, script: str, screenshot: Path | None = None, width: int = 1000) -> Any:
    """Open `path` in headless Chromium, return the value of `script`, optionally screenshot."""
    binary = chromium_path()
    if binary is None:
        raise FileNotFoundError("chromium is not installed (.ci/run installs Debian's chromium)")
    # Chromium's helper processes may still write to the profile as the browser exits.
    profile_dir = tempfile.TemporaryDirectory(
        prefix="rotator-chromium-", ignore_cleanup_errors=True
    )
    with profile_dir as profile:
        proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + 30
            while not (port_file.exists() and port_file.read_text().strip()):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("chromium did not start its DevTools endpoint")
                time.sleep(0.05)
            port = int(port_file.read_text().splitlines()[0])
            return asyncio.run(_inspect(port, path.resolve().as_uri(), script, screenshot, width))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
