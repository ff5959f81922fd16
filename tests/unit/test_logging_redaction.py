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


CODE = "Xy3_-kL9mN0pQ1rS2tU3vW4xY5zA6bC7"  # secrets.token_urlsafe(24): the shape of an invitation code


def test_invitation_codes_are_redacted_in_every_form():
    stream = io.StringIO()
    setup_logging("DEBUG", stream=stream)
    log = logging.getLogger("telegram.ext.ExtBot")
    forms = [
        "getUpdates returned [{'message': {'text': '/start %s', 'entities': [...]}}]",  # the update that comes in
        '{"text": "/start@dudao_bot %s"}',  # a command addressed to the bot in a group
        "sendMessage with parameters {'text': '<a href=\"https://t.me/dudao_bot?start=%s\">邀请</a>'}",
        "InlineKeyboardButton(url='https://t.me/dudao_bot?ref=1&start=%s')",  # a second query parameter
        "html https://t.me/dudao_bot?ref=1&amp;start=%s",
        "share https://t.me/share/url?url=https%%3A%%2F%%2Ft.me%%2Fdudao_bot%%3Fstart%%3D%s",  # percent-encoded
        "group link https://t.me/dudao_bot?startgroup=%s",
        "form text=%%2Fstart%%20%s",
    ]
    for form in forms:
        log.debug(form, CODE)
    output = stream.getvalue()
    assert CODE not in output and CODE[:12] not in output
    assert output.count(REDACTED) == len(forms)
    assert "https://t.me/dudao_bot?start=<redacted>" in output
    assert "'/start <redacted>'" in output


def test_commands_and_words_that_only_look_similar_are_kept():
    stream = io.StringIO()
    setup_logging("DEBUG", stream=stream)
    log = logging.getLogger("bot")
    log.info("/start")
    log.info("restart=3 upstart=yes started")
    log.info("/startinspection now")
    output = stream.getvalue()
    assert REDACTED not in output
    assert "restart=3 upstart=yes started" in output and "/startinspection now" in output


def test_json_lines_are_redacted_and_carry_the_trace():
    import json

    from bot.tracing import traced

    stream = io.StringIO()
    setup_logging("DEBUG", secrets=(TOKEN,), stream=stream, fmt="json")
    log = logging.getLogger("telegram.ext.ExtBot")
    with traced(9001) as trace:
        log.debug("sendMessage with parameters {'text': '/start %s'} via /bot%s/", CODE, TOKEN)
        try:
            raise RuntimeError(f"failed at /bot{TOKEN}/sendMessage")
        except RuntimeError:
            log.exception("boom")
    log.info("outside")
    output = stream.getvalue()
    assert TOKEN not in output and CODE not in output
    first, second, third = (json.loads(line) for line in output.splitlines())
    assert first["message"] == "sendMessage with parameters {'text': '/start <redacted>'} via /bot<redacted>/"
    assert (first["request_id"], first["person_id"]) == (trace.request_id, 9001)
    assert "RuntimeError" in second["exception"] and REDACTED in second["exception"]
    assert (third["request_id"], third["person_id"]) == (None, None)


def test_text_lines_name_the_request_and_person():
    from bot.tracing import traced

    stream = io.StringIO()
    setup_logging("INFO", secrets=(TOKEN,), stream=stream)
    log = logging.getLogger("bot.x")
    with traced(42) as trace:
        log.info("token %s", TOKEN)
    log.info("idle")
    inside, outside = stream.getvalue().splitlines()
    assert inside.endswith(f"INFO bot.x req={trace.request_id} user=42: token {REDACTED}")
    assert outside.endswith("INFO bot.x req=- user=-: idle")
