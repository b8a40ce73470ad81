"""Words as the index sees them, and the near misses that typo tolerance forgives."""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "MIN_TYPO_LENGTH",
    "clean_query",
    "deletes",
    "tokenize",
    "within_one_typo",
]

# Words shorter than this are matched exactly: a typo in "di" or "la" would match everything.
MIN_TYPO_LENGTH = 4
# A query longer than this is cut: nobody types more on a phone, and it bounds the work.
MAX_QUERY_CHARACTERS = 200
MAX_QUERY_WORDS = 10

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")


def _fold(text: str) -> str:
    """Lower case without diacritics (as SQLite's unicode61 with remove_diacritics 2)."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def tokenize(text: str) -> list[str]:
    return _WORD.findall(_fold(text))


def clean_query(text: str) -> str:
    """The query without control characters, squeezed, and bounded in length and words."""
    words = _CONTROL.sub(" ", unicodedata.normalize("NFKC", text)).split()
    return " ".join(words[:MAX_QUERY_WORDS])[:MAX_QUERY_CHARACTERS]


def deletes(word: str) -> set[str]:
    """The word with one character removed, each way (the SymSpell index keys)."""
    return {word[:index] + word[index + 1 :] for index in range(len(word))}


def within_one_typo(typed: str, word: str) -> bool:
    """Whether one insertion, deletion, substitution or swap of neighbours turns one into the
    other (optimal string alignment distance at most 1)."""
    if typed == word:
        return True
    if abs(len(typed) - len(word)) > 1:
        return False
    if len(typed) == len(word):
        differences = [
            index for index, (a, b) in enumerate(zip(typed, word, strict=True)) if a != b
        ]
        if len(differences) == 1:
            return True
        first, *rest = differences
        return (
            len(differences) == 2
            and rest[0] == first + 1
            and typed[first] == word[first + 1]
            and typed[first + 1] == word[first]
        )
    shorter, longer = sorted((typed, word), key=len)
    return any(longer[:index] + longer[index + 1 :] == shorter for index in range(len(longer)))
