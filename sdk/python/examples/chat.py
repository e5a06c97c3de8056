"""Command-line chat with MoltBot:  MOLTBOT_TOKEN=... [MOLTBOT_URL=ws://HOST:PORT/ws] python3 examples/chat.py
Replies stream as they are produced; /history shows the conversation; Ctrl+D quits."""
import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import moltbot  # noqa: E402


async def main(url: str, token: str) -> None:
    async with moltbot.Client(url, token) as client:
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                return
            text = line.strip()
            if text == "/history":
                for m in await client.history(limit=20):
                    print(f"{m.get('direction')}: {m.get('text')}")
            elif text:
                reply = await client.send(text)
                streamed = [print(d, end="", flush=True) or d async for d in reply]
                final = await reply.final()
                print("" if streamed else final.text)


if __name__ == "__main__":
    try:
        asyncio.run(main(os.environ.get("MOLTBOT_URL", "ws://127.0.0.1:8080/ws"), os.environ["MOLTBOT_TOKEN"]))
    except moltbot.MoltBotError as error:
        sys.exit(f"moltbot: {error}")
