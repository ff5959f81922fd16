"""/import with hostile or broken files, through the real Application: a clear reply, nothing changed."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from openpyxl import Workbook

from tests.conftest import ADMIN_ID, BotUnderTest

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A valid import followed by 6 MB of blank lines: fine to parse, over the 5 MB limit.
PADDED = ("项目,区域\n阳光花园,华东\n" + "\n" * (6 * 1024 * 1024)).encode()


async def sites(bot: BotUnderTest) -> int:
    return await bot.services.db.fetchval("SELECT COUNT(*) FROM sites")


async def start_import(bot: BotUnderTest, language: str = "zh-hans") -> Any:
    admin = bot.api.person(ADMIN_ID, "老板", language_code=language)
    await admin.send_command("import")
    await admin.wait_text("Telegram ID")
    return admin


def truncated_workbook() -> bytes:
    book = Workbook()
    for row in (["项目", "区域"], ["阳光花园", "华东"], ["翠湖天地", "华东"]):
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    damaged = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename.endswith("sheet1.xml"):
                content = content[: content.index(b"</row>") + 20]
            target.writestr(item.filename, content)
    return damaged.getvalue()


async def test_an_oversize_file_without_a_declared_size_is_refused(bot: BotUnderTest):
    admin = await start_import(bot)
    await admin.send_document(PADDED, "people.csv", "text/csv", omit_size=True)
    assert "文件太大（最多 5 MB）" in (await admin.wait_reply()).text
    assert bot.api.downloads == []  # getFile told the size: never downloaded
    assert await sites(bot) == 0


async def test_an_oversize_file_of_unknown_size_stops_downloading(bot: BotUnderTest, monkeypatch):
    # Neither the message nor getFile gives a size (both fields are optional in the Bot API).
    canonical, get_file = bot.api._handlers["getfile"]

    def without_size(params: dict[str, Any], files: dict[str, Any]) -> Any:
        result = dict(get_file(params, files))
        result.pop("file_size", None)
        return result

    monkeypatch.setitem(bot.api._handlers, "getfile", (canonical, without_size))
    admin = await start_import(bot)
    await admin.send_document(PADDED, "people.csv", "text/csv", omit_size=True)
    assert "文件太大（最多 5 MB）" in (await admin.wait_reply()).text
    assert len(bot.api.downloads) == 1 and await sites(bot) == 0
    await admin.send_document(PADDED[:100], "people.csv", "text/csv", omit_size=True)  # a small one still works
    assert "新增项目 1 个" in (await admin.wait_text("已导入")).text


@pytest.mark.parametrize(
    ("language", "expected"),
    [("zh-hans", "无法读取这个文件：文件可能已损坏"), ("en", "the file cannot be read: it is damaged")],
)
async def test_a_damaged_workbook_is_answered_in_the_persons_language(bot: BotUnderTest, language, expected):
    admin = await start_import(bot, language)
    await admin.send_document(truncated_workbook(), "people.xlsx", XLSX)
    assert expected in (await admin.wait_reply()).text
    assert await sites(bot) == 0
    await admin.send_document("项目,区域\n阳光花园,华东\n".encode(), "people.csv", "text/csv")  # still waiting
    await admin.wait_text("Imported" if language == "en" else "已导入")
    assert await sites(bot) == 1


async def test_hostile_files_get_a_reason_and_change_nothing(bot: BotUnderTest):
    admin = await start_import(bot)
    long_cell = ("项目,备注\n阳光花园," + "长" * 200_000 + "\n").encode()
    await admin.send_document(long_cell, "people.csv", "text/csv")
    assert "第 2 行：有单元格超过 1000 个字" in (await admin.wait_reply()).text

    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (60 * 1024 * 1024))
    await admin.send_document(bomb.getvalue(), "people.xlsx", XLSX)
    assert "文件：文件内容太多，无法读取（解压后超过 50 MB" in (await admin.wait_reply()).text

    formulas = '项目,区域\n"=HYPERLINK(""http://x"",""y"")",华东\n翠湖天地,@A1\n+86 广场,\n'.encode()
    await admin.send_document(formulas, "people.csv", "text/csv")
    report = (await admin.wait_reply()).text
    assert "没有导入任何内容" in report
    assert '第 2 行：“=HYPERLINK("http://x…”以 = 或 @ 开头，会被表格软件当作公式' in report
    assert "第 3 行：“@A1”以 = 或 @ 开头" in report and "第 4 行" not in report
    assert await sites(bot) == 0
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM audit_log") == 0
