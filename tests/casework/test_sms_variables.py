"""The variables of an operator's approved SMS templates (CHANGTONG_SMS_TEMPLATES), through each
provider's real SDK against the local fake of its API (tests.casework.test_sms_providers).

An entry without a list keeps the variables operators had their templates approved against; an
entry may list the variables its template takes (notice=CODE:a,b,...), checked by name when the
setting is read; the values are held to what the providers take: 阿里云 a notification template's
variable at most 35 characters (help.aliyun.com/zh/document_detail/3041859), never empty, never a
link; 腾讯云 no limit on one variable for an organisation's account but 500 characters a message,
and no link as a parameter (FAQ 382/13301)."""
from __future__ import annotations

import pytest

from casework.notify.channels import Notice, PermanentError
from casework.notify.providers import (
    LINK_PLACE, TemplatesError, parse_templates, provider_values, sms_templates,
)
from tests.casework.test_sms_providers import PHONE, adapter, provider, sent_fields  # noqa: F401 (the fixture)

INVITE = {"case_number": "TJ2026120800017", "respondent_code": "HKVQ-VSCA-B02T-5RF0",
          "body": "中国汽车工业协会调解中心", "answer_by": "2026-12-22"}


def send(fake, templates: str, notice: Notice):
    from casework.notify.providers import AliyunSms, TencentSms
    from tests.casework.test_sms_providers import AK_ID, AK_SECRET, APP_ID, TC_ID, TC_KEY

    pairs = dict(parse_templates(templates))
    sms = (AliyunSms(AK_ID, AK_SECRET, "畅通", pairs, endpoint=fake.endpoint, timeout=5) if fake.kind == "aliyun"
           else TencentSms(TC_ID, TC_KEY, APP_ID, "畅通", pairs, endpoint=fake.endpoint, timeout=5))
    sms.send(notice)
    return sent_fields(fake, fake.requests[-1])


def invitation(**params) -> Notice:
    return Notice("outbox:7:k", PHONE, "", "", "respondent_invite", {**INVITE, **params})


def test_an_entry_without_a_list_sends_todays_variables_exactly(provider):
    """The invitation's payload now gives the body and the answer date too; an operator whose
    template was approved with the number and the code gets those two, as before."""
    got = send(provider, "respondent_invite=SMS_1003", invitation())
    assert got["template"] == "SMS_1003"
    if provider.kind == "aliyun":
        assert got["params"] == {"case_number": INVITE["case_number"], "respondent_code": INVITE["respondent_code"]}
    else:
        assert got["params"] == [INVITE["case_number"], INVITE["respondent_code"]]


def test_a_listed_entry_sends_its_variables_in_its_order(provider):
    got = send(provider, "case_receipt=SMS_1,respondent_invite=SMS_1003:case_number,body,respondent_code,answer_by,"
                         "case_update=SMS_2", invitation())
    assert got["template"] == "SMS_1003"
    if provider.kind == "aliyun":  # by name
        assert got["params"] == {"case_number": INVITE["case_number"], "body": "中国汽车工业协会调解中心",
                                 "respondent_code": INVITE["respondent_code"], "answer_by": "2026-12-22"}
    else:  # {1}..{4} in the listed order
        assert got["params"] == [INVITE["case_number"], "中国汽车工业协会调解中心", INVITE["respondent_code"], "2026-12-22"]


def test_the_setting_keeps_the_old_form_and_reads_the_new():
    assert parse_templates("case_receipt=SMS_1, case_update=SMS_2") == (("case_receipt", "SMS_1"), ("case_update", "SMS_2"))
    assert parse_templates("respondent_invite=SMS_3:case_number,respondent_code,body,answer_by,case_update=SMS_2") == (
        ("respondent_invite", "SMS_3:case_number,respondent_code,body,answer_by"), ("case_update", "SMS_2"))
    assert parse_templates("mediation_session_moved=1234567:case_number, old_time, session_time, place") == (
        ("mediation_session_moved", "1234567:case_number,old_time,session_time,place"),)


@pytest.mark.parametrize("raw, message", [
    ("respondent_invite=SMS_3:case_number,respondent_code,answer_date",
     "respondent_invite has no variable 'answer_date'; it gives body, case_number, respondent_code, answer_by"),
    ("respondent_invite=SMS_3:case_number,body,answer_by", "respondent_invite must list respondent_code: the recipient needs it"),
    ("case_update=SMS_2:case_number,case_number", "case_update lists case_number twice"),
    ("case_update=SMS_2,body", "'body' is neither notice=CODE nor a variable listed after notice=CODE:"),
    ("case_update=SMS_2:", "case_update=SMS_2: names no variable after the colon"),
    ("receipt=SMS_1", "no notice template 'receipt'"),
    ("case_update=SMS 2", "case_update needs a template code such as SMS_123456"),
])
def test_a_variable_the_notice_does_not_give_is_refused_with_what_it_gives(raw, message):
    with pytest.raises(TemplatesError) as refused:
        parse_templates(raw)
    assert message in str(refused.value) and str(refused.value).startswith("CHANGTONG_SMS_TEMPLATES: ")


def test_values_are_held_to_what_each_provider_takes():
    long_place = "北京市西城区示例大街一百二十三号示例大厦十五层一五零八室调解中心第二会议室（东侧电梯上楼）"
    assert len(long_place) > 35

    def values(kind, template, **params):
        return dict(provider_values(kind, Notice("k", PHONE, "", "", template, params),
                                    ("case_number", "session_time", "place")))

    got = values("aliyun", "mediation_session", case_number="TJ1", session_time="2099-12-03 09:30", place=long_place)
    assert len(got["place"]) == 35 and got["place"].endswith("...") and long_place.startswith(got["place"][:-3])
    assert values("tencent", "mediation_session", case_number="TJ1", session_time="2099-12-03 09:30",
                  place=long_place)["place"] == long_place  # within Tencent's 100
    # a meeting link is no provider's variable: the parties find it on their pages
    for link in ("https://meeting.tencent.com/dm/abc123", "www.example.cn/room", "meeting.example.com/j/42"):
        assert values("aliyun", "mediation_session", case_number="TJ1", session_time="x", place=link)["place"] == LINK_PLACE
    assert values("aliyun", "mediation_session", case_number="TJ1", session_time="x",
                  place="腾讯会议 123-456-789")["place"] == "腾讯会议 123-456-789"  # a meeting number is not a link
    # 【】 is the sign's; never empty
    got = values("aliyun", "mediation_session", case_number="TJ1", session_time="", place="【协会】会议室")
    assert got["place"] == "（协会）会议室" and got["session_time"] == "-"
    # a code or a number is never cut: one too long fails the notice, naming the variable
    with pytest.raises(PermanentError, match="case_number is longer than aliyun takes"):
        values("aliyun", "mediation_session", case_number="TJ" + "1" * 40, session_time="x", place="y")


def test_a_newer_notice_without_a_code_goes_as_the_session_notice_or_fails_visibly(provider):
    """An operator upgrading has no template for the moved and cancelled notices yet, and still
    starts (the settings require the codes of ``sms_templates()`` only): a moved session goes out
    as the session notice, with its new date, time and place; a cancellation fails, on /admin."""
    assert "mediation_session_moved" not in sms_templates() and "mediation_session" in sms_templates()
    moved = Notice("outbox:8:k", PHONE, "", "", "mediation_session_moved",
                   {"case_number": "TJ1", "old_time": "2099-12-03 09:30", "session_time": "2099-12-05 14:00",
                    "place": "协会五楼会议室"})
    got = send(provider, "mediation_session=SMS_1005", moved)
    assert got["template"] == "SMS_1005"
    expected = {"case_number": "TJ1", "session_time": "2099-12-05 14:00", "place": "协会五楼会议室"}
    assert got["params"] == (expected if provider.kind == "aliyun" else list(expected.values()))
    got = send(provider, "mediation_session=SMS_1005,mediation_session_moved=SMS_1006", moved)
    assert got["template"] == "SMS_1006"
    assert got["params"] == ({**expected, "old_time": "2099-12-03 09:30"} if provider.kind == "aliyun"
                             else ["TJ1", "2099-12-03 09:30", "2099-12-05 14:00", "协会五楼会议室"])
    cancelled = Notice("outbox:9:k", PHONE, "", "", "mediation_session_cancelled",
                       {"case_number": "TJ1", "session_time": "2099-12-03 09:30", "place": "协会会议室"})
    with pytest.raises(PermanentError, match="no provider template for mediation_session_cancelled"):
        send(provider, "mediation_session=SMS_1005", cancelled)


def test_the_operators_setting_takes_a_list_at_start_and_refuses_a_variable_the_notice_does_not_give():
    """Read where the web and the worker read it (Settings.from_env): an approved template with
    the body and the answer date starts; a misspelt variable stops the start, saying why."""
    from casework.settings import Settings, SettingsError
    from tests.casework.test_sms_providers import AK_ID, AK_SECRET, all_templates, secrets

    listed = all_templates().replace("respondent_invite=SMS_", "respondent_invite=SMS_9") + \
        ",respondent_invite=SMS_9:case_number,respondent_code,body,answer_by"
    started = Settings.from_env(secrets(CHANGTONG_SMS_PROVIDER="aliyun", CHANGTONG_SMS_ACCESS_KEY_ID=AK_ID,
                                        CHANGTONG_SMS_ACCESS_KEY_SECRET=AK_SECRET, CHANGTONG_SMS_SIGN_NAME="畅通",
                                        CHANGTONG_SMS_TEMPLATES=listed))
    assert dict(started.sms_templates)["respondent_invite"] == "SMS_9:case_number,respondent_code,body,answer_by"
    with pytest.raises(SettingsError, match="respondent_invite has no variable 'answer_date'"):
        Settings.from_env(secrets(CHANGTONG_SMS_TEMPLATES="respondent_invite=SMS_3:case_number,respondent_code,answer_date"))
