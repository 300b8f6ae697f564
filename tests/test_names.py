"""Russian personal names in the nominative (pymorphy3), and left alone when not sure."""

from __future__ import annotations

import pytest

from extractor.normalise.names import lemma, nominative


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("Константином Косачевым", "Константин Косачев"),  # "встретился с ..."
        ("Марии Захаровой", "Мария Захарова"),  # "по словам ..."
        ("Марией Захаровой", "Мария Захарова"),
        ("Сергея Викторовича Лаврова", "Сергей Викторович Лавров"),
        ("Касым-Жомартом Токаевым", "Касым-Жомарт Токаев"),
        ("Шавката Мирзиёева", "Шавкат Мирзиёев"),
        ("Вилаваном Пхомвиханом", "Вилаван Пхомвихан"),  # outside the dictionary
        ("Си Цзиньпином", "Си Цзиньпин"),  # "Си" is indeclinable
        ("Ивана Петрова", "Иван Петров"),
        ("С. Лавровым", "С. Лавров"),  # an initial stays
    ],
)
def test_a_declined_name_gets_its_nominative(written: str, expected: str) -> None:
    assert nominative(written) == expected


@pytest.mark.parametrize(
    "name",
    [
        "Сергей Лавров",
        "Константин Косачев",
        "Чжан Мин",  # Chinese names in Russian: every word may be a nominative
        "Ван И",
        "Вилаван Пхомвихан",
        "Лаврова",  # a woman's surname, or Lavrov in the genitive: not sure, so as written
        "Zhang Ming",
        "张明",
        "",
    ],
)
def test_a_name_that_may_be_a_nominative_stays_as_written(name: str) -> None:
    assert nominative(name) == name


def test_no_name_is_none() -> None:
    assert nominative(None) is None


def test_a_word_without_a_name_reading_is_not_changed() -> None:
    """Only a first name, surname or patronymic (or an unknown word beside one) fixes the case."""
    assert nominative("Сбербанком России") == "Сбербанком России"


def test_the_e_the_article_wrote_is_kept() -> None:
    """pymorphy3 restores "ё"; the article's "е" stays."""
    assert nominative("Косачевым") == "Косачев"
    assert nominative("Мирзиёевым") == "Мирзиёев"


@pytest.mark.parametrize(
    ("word", "expected"),
    [("Пекине", "пекин"), ("Секретариате", "секретариат"), ("Нью-Йорке", "нью-йорк"),
     ("приёмов", "прием"), ("ШОС", "шос"), ("Beijing", "beijing")],
)  # fmt: skip
def test_lemma_is_the_folded_dictionary_form(word: str, expected: str) -> None:
    assert lemma(word) == expected
