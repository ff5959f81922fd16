"""The Bot API stand-in: see server.py."""

from .server import DEFAULT_TOKEN, FakeBotAPI, UnreachableMode

__all__ = ["DEFAULT_TOKEN", "FakeBotAPI", "UnreachableMode"]
