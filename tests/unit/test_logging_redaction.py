import io
import logging

from bot.logging_setup import REDACTED, setup_logging

TOKEN = "123456789:AAH-secret-token-value_abcdefghijk"


def test_token_is_redacted_from_messages_args_and_tracebacks():
    stream = io.StringIO()
    setup_logging("DEBUG", secrets=(TOKEN,), stream=stream)
    log = logging.getLogger("httpx.test")
    log.warning("HTTP Request: POST https://api.telegram.org/bot%s/getMe", TOKEN)
    try:
        raise RuntimeError(f"failed at /bot{TOKEN}/sendMessage")
    except RuntimeError:
        logging.getLogger("telegram").exception("boom")
    logging.getLogger("x").info("other token shaped 987654321:ZZZ-another-token-abcdefghij")
    output = stream.getvalue()
    assert TOKEN not in output
    assert "987654321:ZZZ" not in output
    assert output.count(REDACTED) >= 3
    assert "RuntimeError" in output  # the traceback itself is still there


def test_short_test_tokens_do_not_redact_ordinary_words():
    stream = io.StringIO()
    setup_logging("INFO", secrets=("x",), stream=stream)
    logging.getLogger("t").info("box")
    assert "box" in stream.getvalue()
