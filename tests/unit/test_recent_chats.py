"""The card's "recently in chat" lines: personal answers hidden, even in the bot's own echo."""

from __future__ import annotations

from bot.desk.history import LINE_LIMIT, RecentChats


def test_a_personal_answer_is_hidden_in_its_line_and_in_the_bot_echo() -> None:
    recent = RecentChats()
    recent.add_personal(7, "Moscow, Tverskaya 1, 5")
    recent.add(7, "citizen", "Moscow, Tverskaya 1, 5")
    recent.add(7, "bot", "Проверьте заявление\nАдрес: 101000, Moscow, Tverskaya 1, 5")
    assert recent.recent(7) == [
        ("citizen", "***"),
        ("bot", "Проверьте заявление Адрес: ****00, ***"),
    ]


def test_street_words_are_masked_in_the_citizens_lines_not_in_the_bots_prompts() -> None:
    recent = RecentChats()
    recent.add(7, "bot", "Введите адрес доставки: город, улица, дом, квартира")
    recent.add(7, "citizen", "Казань, ул. Баумана, д. 5")
    assert recent.recent(7) == [
        ("bot", "Введите адрес доставки: город, улица, дом, квартира"),
        ("citizen", "Казань, ***, ***"),
    ]


def test_lines_said_before_the_answer_are_masked_too() -> None:
    recent = RecentChats()
    recent.add(7, "citizen", "my address is Lenina 5 Kazan")
    recent.add_personal(7, "Lenina 5 Kazan")
    assert recent.recent(7) == [("citizen", "my address is ***")]


def test_long_lines_are_cut_after_masking() -> None:
    recent = RecentChats()
    recent.add(7, "citizen", "x" * 500 + " 4508123456")
    ((_, line),) = recent.recent(7)
    assert len(line) == LINE_LIMIT and line.endswith("…")


def test_forget_drops_the_chat_and_its_personal_values() -> None:
    recent = RecentChats()
    recent.add_personal(7, "101000")
    recent.add(7, "citizen", "101000")
    recent.forget(7)
    assert recent.recent(7) == []
    recent.add(7, "citizen", "hello")
    assert recent.recent(7) == [("citizen", "hello")]


def test_each_chat_keeps_its_last_lines_only() -> None:
    recent = RecentChats(per_chat=3)
    for n in range(5):
        recent.add(1, "citizen", f"line {n}")
    assert recent.recent(1) == [("citizen", "line 2"), ("citizen", "line 3"), ("citizen", "line 4")]


def test_the_bots_prompts_are_kept_once_for_all_chats() -> None:
    recent = RecentChats()
    for chat_id in (1, 2):
        # Each send's text is a new string, as the session middleware makes it.
        recent.add(chat_id, "bot", "".join(["Welcome", "!"]))
    first, second = (recent._chats[chat_id].lines[0][1] for chat_id in (1, 2))
    assert first == second == "Welcome!" and first is second
