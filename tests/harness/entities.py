"""Telegram text formatting, emulated closely enough to reject what Telegram rejects.

`parse_formatted_text(text, parse_mode)` turns the ``text``/``caption`` a bot sends into what Telegram
stores: plain text plus a list of MessageEntity dicts (offsets and lengths in UTF-16 code units), with
leading/trailing whitespace trimmed. Formatting errors raise `EntityParseError` whose message is the
Bot API description after ``"Bad Request: can't parse entities: "``.

The HTML parser follows tdlib's ``parse_html`` (the code behind the Bot API): only the documented
tags are allowed, ``<`` that does not start a valid tag is an error (``Unsupported start tag "" at
byte offset N``), byte offsets are UTF-8 byte offsets. Stricter than tdlib on one point, following
the Bot API's documented rule: an ``&`` that starts no entity is refused instead of kept literally.
MarkdownV2 and legacy Markdown are emulated more loosely (the common mistakes are caught: reserved
characters that are not escaped, entities that are never closed).
"""

from __future__ import annotations

import html
import re
from typing import Any

__all__ = [
    "EntityParseError",
    "parse_formatted_text",
    "strip_html",
    "utf16_len",
]

_HTML_TAGS = {
    "a",
    "b",
    "strong",
    "i",
    "em",
    "s",
    "strike",
    "del",
    "u",
    "ins",
    "tg-spoiler",
    "tg-emoji",
    "span",
    "pre",
    "code",
    "blockquote",
}
_TAG_TO_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "pre": "pre",
    "code": "code",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
    "a": "text_link",
}
_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_WHITESPACE = " \t\r\n\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"


class EntityParseError(ValueError):
    """The text cannot be parsed in the requested parse mode (Telegram answers 400)."""


def utf16_len(text: str) -> int:
    """Length of `text` in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_entity(text: str, i: int) -> tuple[str, int] | None:
    """Decode an HTML entity starting at text[i] == '&' the way tdlib does; None = keep '&' literally."""
    end = text.find(";", i + 1, i + 12)
    if end == -1:
        return None
    name = text[i + 1 : end]
    named = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
    if name in named:
        return named[name], end + 1
    if name.startswith("#x") or name.startswith("#X"):
        digits, base = name[2:], 16
    elif name.startswith("#"):
        digits, base = name[1:], 10
    else:
        return None
    try:
        code = int(digits, base)
    except ValueError:
        return None
    if code <= 0 or code >= 0x110000 or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), end + 1


def _parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    out: list[str] = []
    utf16_pos = 0
    entities: list[dict[str, Any]] = []
    stack: list[dict[str, Any]] = []
    n = len(text)
    i = 0

    def at(k: int) -> str:
        return text[k] if k < n else ""

    while i < n:
        c = text[i]
        if c == "&":
            decoded = _decode_entity(text, i)
            if decoded is None:
                # tdlib keeps such an '&' literally, but the Bot API's rule is that every '&' outside an
                # entity must be escaped: refusing it catches text that skipped escaping (a name "A & B")
                raise EntityParseError(f"Unescaped '&' at byte offset {_byte_offset(text, i)}")
            ch, i = decoded
            out.append(ch)
            utf16_pos += utf16_len(ch)
            continue
        if c != "<":
            out.append(c)
            utf16_pos += utf16_len(c)
            i += 1
            continue
        begin = i
        i += 1
        if at(i) != "/":
            while at(i) and not at(i).isspace() and at(i) != ">":
                i += 1
            if not at(i):
                raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
            tag = text[begin + 1 : i].lower()
            if tag not in _HTML_TAGS:
                raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, begin)}')
            argument = ""
            while at(i) != ">":
                while at(i) and at(i).isspace():
                    i += 1
                if at(i) == ">":
                    break
                attr_begin = i
                while at(i) and not at(i).isspace() and at(i) not in "=>":
                    i += 1
                attr = text[attr_begin:i].lower()
                if not attr:
                    raise EntityParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset {_byte_offset(text, begin)}'
                    )
                while at(i) and at(i).isspace():
                    i += 1
                if at(i) != "=":
                    if tag == "blockquote" and attr == "expandable":
                        argument = "1"
                        continue
                    if not at(i):
                        raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
                    raise EntityParseError(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {_byte_offset(text, begin)}'
                    )
                i += 1
                while at(i) and at(i).isspace():
                    i += 1
                if not at(i):
                    raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, begin)}')
                value_chars: list[str] = []
                if at(i) not in "'\"":
                    token_begin = i
                    while at(i) and (at(i).isalnum() or at(i) in ".-"):
                        i += 1
                    value = text[token_begin:i].lower()
                    if at(i) and not at(i).isspace() and at(i) != ">":
                        raise EntityParseError(
                            f"Unexpected end of name token at byte offset {_byte_offset(text, token_begin)}"
                        )
                else:
                    quote = text[i]
                    i += 1
                    while at(i) and at(i) != quote:
                        if at(i) == "&":
                            decoded = _decode_entity(text, i)
                            if decoded is not None:
                                value_chars.append(decoded[0])
                                i = decoded[1]
                                continue
                        value_chars.append(text[i])
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = "".join(value_chars)
                if not at(i):
                    raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
                if (
                    (tag == "a" and attr == "href")
                    or (tag == "tg-emoji" and attr == "emoji-id")
                    or (tag == "blockquote" and attr == "expandable")
                ):
                    argument = value if tag != "blockquote" else "1"
                elif tag == "code" and attr == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and attr == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
            if tag == "span" and argument != "spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(text, begin)}'
                )
            i += 1  # skip '>'
            stack.append({"tag": tag, "argument": argument, "offset": utf16_pos})
        else:
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(text, begin)}")
            i += 1
            name_begin = i
            while at(i) and not at(i).isspace() and at(i) != ">":
                i += 1
            end_tag = text[name_begin:i].lower()
            while at(i) and at(i).isspace():
                i += 1
            if at(i) != ">":
                raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
            i += 1
            top = stack[-1]
            if end_tag and end_tag != top["tag"]:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                    f'expected "</{top["tag"]}>", found "</{end_tag}>"'
                )
            stack.pop()
            length = utf16_pos - top["offset"]
            if length > 0:
                entities.append(_html_entity(top, length, stack))
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1]["tag"]}"')
    return "".join(out), _merge_pre_code(entities)


def _html_entity(top: dict[str, Any], length: int, stack: list[dict[str, Any]]) -> dict[str, Any]:
    tag, argument = top["tag"], top["argument"]
    entity: dict[str, Any] = {"type": _TAG_TO_ENTITY[tag], "offset": top["offset"], "length": length}
    if tag == "a":
        match = re.fullmatch(r"tg://user\?id=(\d+)", argument or "")
        if match:
            user = {"id": int(match.group(1)), "is_bot": False, "first_name": ""}
            entity = {**entity, "type": "text_mention", "user": user}
        else:
            entity["url"] = argument
    elif tag == "code" and argument and stack and stack[-1]["tag"] == "pre":
        entity["language"] = argument
    elif tag == "blockquote" and argument:
        entity["type"] = "expandable_blockquote"
    elif tag == "tg-emoji":
        entity["custom_emoji_id"] = argument
    return entity


def _merge_pre_code(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`<pre><code class="language-x">` is one `pre` entity with a language, as in Telegram."""
    result: list[dict[str, Any]] = []
    pres = {(e["offset"], e["length"]): e for e in entities if e["type"] == "pre"}
    for entity in entities:
        key = (entity["offset"], entity["length"])
        if entity["type"] == "code" and key in pres:
            if "language" in entity:
                pres[key]["language"] = entity["language"]
            continue
        result.append(entity)
    return result


_MDV2_MARKERS = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler"}
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "code": "Code",
    "pre": "Pre",
    "blockquote": "BlockQuote",
}


def _parse_markdown_v2(text: str) -> tuple[str, list[dict[str, Any]]]:
    out: list[str] = []
    pos = 0  # utf16
    entities: list[dict[str, Any]] = []
    stack: list[dict[str, Any]] = []
    quote: dict[str, Any] | None = None
    n = len(text)
    i = 0

    def emit(s: str) -> None:
        nonlocal pos
        out.append(s)
        pos += utf16_len(s)

    def reserved(ch: str, index: int) -> EntityParseError:
        return EntityParseError(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")

    while i < n:
        c = text[i]
        line_start = i == 0 or text[i - 1] == "\n"
        if line_start:
            if c == ">" or text.startswith("**>", i):
                if quote is None:
                    quote = {"offset": pos}
                i += 3 if c == "*" else 1
                continue
            if quote is not None:
                entities.append({"type": "blockquote", "offset": quote["offset"], "length": pos - quote["offset"]})
                quote = None
        if c == "\\":
            if i + 1 < n and 0 < ord(text[i + 1]) <= 126:
                emit(text[i + 1])
                i += 2
                continue
            raise reserved(c, i)
        if text.startswith("```", i):
            close = text.find("```", i + 3)
            if close == -1:
                raise EntityParseError(f"Can't find end of Pre entity at byte offset {_byte_offset(text, i)}")
            body = text[i + 3 : close]
            language = ""
            first_nl = body.find("\n")
            if first_nl != -1 and body[:first_nl] and not any(ch.isspace() for ch in body[:first_nl]):
                language, body = body[:first_nl], body[first_nl + 1 :]
            body = re.sub(r"\\([`\\])", r"\1", body)
            start = pos
            emit(body)
            entity: dict[str, Any] = {"type": "pre", "offset": start, "length": pos - start}
            if language:
                entity["language"] = language
            if pos > start:
                entities.append(entity)
            i = close + 3
            continue
        if c == "`":
            j = i + 1
            body_chars: list[str] = []
            while j < n and text[j] != "`":
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                body_chars.append(text[j])
                j += 1
            if j >= n:
                raise EntityParseError(f"Can't find end of Code entity at byte offset {_byte_offset(text, i)}")
            start = pos
            emit("".join(body_chars))
            if pos > start:
                entities.append({"type": "code", "offset": start, "length": pos - start})
            i = j + 1
            continue
        marker = None
        if text.startswith("||", i):
            marker = "||"
        elif text.startswith("__", i):
            marker = "__"
        elif c in "*_~":
            marker = c
        if marker is not None:
            kind = _MDV2_MARKERS[marker]
            if stack and stack[-1]["type"] == kind:
                top = stack.pop()
                if pos > top["offset"]:
                    entities.append({"type": kind, "offset": top["offset"], "length": pos - top["offset"]})
            else:
                stack.append({"type": kind, "offset": pos, "byte": _byte_offset(text, i)})
            i += len(marker)
            continue
        if c == "[" or (c == "!" and text.startswith("![", i)):
            stack.append({"type": "text_link", "offset": pos, "byte": _byte_offset(text, i)})
            i += 2 if c == "!" else 1
            continue
        if c == "]" and stack and stack[-1]["type"] == "text_link":
            top = stack.pop()
            if not text.startswith("(", i + 1):
                raise EntityParseError(f"Can't find end of a URL at byte offset {_byte_offset(text, i)}")
            j = i + 2
            url_chars: list[str] = []
            while j < n and text[j] != ")":
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                url_chars.append(text[j])
                j += 1
            if j >= n:
                raise EntityParseError(f"Can't find end of a URL at byte offset {_byte_offset(text, i)}")
            url = "".join(url_chars)
            if pos > top["offset"]:
                entity = {"type": "text_link", "offset": top["offset"], "length": pos - top["offset"]}
                if url.startswith("tg://emoji?id="):
                    entity = {**entity, "type": "custom_emoji", "custom_emoji_id": url.split("=", 1)[1]}
                elif re.fullmatch(r"tg://user\?id=\d+", url):
                    user = {"id": int(url.split("=", 1)[1]), "is_bot": False, "first_name": ""}
                    entity = {**entity, "type": "text_mention", "user": user}
                else:
                    entity["url"] = url
                entities.append(entity)
            i = j + 1
            continue
        if c in _MDV2_RESERVED:
            raise reserved(c, i)
        emit(c)
        i += 1
    if quote is not None:
        entities.append({"type": "blockquote", "offset": quote["offset"], "length": pos - quote["offset"]})
    if stack:
        top = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_MDV2_NAMES.get(top['type'], top['type'])} entity at byte offset {top['byte']}"
        )
    return "".join(out), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def _parse_markdown(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); no nesting."""
    out: list[str] = []
    pos = 0
    entities: list[dict[str, Any]] = []
    n = len(text)
    i = 0
    simple = {"*": "bold", "_": "italic"}
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "*_`[":
            out.append(text[i + 1])
            pos += 1
            i += 2
            continue
        if c in simple or c == "`" or c == "[":
            begin = i
            if text.startswith("```", i):
                close = text.find("```", i + 3)
                if close == -1:
                    raise EntityParseError(
                        f"Can't find end of the entity starting at byte offset {_byte_offset(text, begin)}"
                    )
                body = text[i + 3 : close]
                first_nl = body.find("\n")
                language = ""
                if first_nl != -1 and body[:first_nl].strip() and " " not in body[:first_nl]:
                    language, body = body[:first_nl], body[first_nl + 1 :]
                entity: dict[str, Any] = {"type": "pre", "offset": pos, "length": utf16_len(body)}
                if language:
                    entity["language"] = language
                i = close + 3
            elif c == "[":
                close = text.find("]", i + 1)
                if close == -1 or not text.startswith("(", close + 1) or text.find(")", close + 2) == -1:
                    raise EntityParseError(
                        f"Can't find end of the entity starting at byte offset {_byte_offset(text, begin)}"
                    )
                body = text[i + 1 : close]
                url_end = text.find(")", close + 2)
                entity = {"type": "text_link", "offset": pos, "length": utf16_len(body)}
                entity["url"] = text[close + 2 : url_end]
                i = url_end + 1
            else:
                close = text.find(c, i + 1)
                if close == -1:
                    raise EntityParseError(
                        f"Can't find end of the entity starting at byte offset {_byte_offset(text, begin)}"
                    )
                body = text[i + 1 : close]
                entity = {"type": "code" if c == "`" else simple[c], "offset": pos, "length": utf16_len(body)}
                i = close + 1
            out.append(body)
            pos += utf16_len(body)
            if entity["length"] > 0:
                entities.append(entity)
            continue
        out.append(c)
        pos += utf16_len(c)
        i += 1
    return "".join(out), entities


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    stripped_left = text.lstrip(_WHITESPACE)
    shift = utf16_len(text) - utf16_len(stripped_left)
    stripped = stripped_left.rstrip(_WHITESPACE)
    total = utf16_len(stripped)
    result: list[dict[str, Any]] = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, total)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result


def parse_formatted_text(
    text: str, parse_mode: str | None = None, entities: list[dict[str, Any]] | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """Return (plain_text, entities) as Telegram would store them. Raises EntityParseError.

    Explicit `entities` win over `parse_mode`, as in the Bot API. Unknown parse modes raise
    ValueError("unsupported parse_mode").
    """
    if entities:
        plain, ents = text, [dict(e) for e in entities]
    elif not parse_mode:
        plain, ents = text, []
    else:
        mode = parse_mode.lower()
        if mode == "html":
            plain, ents = _parse_html(text)
        elif mode == "markdownv2":
            plain, ents = _parse_markdown_v2(text)
        elif mode == "markdown":
            plain, ents = _parse_markdown(text)
        else:
            raise ValueError("unsupported parse_mode")
    plain, ents = _trim(plain, ents)
    return plain, sorted(ents, key=lambda e: (e["offset"], -e["length"]))


_TAG_RE = re.compile(r"</?[a-zA-Z][a-zA-Z0-9-]*(\s[^<>]*)?/?>")


def strip_html(text: str) -> str:
    """Best-effort removal of simple HTML tags plus entity unescaping, for display only."""
    return html.unescape(_TAG_RE.sub("", text))
