"""Masked display of personal data: enough to recognise, not enough to use."""
from __future__ import annotations


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    digits = phone.strip()
    if len(digits) >= 11:
        return digits[:3] + "****" + digits[-4:]
    if len(digits) > 4:
        return "*" * (len(digits) - 4) + digits[-4:]
    return "*" * len(digits)


def mask_name(name: str | None) -> str:
    if not name:
        return ""
    name = name.strip()
    if len(name) == 1:
        return "*"
    if name.isascii():
        return name[0] + "***"
    return name[0] + "*" * (len(name) - 1)


def mask_email(email: str | None) -> str:
    if not email or "@" not in email:
        return ""
    local, _, domain = email.partition("@")
    return (local[:1] or "*") + "***@" + domain


def mask_id_number(value: str | None) -> str:
    if not value:
        return ""
    return value[:3] + "*" * max(len(value) - 7, 0) + value[-4:]


# (field, encryption purpose, mask) of the personal data a case may hold, per party
PARTY_FIELDS = {
    "complainant": (
        ("name", "case.complainant.name", mask_name),
        ("phone", "case.complainant.phone", mask_phone),
        ("email", "case.complainant.email", mask_email),
        ("id_number", "case.complainant.id_number", mask_id_number),
    ),
    "respondent": (
        ("name", "case.respondent.name", mask_name),
        ("phone", "case.respondent.phone", mask_phone),
    ),
    # the 委托代理人 who filed for the complainant (issue 19)
    "agent": (
        ("name", "case.agent.name", mask_name),
        ("phone", "case.agent.phone", mask_phone),
    ),
}


def names_an_organisation(case, party: str) -> bool:
    """Whether ``party``'s name on ``case`` is an organisation's, not a person's: a mediation's
    respondent that is a member company or the association (RespondentKind.is_organisation)."""
    med = getattr(case, "mediation", None) if party == "respondent" else None
    return bool(med is not None and getattr(med.respondent_kind, "is_organisation", False))


def masked_party(cipher, case, party: str, unreadable: str = "?") -> dict[str, str]:
    """A party's personal data as staff see it: decrypted, then masked; an organisation's name
    (names_an_organisation) is no personal data and shows in full, its phone masked all the same.
    A value that does not decrypt (a lost or wrong key) shows as ``unreadable`` instead of failing the page."""
    from casework.privacy.crypto import DecryptionError

    out = {}
    for key, purpose, mask in PARTY_FIELDS[party]:
        try:
            value = cipher.decrypt_text(getattr(case, f"{party}_{key}_enc"), purpose)
        except DecryptionError:
            out[key] = unreadable
            continue
        if value:
            out[key] = value if key == "name" and names_an_organisation(case, party) else mask(value)
    return out
