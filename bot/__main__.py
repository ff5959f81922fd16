import sys

from bot.cli import entry

sys.exit(entry(sys.argv[1:]))
