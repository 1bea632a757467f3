"""我的诉求 (issue 19): a phone number and a fresh SMS code list that number's cases, newest first,
and open each without its query code; never another number's, an unproved one's or an anonymous one."""
import json
import re


from tests.phone_codes import VERIFICATION

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in(client, sms_code, phone="13800138000"):
    page = client.get("/mine").get_data(as_text=True)
    csrf = CSRF.search(page).group(1)
    asked = client.post("/mine", follow_redirects=True, data={"csrf_token": csrf, "phone": phone, "action": "send"})
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and f"{phone[:3]}****{phone[-4:]}" in html
    vid = VERIFICATION.search(html).group(1)
    done = client.post("/mine", data={"csrf_token": csrf, "phone": phone, "verification_id": vid,
                                      "verify_code": sms_code(phone), "action": "check"})
    assert done.status_code == 303 and done.headers["Location"].endswith("/mine")
    return csrf


def test_my_cases_lists_only_this_numbers_proved_cases_and_opens_them(client, db, file_case, sms_code):
    first = file_case(title="第一件投诉会费问题")
    second = file_case(title="第二件投诉会费问题")
    other = file_case(complainant={"name": "李四", "phone": "13900139000"})
    anonymous = file_case(type="report", category="illegal_fees", anonymous=True, complainant=None)
    unproved = client.post("/api/v1/cases", data=json.dumps({  # filed through the API by anyone: not proved
        "type": "complaint", "association": "51100000500009247D", "category": "forced_membership",
        "title": "别人用我的号码提交", "description": "协会要求我公司必须入会，并收取会费两万元，否则不予办理证明。",
        "complainant": {"name": "王五", "phone": "13800138000"}, "privacy_consent": True}),
        content_type="application/json").get_json()["case_number"]
    assert client.get("/mine/" + first.case_number).status_code == 302  # not signed in

    sign_in(client, sms_code)
    html = client.get("/mine").get_data(as_text=True)
    listed = re.findall(r'<span class="code">([A-Z0-9]+)</span>', html)
    assert listed == [second.case_number, first.case_number]  # newest first
    # each case says what it is about: several cases of one type looked alike
    assert re.findall(r'<p class="case-title">([^<]+) <small>', html) == ["第二件投诉会费问题", "第一件投诉会费问题"]
    for hidden in (other.case_number, anonymous.case_number, unproved):
        assert hidden not in html
    # and the page says which are left out, and how to open them
    assert "提交时未验证手机号码的案件（例如经热线提交的）也不会列出，请凭案件编号和查询码查看" in html
    assert "待受理" in html

    opened = client.get("/mine/" + first.case_number)
    assert opened.status_code == 303
    status = client.get(opened.headers["Location"])
    assert status.status_code == 200 and first.case_number in status.get_data(as_text=True)
    # the way back to the list, while this browser is signed in to it
    assert 'id="back-to-my-cases" href="/mine"' in status.get_data(as_text=True).replace(
        'href="/mine" id="back-to-my-cases"', 'id="back-to-my-cases" href="/mine"')
    assert client.get("/mine/" + other.case_number).status_code == 404
    assert client.get(f"/track/{other.case_number}").status_code == 302  # still needs its code
    # signed out of 我的诉求: the case opened stays open, without the way back to a list it no longer shows
    left = client.post("/mine/leave", data={"csrf_token": CSRF.search(client.get("/mine").get_data(as_text=True)).group(1)})
    assert left.status_code == 303
    assert 'id="back-to-my-cases"' not in client.get(opened.headers["Location"]).get_data(as_text=True)


def test_a_wrong_code_does_not_sign_in(client, db, file_case, sms_code):
    file_case()
    csrf = CSRF.search(client.get("/mine").get_data(as_text=True)).group(1)
    html = client.post("/mine", follow_redirects=True, data={"csrf_token": csrf, "phone": "13800138000"}).get_data(as_text=True)
    vid = VERIFICATION.search(html).group(1)
    wrong = "000000" if sms_code() != "000000" else "111111"
    resp = client.post("/mine", follow_redirects=True, data={"csrf_token": csrf, "phone": "13800138000", "verification_id": vid,
                                      "verify_code": wrong, "action": "check"})
    assert resp.status_code == 422 and "还可以再试 4 次" in resp.get_data(as_text=True)
    assert 'id="mine-cases"' not in client.get("/mine").get_data(as_text=True)


def test_home_and_track_link_to_my_cases(client):
    assert 'href="/mine"' in client.get("/").get_data(as_text=True)
    assert 'href="/mine"' in client.get("/track").get_data(as_text=True)


def test_a_number_with_only_a_hotlines_case_is_told_why_none_is_listed(client, sms_code):
    """A case filed by a hotline (through the API, the number not proved) is not listed: the page
    does not say no case was filed, but that none can be listed, and how to open it."""
    filed = client.post("/api/v1/cases", data=json.dumps({
        "type": "complaint", "association": "51100000500009247D", "category": "forced_membership",
        "title": "热线代为提交的投诉", "description": "协会要求我公司必须入会，并收取会费两万元，否则不予办理证明。",
        "complainant": {"name": "王五", "phone": "13700137000"}, "privacy_consent": True}),
        content_type="application/json")
    assert filed.status_code == 201
    sign_in(client, sms_code, phone="13700137000")
    html = client.get("/mine").get_data(as_text=True)
    assert '<p id="mine-none">此手机号码没有可列出的案件。</p>' in html
    assert "请凭案件编号和查询码查看" in html and filed.get_json()["case_number"] not in html
