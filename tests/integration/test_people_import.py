"""/import of sites and people from .csv and .xlsx files, through the real Application."""

from __future__ import annotations

import io

from openpyxl import Workbook

from tests.conftest import ADMIN_ID, BotUnderTest

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(*sheets: tuple[str, list[list[object]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def counts(bot: BotUnderTest) -> tuple[int, int, int]:
    db = bot.services.db
    return (
        await db.fetchval("SELECT COUNT(*) FROM sites"),
        await db.fetchval("SELECT COUNT(*) FROM users"),
        await db.fetchval("SELECT COUNT(*) FROM user_roles"),
    )


async def test_one_bad_row_applies_nothing_and_names_the_row(bot: BotUnderTest):
    await bot.add_site("阳光花园", region="华东")
    admin = bot.api.person(ADMIN_ID, "老板")
    await admin.send_command("import")
    await admin.wait_text("Telegram ID")
    before = await counts(bot)
    csv = "项目,区域,Telegram ID,姓名,角色\n翠湖天地,华南,,,\n翠湖天地,,7101,小李,项目客服\n,,7102,小王,主管\n"
    await admin.send_document(csv.encode("gb18030"), "people.csv", "text/csv")
    report = await admin.wait_text("没有导入任何内容")
    assert "第 4 行：不认识的角色“主管”" in report.text
    assert "第 3 行" not in report.text
    assert await counts(bot) == before

    fixed = csv.replace("主管", "督导员")
    fixed += ",,7101,小李,督导员\n"  # several roles for one person
    await admin.send_document(fixed.encode("utf-8-sig"), "people.csv", "text/csv")
    done = await admin.wait_text("已导入")
    assert "新增项目 1 个" in done.text and "新登记人员 2 人，授予角色 3 项" in done.text
    roles = await bot.services.db.fetchall(
        "SELECT r.user_id, r.role, s.name FROM user_roles r LEFT JOIN sites s ON s.id = r.site_id ORDER BY r.id"
    )
    assert [(r[0], r[1], r[2]) for r in roles][-3:] == [
        (7101, "staff", "翠湖天地"),
        (7102, "inspector", None),
        (7101, "inspector", None),
    ]
    newcomer = bot.api.person(7102, "小王")
    await newcomer.send_command("inspect")
    assert "请选择要督导的项目" in (await newcomer.wait_reply()).text
    actions = [r["action"] for r in await bot.services.db.fetchall("SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["grant", "grant", "grant", "import"]
    await admin.send_text("还有吗")
    assert "没有进行中的操作" in (await admin.wait_reply()).text  # the import is over


async def test_an_xlsx_with_sites_and_people_on_two_sheets(bot: BotUnderTest):
    data = workbook(
        ("说明", [["请按下表填写"]]),
        ("项目", [["项目名称", "区域"], ["阳光花园", "华东"], ["翠湖天地", "华东"]]),
        (
            "人员",
            [
                ["用户ID", "姓名", "角色", "项目", "区域", "备注"],
                [7201, "张经理", "经理", None, "华东", "区域经理"],
                [7202.0, "李客服", "客服", "阳光花园", None, None],
                ["7203", "王督导", "督导", None, None, None],
            ],
        ),
    )
    admin = bot.api.person(ADMIN_ID, "老板")
    await admin.send_command("import")
    await admin.wait_text("Telegram ID")
    await admin.send_document(data, "名单.xlsx", XLSX)
    done = await admin.wait_text("已导入")
    assert "新增项目 2 个" in done.text and "授予角色 3 项" in done.text
    roles = await bot.services.db.fetchall("SELECT user_id, role, site_id, region FROM user_roles ORDER BY id")
    assert [tuple(r) for r in roles] == [
        (7201, "manager", None, "华东"),
        (7202, "staff", 1, None),
        (7203, "inspector", None, None),
    ]
    assert await bot.services.db.fetchval("SELECT first_name FROM users WHERE id = 7202") == "李客服"


async def test_bad_files_and_files_without_import(bot: BotUnderTest):
    admin = bot.api.person(ADMIN_ID, "老板")
    await admin.send_document("Telegram ID,角色\n5,管理员\n".encode(), "people.csv", "text/csv")
    assert "没有保存" in (await admin.wait_reply()).text  # not without /import first
    await admin.send_command("import")
    await admin.wait_text("Telegram ID")
    await admin.send_text("文件马上来")
    assert "正在等待导入文件" in (await admin.wait_reply()).text
    await admin.send_document(b"%PDF-1.4", "people.pdf", "application/pdf")
    assert "只能导入 .xlsx 或 .csv" in (await admin.wait_reply()).text
    await admin.send_document(b"not a zip", "people.xlsx", XLSX)
    assert "无法读取这个文件" in (await admin.wait_reply()).text
    await admin.send_document("备注,电话\n1,2\n".encode(), "people.csv", "text/csv")
    assert "第 1 行：没有可识别的表头" in (await admin.wait_reply()).text
    await admin.send_document(b"x" * 10, "big.csv", "text/csv", file_size=6 * 1024 * 1024)
    assert "文件太大" in (await admin.wait_reply()).text
    await admin.send_command("cancel")
    assert "已取消" in (await admin.wait_reply()).text
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM audit_log") == 0


async def test_only_admins_import(bot: BotUnderTest):
    await bot.add_person(5700, "manager", "经理")
    manager = bot.api.person(5700, "经理")
    await manager.send_command("import")
    assert "您的角色不能使用这个功能" in (await manager.wait_reply()).text
    await manager.send_document(b"Telegram ID,role\n1,admin\n", "people.csv", "text/csv")
    assert "没有保存" in (await manager.wait_reply()).text
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM user_roles WHERE role = 'admin'") == 0


async def test_an_imported_name_stays_when_the_person_writes_under_another(bot: BotUnderTest):
    await bot.add_site("阳光花园", region="华东")
    admin = bot.api.person(ADMIN_ID, "老板")
    await admin.send_command("import")
    await admin.wait_text("Telegram ID")
    await admin.send_document("项目,Telegram ID,姓名,角色\n阳光花园,7201,王芳,项目客服\n".encode(), "p.csv", "text/csv")
    await admin.wait_text("已导入")
    fang = bot.api.person(7201, "芳芳")  # her Telegram first name
    await fang.send_command("start")
    assert "王芳" in (await fang.wait_reply()).text
    await admin.send_command("role", "7201")
    card = await admin.wait_text("7201")
    assert "王芳" in card.text and "芳芳" not in card.text
