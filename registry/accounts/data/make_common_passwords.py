"""Write common_passwords.txt from well-known weak patterns.

No breach list can be downloaded here, so the list is built from the shapes
that such lists are full of: digit runs, keyboard walks, repeated characters,
and common English and Vietnamese words followed by digits or years. Only
entries of 12 characters or more are kept, since shorter ones fail the length
rule anyway. Run: python registry/accounts/data/make_common_passwords.py
"""
import itertools
import os

MIN_LENGTH = 12
HERE = os.path.dirname(os.path.abspath(__file__))

WORDS = """
password passw0rd p@ssword p@ssw0rd passwords administrator admin root
welcome letmein iloveyou trustno1 sunshine princess football baseball
basketball soccer monkey dragon master shadow superman batman starwars
computer internet samsung iphone google facebook youtube microsoft windows
whatever freedom qwerty abcdef abc asdf zxcv login secret changeme default
hello hellokitty lovely loveyou family friends forever summer winter spring
autumn chocolate cookie cheese pokemon naruto minecraft liverpool chelsea
arsenal manchester barcelona realmadrid juventus michael jennifer jessica
charlie thomas daniel andrew joshua matthew anthony william robert
flower butterfly angel beautiful darling sweetheart happy smile money
matkhau matkhaumoi matkhaucuatoi anhyeuem emyeuanh yeuemnhieu yeuanhnhieu
anhyeuemnhieu emyeuanhnhieu toiyeuban toiyeuem iloveu yeuem yeuanh
vietnam vietnamvodich hanoi saigon hochiminh danang haiphong hue nhatrang
thanhhoa xuthanh samson sodoingoai ngoaivu sngv ubnd congan cand bocongan
tinhthanhhoa thanhhoaquehuong quehuong giadinh hanhphuc bame chame
meyeu boyeu concung baby embe cunyeu heocon meocon thienthan
nguyen tran le pham hoang huynh phan vu vo dang bui do ho ngo duong ly
nguyenvan nguyenthi tranvan tranthi levan lethi phamvan phamthi hoangvan
nguyenvana nguyenvanb tranvana levana phamvana hoangvana
minhanh ngocanh thuylinh thanhhuong thuha hoanganh tuananh ducanh
quanghuy vanhung thanhtung minhtuan hoangnam ngoclan thanhthuy
""".split()
SUFFIXES = [
    "", "1", "12", "123", "1234", "12345", "123456", "1234567", "12345678",
    "123456789", "1234567890", "!", "1!", "123!", "@123", "#123", "@1234",
    "01", "007", "69", "88", "99", "111", "000", "2468", "321", "54321",
    "123a", "123abc", "_123", ".123", "@@", "!!", "!@#", "!@#$", "1q2w3e",
]
YEARS = [str(year) for year in range(1950, 2031)]
KEYBOARD_WALKS = """
qwertyuiop qwertyuiop[] qwertyuiopasdf qwertyuiopasdfghjkl asdfghjkl;'
asdfghjklzxcv zxcvbnm,./ zxcvbnmasdfgh qazwsxedcrfv qazwsxedcrfvtgb
1qaz2wsx3edc 1qaz2wsx3edc4rfv 1q2w3e4r5t6y 1q2w3e4r5t6y7u 1q2w3e4r5t6y7u8i
q1w2e3r4t5y6 zaq12wsxcde3 zaq1xsw2cde3 !qaz@wsx#edc qweasdzxc123
qwerty123456 qwerty12345678 asdf1234asdf asdfasdfasdf qwerqwerqwer
1234qwerasdf 1234qwerasdfzxcv qwer1234asdf 0987654321qw poiuytrewq12
mnbvcxzlkjhg 147258369147 159753159753 123qweasdzxc 123qwe123qwe
""".split()
WALK_STEMS = ["qwerty", "qwertyu", "qwertyuiop", "asdfgh", "asdfghjkl", "zxcvbn", "zxcvbnm",
              "qazwsx", "1qaz2wsx", "1q2w3e", "1q2w3e4r", "1q2w3e4r5t", "qweasd", "qweasdzxc"]


def digit_runs() -> set[str]:
    """Return ascending, descending and repeated digit strings."""
    runs = set()
    ascending = "12345678901234567890"
    descending = "09876543210987654321"
    for length in range(MIN_LENGTH, 21):
        for start in range(10):
            runs.add(ascending[start:start + length])
            runs.add(descending[start:start + length])
        for digit in "0123456789":
            runs.add(digit * length)
    for pair in ("12", "123", "1234", "69", "01", "11", "00", "2580", "147", "789"):
        runs.add((pair * 10)[:MIN_LENGTH])
    return runs


def repeated_letters() -> set[str]:
    """Return strings made of one letter or one short chunk, repeated."""
    found = set()
    for letter in "abcdefghijklmnopqrstuvwxyz":
        for length in (12, 14, 16, 20):
            found.add(letter * length)
    for chunk in ("abc", "abcd", "abc123", "qwe", "asd", "xyz", "aa", "ab", "hihi",
                  "haha", "hehe", "love", "pass", "anh", "em", "yeu"):
        found.add(chunk * (MIN_LENGTH // len(chunk) + 1))
    return found


def word_combinations() -> set[str]:
    """Return words, their capitalised forms, plus suffixes and years."""
    found = set()
    for word, suffix in itertools.product(WORDS + WALK_STEMS, SUFFIXES + YEARS):
        found.add(word + suffix)
    for first, second in itertools.product(WORDS[:40], ("123", "2024", "2025", "")):
        found.add(first + first + second)
    return found


def number_patterns() -> set[str]:
    """Return phone-like and date-like numbers and digit-letter mixes."""
    found = {"123456789" + tail for tail in ("a", "ab", "abc", "q", "qq", "z", "@")}
    found |= {"1234567890" + tail for tail in ("a", "ab", "qw", "@", "!")}
    found |= {"abc" + "123456789", "a123456789", "aa123456789", "q123456789"}
    for prefix in ("0912", "0913", "0988", "0979", "0904", "0123", "0987"):
        found.add(prefix + "345678")
        found.add(prefix + "123456")
    for year in YEARS:
        found.add("0101" + year + "0101")
        found.add(year + year + "1")
        found.add("password" + year[2:] + year[2:])
    return found


def main() -> None:
    """Write the sorted list beside this script."""
    everything = (digit_runs() | repeated_letters() | word_combinations()
                  | number_patterns() | set(KEYBOARD_WALKS))
    kept = sorted({entry.lower() for entry in everything if len(entry) >= MIN_LENGTH})
    path = os.path.join(HERE, "common_passwords.txt")
    with open(path, "w", encoding="utf-8") as out:
        out.write("# Generated by make_common_passwords.py; one password a line.\n")
        out.write("\n".join(kept) + "\n")
    print(len(kept), "passwords written to", path)


if __name__ == "__main__":
    main()
