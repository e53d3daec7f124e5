"""Vietnamese text keys for search and matching.

Three forms are used across the registry:
- ``nfc(text)``: the text as typed, composed, with white space tidied;
- ``fold(text)``: lower case, no diacritics, đ → d; "Hoà", "Hòa" and "hoa" agree;
- ``tone_key(text)``: lower case with the vowel marks kept and the tone moved to a
  digit after each syllable, so that the old and new tone placement agree
  ("hoà" and "hòa" both give "hoa2") while Hương and Hường stay apart.
"""
import re
import unicodedata

_TONES = {"\u0300": "2", "\u0301": "1", "\u0309": "3", "\u0303": "4", "\u0323": "5"}
_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^\w\s]", re.UNICODE)


def nfc(text: str | None) -> str:
    """Return text composed (NFC) with runs of white space made single spaces."""
    if not text:
        return ""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def fold(text: str | None) -> str:
    """Return the accent-free lower-case key of text."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", text.lower())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    bare = bare.replace("đ", "d").replace("ð", "d")
    return _SPACES.sub(" ", _NON_WORD.sub(" ", bare)).strip()


def tone_key(text: str | None) -> str:
    """Return the key that keeps vowel marks and tones but not their placement."""
    words = []
    for word in fold_spaces(text).lower().split(" "):
        if word:
            words.append(_syllable_tone_key(word))
    return " ".join(words)


def has_diacritics(text: str | None) -> bool:
    """Tell whether text carries any Vietnamese mark or the letter đ."""
    if not text:
        return False
    lowered = text.lower()
    return lowered != fold(lowered) and any(
        unicodedata.combining(ch) or ch == "đ"
        for ch in unicodedata.normalize("NFD", lowered)
    )


def fold_spaces(text: str | None) -> str:
    """Return text in NFC without punctuation, single-spaced."""
    return _SPACES.sub(" ", _NON_WORD.sub(" ", nfc(text))).strip()


def _syllable_tone_key(word: str) -> str:
    tone = ""
    kept = []
    for ch in unicodedata.normalize("NFD", word):
        if ch in _TONES:
            tone = _TONES[ch]
        else:
            kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept)) + tone
