"""Vietnamese personal names: splitting into family, middle and given name."""
from dataclasses import dataclass

from registry.core.text import fold, nfc

# Family names of Thanh Hóa and Vietnam, folded. The first ones cover most people.
SURNAMES = frozenset("""
nguyen le tran pham hoang huynh vu vo dang bui do ho ngo duong ly trinh dinh lam
mai doan luong cao ha trieu to tong phan chu quach luu dao thai kieu nghiem
lai lo mac khuat hoa banh cu la lang quan tang thach van vuong vi kim khong
uong ung dam giap thieu chau an au bach bang cam cat chung dieu dong duy
giang han hau hua kha khuc khuu lieu linh lu man mong ninh nong ong phung phi
quang quyen sam son tieu tra tu ton truong ung yen
""".split())
# The most common of them: "Hoa Nguyen" is Western order although Hoa is a surname too.
COMMON_SURNAMES = frozenset("""
nguyen le tran pham hoang huynh vu vo dang bui do ho ngo duong ly trinh dinh
""".split())
# Words mostly used as middle names: a Western-order name starting with one of them
# is middle, given, family ("Thi Hoa Nguyen"); any other is given, middle, family.
MIDDLE_FIRST = frozenset("""
thi van huu dinh cong xuan duc quang ngoc thu thanh hong phuong kim thuy minh bao gia
manh trong quoc dieu my bich
""".split())
# Middle names that carry little identity but tell gender.
FEMALE_MIDDLE = frozenset({"thi"})
MALE_MIDDLE = frozenset({"van"})


@dataclass(frozen=True)
class NameParts:
    family: str
    middle: str
    given: str
    is_reordered: bool = False  # typed in Western order (given name first)

    @property
    def full(self) -> str:
        return " ".join(part for part in (self.family, self.middle, self.given) if part)


def split_name(full_name: str) -> NameParts:
    """Return the family, middle and given name of a Vietnamese full name."""
    words = nfc(full_name).split(" ")
    if len(words) == 1:
        return NameParts(family="", middle="", given=words[0])
    reordered = _looks_western(words)
    if reordered and len(words) > 2 and fold(words[0]) in MIDDLE_FIRST:
        words = [words[-1], *words[:-1]]
    elif reordered:
        words = [words[-1], *words[1:-1], words[0]]
    return NameParts(
        family=words[0], middle=" ".join(words[1:-1]), given=words[-1],
        is_reordered=reordered,
    )


def gender_hint(parts: NameParts) -> str | None:
    """Return the gender the middle name suggests ("Thị", "Văn"), if any."""
    middle = set(fold(parts.middle).split())
    if middle & FEMALE_MIDDLE:
        return "female"
    if middle & MALE_MIDDLE:
        return "male"
    return None


def _looks_western(words: list[str]) -> bool:
    first, last = fold(words[0]), fold(words[-1])
    return (last in SURNAMES and first not in SURNAMES) or (
        last in COMMON_SURNAMES and first not in COMMON_SURNAMES)
