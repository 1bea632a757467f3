import pytest

from casework.privacy import codes
from casework.privacy.crypto import Cipher, DecryptionError
from casework.privacy.masking import mask_email, mask_id_number, mask_name, mask_phone
from casework.settings import new_key
import base64


def _key():
    return base64.urlsafe_b64decode(new_key())


def test_field_cipher_round_trip_and_binding_to_purpose():
    c = Cipher((_key(),))
    blob = c.encrypt_text("13800138000", "case.complainant.phone")
    assert b"13800138000" not in blob
    assert c.decrypt_text(blob, "case.complainant.phone") == "13800138000"
    with pytest.raises(DecryptionError):
        c.decrypt_text(blob, "case.complainant.name")  # cannot be moved to another column


def test_rotated_key_still_reads_old_data():
    old, new = _key(), _key()
    blob = Cipher((old,)).encrypt_text("张三", "p")
    rotated = Cipher((new, old))
    assert rotated.decrypt_text(blob, "p") == "张三"
    assert rotated.decrypt_text(rotated.encrypt_text("李四", "p"), "p") == "李四"
    with pytest.raises(DecryptionError):
        Cipher((new,)).decrypt_text(blob, "p")


def test_masks_show_enough_to_recognise_only():
    assert mask_phone("13812341234") == "138****1234"
    assert mask_name("张三丰") == "张**"
    assert mask_email("zhang@example.cn") == "z***@example.cn"
    assert mask_id_number("11010519491231002X") == "110***********002X"


def test_query_code_has_80_bits_and_forgiving_input():
    code = codes.new_query_code()
    assert len(code) == 19 and code.count("-") == 3
    n = codes.normalize(code)
    assert len(n) == 16 and set(n) <= set(codes.ALPHABET)  # 16 * log2(32) = 80 bits
    assert len({codes.new_query_code() for _ in range(2000)}) == 2000
    pepper = _key()
    h = codes.hash_code(pepper, "TS2026112700001", code)
    assert code not in h and n not in h
    sloppy = " " + n.lower().replace("0", "o").replace("1", "l") + " "
    assert codes.check_code(pepper, "TS2026112700001", sloppy, h)
    assert not codes.check_code(pepper, "TS2026112700002", code, h)  # bound to the case
    assert not codes.check_code(pepper, "TS2026112700001", code, None)


def test_query_code_characters_are_uniform_over_the_whole_alphabet():
    """Every character of the 32 is drawn, each about as often (5 bits a character): a code
    that used fewer characters, or some more often, would be easier to guess than 80 bits."""
    from collections import Counter

    seen = Counter("".join(codes.normalize(codes.new_query_code()) for _ in range(2000)))
    assert set(seen) == set(codes.ALPHABET)
    # 32,000 characters: 1,000 of each expected, standard deviation about 31
    assert all(850 < n < 1150 for n in seen.values()), seen
