"""Key and pepper rotation (`changtong keys rotate`, `changtong keys check`): data filed under the
old keys and pepper reads with the new keys alone once rotated; an interrupted rotation resumes;
check counts what still needs an _OLD value and exits 1 until nothing does; a query code filed
under the old pepper still opens its case and is re-hashed at that use; nothing printed, logged or
audited holds a value. On SQLite, and on PostgreSQL in the suite's second pass (TEST_DATABASE_URL)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from casework.audit.models import AuditEntry, AuditKind
from casework.cases.models import Attachment, Case, Channel, IntakeReceipt
from casework.intake.drafts import keep_draft, read_draft
from casework.cases.queries import case_for_lookup
from casework.context import Services
from casework.db import Base
from casework.intake.files import CleanFile
from casework.intake.operations import stage_file, submit_case
from casework.intake.validation import validate_submission
from casework.mediation.models import Mediation
from casework.mediation.moves import PARTICULARS_PURPOSE, RESPONDENT_PREFIX, respondent_code_hash
from casework.mediation.operations import respondent_lookup
from casework.notify.models import OutboxChannel, OutboxMessage
from casework.notify.queue import recipient_hash
from casework.privacy import codes, rotation
from casework.privacy.crypto import Cipher
from casework.settings import Settings, new_key
from web.cli import main

NAME, PHONE, EMAIL, REPORTER = "欧阳明月", "13912345678", "ouyang@example.cn", "举报人司马光"
EVIDENCE = b"%PDF-1.4 evidence of the fee demanded"
PARTICULARS = {"applicant_id": "11010519491231002X", "address": "北京市东城区某胡同"}
CASES = ("complaint", "report", "mediation")
SECRETS = (NAME, PHONE, EMAIL, REPORTER, "11010519491231002X", "某胡同")


def b64(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


@pytest.fixture
def keys():
    return {name: new_key() for name in ("pii_old", "pii_new", "id_old", "id_new", "pepper_old", "pepper_new")}


@pytest.fixture
def envs(database_url, tmp_path, keys):
    """The environment before the rotation (old keys only), during it (new keys, old in _OLD)
    and after it (new keys only)."""
    base = {"DATABASE_URL": database_url, "CHANGTONG_DATA_DIR": str(tmp_path), "CHANGTONG_SECRET_KEY": new_key()}
    return {
        "old": base | {"CHANGTONG_PII_KEY": keys["pii_old"], "CHANGTONG_IDENTITY_KEY": keys["id_old"],
                       "CHANGTONG_QUERY_PEPPER": keys["pepper_old"]},
        "during": base | {"CHANGTONG_PII_KEY": keys["pii_new"], "CHANGTONG_PII_KEY_OLD": keys["pii_old"],
                          "CHANGTONG_IDENTITY_KEY": keys["id_new"], "CHANGTONG_IDENTITY_KEY_OLD": keys["id_old"],
                          "CHANGTONG_QUERY_PEPPER": keys["pepper_new"], "CHANGTONG_QUERY_PEPPER_OLD": keys["pepper_old"]},
        "after": base | {"CHANGTONG_PII_KEY": keys["pii_new"], "CHANGTONG_IDENTITY_KEY": keys["id_new"],
                         "CHANGTONG_QUERY_PEPPER": keys["pepper_new"]},
    }


DRAFT_TOKEN = "rotation-test-draft-0123456789abcdef0123456789abcdef0123"


def services_of(env) -> Services:
    return Services.from_settings(Settings.from_env(env, testing=True))


@pytest.fixture
def filed(db, envs, submission_data):
    """Under the old keys and pepper: a complaint with a proved phone, an e-mail, a receipt and an
    evidence file; a named report; a mediation request with particulars and a respondent code.
    Returns {"complaint": (id, number, query code), "report": …, "mediation": …, "respondent": its code}."""
    old = services_of(envs["old"])
    out = {}
    with db.session_scope() as s:
        for kind, data in (
            ("complaint", submission_data(complainant={"name": NAME, "phone": PHONE, "email": EMAIL})),
            ("report", submission_data(type="report", title="协会违规收费", complainant={"name": REPORTER, "phone": PHONE},
                                       description="协会以评比为名违规收取费用，要求企业缴纳赞助费。")),
            ("mediation", submission_data(type="mediation", category="member_contract", claim="请求对方支付货款三十万元。",
                                          association="51100000500009247D", amount="300000",
                                          respondent={"name": "某某零部件有限公司", "kind": "member_company",
                                                      "phone": "13900139000"})),
        ):
            sub, errors = validate_submission(s, data)
            assert not errors, errors
            receipt = submit_case(s, old, sub, channel=Channel.api, phone_verified="sms",
                                  idempotency_key=f"rotation-test-{kind}-0123456789abcdef0123456789")
            out[kind] = (receipt.case_id, receipt.case_number, receipt.query_code)
        stage_file(s, old, None, CleanFile("fee.pdf", "application/pdf", EVIDENCE, EVIDENCE,
                                           hashlib.sha256(EVIDENCE).hexdigest()), case_id=out["complaint"][0])
        # a filing form's draft while its SMS code is on its way (casework.intake.drafts)
        keep_draft(s, old, DRAFT_TOKEN, {"values": {"complainant.name": NAME}}, minutes=60)
        med_id, number, _ = out["mediation"]
        code = codes.new_query_code()
        s.execute(sa.update(Mediation).where(Mediation.case_id == med_id).values(
            particulars_enc=old.cipher.encrypt(json.dumps(PARTICULARS).encode(), PARTICULARS_PURPOSE),
            respondent_code_hash=respondent_code_hash(old.settings.query_pepper, number, code)))
        out["respondent"] = code
    return out


def binary_columns():
    return {f"{t.name}.{c.name}" for t in Base.metadata.tables.values() for c in t.columns
            if isinstance(c.type, sa.LargeBinary)}


def test_every_encrypted_column_of_the_models_is_rotated(db, envs, filed):
    """A new ciphertext column that `keys rotate` does not know would keep an _OLD key needed
    for ever: every binary column of the models is one the rotation looks at."""
    from casework.privacy.masking import PARTY_FIELDS

    tally = rotation.check(db, services_of(envs["during"]))
    seen = {line.split(" [")[0] for line in tally.found} | {
        f"case.{party}_{key}_enc" for party, fields in PARTY_FIELDS.items() for key, _p, _m in fields}
    assert binary_columns() and binary_columns() <= seen, binary_columns() - seen


def run_cli(env, *args):
    result = CliRunner().invoke(main, ["keys", *args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def test_rotate_moves_everything_onto_the_new_keys_and_check_says_when_old_can_go(db, envs, filed, caplog):
    caplog.set_level(logging.DEBUG)
    # with the old keys only: nothing to do
    before = run_cli(envs["old"], "check")
    assert before.exit_code == 0, before.output
    # new keys, the old ones as _OLD: check counts what needs them, per table, column and ring
    pending = run_cli(envs["during"], "check")
    assert pending.exit_code == 1, pending.output
    assert "case.complainant_name_enc [pii]: 2 CHANGTONG_PII_KEY_OLD #1" in pending.output  # complaint, mediation
    assert "case.complainant_name_enc [identity]: 1 CHANGTONG_IDENTITY_KEY_OLD #1" in pending.output  # the report
    assert "files of attachment.storage_key [pii]: 2 CHANGTONG_PII_KEY_OLD #1" in pending.output  # orig and staff
    assert "case.complainant_phone_hash: 3 not under the current pepper" in pending.output
    assert "case.query_code_hash: 3 CHANGTONG_QUERY_PEPPER_OLD #1" in pending.output

    rotated = run_cli(envs["during"], "rotate")
    assert rotated.exit_code == 0, rotated.output
    assert "case:" in rotated.output and "outbox_message:" in rotated.output
    # a second run finds nothing more to rewrite (idempotent)
    again = rotation.rotate(db, services_of(envs["during"]), actor=_cli())
    assert sum(again.rewritten.values()) == 0
    # what is left: the codes, which only their next use re-hashes
    left = run_cli(envs["during"], "check")
    assert left.exit_code == 1
    assert "case.query_code_hash: 3 CHANGTONG_QUERY_PEPPER_OLD #1" in left.output
    assert "mediation.respondent_code_hash: 1 CHANGTONG_QUERY_PEPPER_OLD #1" in left.output
    assert "[pii]" not in left.output and "[identity]" not in left.output and "phone_hash" not in left.output

    # the codes filed under the old pepper open their cases, and are re-hashed at that use
    during = services_of(envs["during"])
    with db.session_scope() as s:
        for kind in ("complaint", "report", "mediation"):
            case_id, number, code = filed[kind]
            assert case_for_lookup(s, during.settings.query_pepper, number, code).id == case_id
        med_id, number, _ = filed["mediation"]
        code = filed["respondent"]
        assert respondent_lookup(s, during.settings.query_pepper, number, code).id == med_id
    with db.session_scope(write=False) as s:
        new_id = codes.pepper_id(base64.urlsafe_b64decode(envs["during"]["CHANGTONG_QUERY_PEPPER"]))
        for kind in ("complaint", "report", "mediation"):
            assert codes.stored_pepper_id(s.get(Case, filed[kind][0]).query_code_hash) == new_id
        assert codes.stored_pepper_id(s.get(Mediation, filed["mediation"][0]).respondent_code_hash) == new_id
    done = run_cli(envs["during"], "check")
    assert done.exit_code == 0, done.output
    assert "Everything is under the current keys and pepper." in done.output

    # the _OLD values removed: every value, file and code reads with the new keys alone
    after = services_of(envs["after"])
    readable_with_new_keys_only(db, after, filed)
    with db.session_scope() as s:
        for kind in ("complaint", "report", "mediation"):
            case_id, number, code = filed[kind]
            assert case_for_lookup(s, after.settings.query_pepper, number, code).id == case_id
        med_id, number, _ = filed["mediation"]
        assert respondent_lookup(s, after.settings.query_pepper, number, filed["respondent"]).id == med_id

    # one audit entry per rotation, counts only; nothing printed, logged or audited holds a value
    with db.session_scope(write=False) as s:
        entries = s.scalars(sa.select(AuditEntry).where(AuditEntry.kind == AuditKind.keys)).all()
        assert entries and entries[0].after["rewritten"]["case"] > 0
        audited = json.dumps([e.after for e in entries], ensure_ascii=False)
    printed = "".join(r.output for r in (before, pending, rotated, left, done)) + caplog.text + audited
    for secret in SECRETS + tuple(filed[k][2] for k in CASES) + (filed["respondent"],) + tuple(envs["during"].values())[3:]:
        assert secret not in printed


def _cli():
    from casework.audit.operations import cli_actor

    return cli_actor("test")


def readable_with_new_keys_only(db, services, filed):
    s_ = services.settings
    pii = Cipher(s_.pii_keys[:1])
    identity = Cipher(s_.identity_keys[:1])
    with db.session_scope(write=False) as s:
        complaint = s.get(Case, filed["complaint"][0])
        report = s.get(Case, filed["report"][0])
        assert pii.decrypt_text(complaint.complainant_name_enc, "case.complainant.name") == NAME
        assert pii.decrypt_text(complaint.complainant_email_enc, "case.complainant.email") == EMAIL
        assert identity.decrypt_text(report.complainant_name_enc, "case.complainant.name") == REPORTER
        med = s.get(Mediation, filed["mediation"][0])
        assert json.loads(pii.decrypt(med.particulars_enc, PARTICULARS_PURPOSE)) == PARTICULARS
        assert pii.decrypt_text(s.get(Case, med.case_id).respondent_phone_enc, "case.respondent.phone") == "13900139000"
        # 我的诉求 and the daily cap find the number under the new pepper
        assert complaint.complainant_phone_hash == recipient_hash(services, OutboxChannel.sms, PHONE)
        messages = s.scalars(sa.select(OutboxMessage).where(OutboxMessage.case_id.in_(
            [filed[k][0] for k in CASES]))).all()
        assert messages
        for m in messages:
            to = pii.decrypt_text(m.recipient_enc, "outbox.recipient")
            assert m.recipient_hash == recipient_hash(services, m.channel, to)
            assert m.payload_enc is None or pii.decrypt(m.payload_enc, "outbox.payload")
        for r in s.scalars(sa.select(IntakeReceipt).where(IntakeReceipt.case_id == complaint.id)):
            assert pii.decrypt_text(r.query_code_enc, f"receipt:{complaint.number}") == filed["complaint"][2]
        assert read_draft(s, services, DRAFT_TOKEN)["values"]["complainant.name"] == NAME
        att = s.scalar(sa.select(Attachment).where(Attachment.case_id == complaint.id))
        store = services.files
        assert store.cipher.decrypt((store.root / att.storage_key[:2] / f"{att.storage_key}.orig").read_bytes(),
                                    f"file:{att.storage_key}.orig") == EVIDENCE
        assert services.files.get(att.storage_key, "staff") == EVIDENCE


def test_an_interrupted_rotation_resumes_where_it_stopped(db, envs, filed, monkeypatch):
    during = services_of(envs["during"])
    calls = []
    real = rotation._Run._update

    def stop_after_one_batch(self, *a):
        if calls:
            raise KeyboardInterrupt  # the operator's Ctrl-C, or a lost connection, between two batches
        calls.append(1)
        return real(self, *a)

    monkeypatch.setattr(rotation._Run, "_update", stop_after_one_batch)
    with pytest.raises(KeyboardInterrupt):
        rotation.rotate(db, during, actor=_cli(), batch=1)
    monkeypatch.undo()
    half = rotation.check(db, during)
    assert half.blocking() > 0
    assert half.found["case.complainant_name_enc [pii]"][rotation.CURRENT] == 1  # the first batch: done
    with db.session_scope(write=False) as s:  # what it did is audited even so
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.kind == AuditKind.keys)) == 1
    second = rotation.rotate(db, during, actor=_cli(), batch=1)
    assert second.rewritten["case"] > 0 and second.found["case.complainant_name_enc [pii]"][rotation.CURRENT] == 1
    readable = rotation.check(db, during)
    assert readable.blocking() == sum(readable.open_codes.values()) == 4  # only the 3 query and 1 respondent codes wait


def test_a_file_erased_while_it_is_rotated_is_not_brought_back(db, envs, filed, monkeypatch):
    """Retention erases a case's files (row marked, then the file deleted after the commit) while a
    rotation has the file re-encrypted beside it: the rotation finds the row erased and leaves it."""
    during = services_of(envs["during"])
    real = rotation._Run._swap

    def retention_first(self, t, pk, key, live, pending):
        if t.name == "attachment":
            with db.session_scope() as s:
                att = s.scalar(sa.select(Attachment).where(Attachment.case_id == filed["complaint"][0]))
                att.erased_at, att.filename = during.clock(), "-"
                path = during.files.root / att.storage_key[:2]
            for p in path.glob("*"):
                if not p.name.endswith(".rotate.tmp"):
                    p.unlink()
        return real(self, t, pk, key, live, pending)

    monkeypatch.setattr(rotation._Run, "_swap", retention_first)
    tally = rotation.rotate(db, during, actor=_cli())
    with db.session_scope(write=False) as s:
        key = s.scalar(sa.select(Attachment.storage_key).where(Attachment.case_id == filed["complaint"][0]))
    assert not list((during.files.root / key[:2]).glob(f"{key}*"))  # neither the file nor a temporary one
    assert tally.changed_meanwhile["attachment files"] == 2


def test_an_old_pepper_that_repeats_the_current_one_is_refused(envs):
    from casework.settings import SettingsError

    env = envs["during"] | {"CHANGTONG_QUERY_PEPPER_OLD": envs["during"]["CHANGTONG_QUERY_PEPPER"]}
    with pytest.raises(SettingsError, match="CHANGTONG_QUERY_PEPPER_OLD"):
        Settings.from_env(env)


def test_a_legacy_code_hash_is_stamped_with_the_only_pepper_and_renewed_at_its_use(db, envs, filed):
    """A hash written before hashes named their pepper (64 hex digits): with one pepper configured
    `keys rotate` stamps it (no other pepper could open it); with an old one configured it is
    counted as unknown until its code is used, which rewrites it under the current pepper."""
    old = services_of(envs["old"])
    case_id, number, code = filed["complaint"]
    raw = hmac.new(base64.urlsafe_b64decode(envs["old"]["CHANGTONG_QUERY_PEPPER"]),  # as it was stored
                   f"{number}:{codes.normalize(code)}".encode(), hashlib.sha256).hexdigest()
    with db.session_scope() as s:
        s.execute(sa.update(Case).where(Case.id == case_id).values(query_code_hash=raw))
    during = services_of(envs["during"])
    assert rotation.check(db, during).found["case.query_code_hash"][rotation.LEGACY] == 1
    with db.session_scope() as s:
        assert case_for_lookup(s, during.settings.query_pepper, number, code).id == case_id
    with db.session_scope(write=False) as s:
        assert s.get(Case, case_id).query_code_hash == codes.hash_code(during.settings.query_pepper, number, code)
    with db.session_scope() as s:
        s.execute(sa.update(Case).where(Case.id == case_id).values(query_code_hash=raw))
    rotation.rotate(db, old, actor=_cli())
    with db.session_scope(write=False) as s:
        assert codes.stored_pepper_id(s.get(Case, case_id).query_code_hash) == codes.pepper_id(old.settings.query_pepper)
        assert case_for_lookup(s, old.settings.query_pepper, number, code).id == case_id


def test_a_value_a_request_changes_during_the_rotation_is_not_overwritten(db, envs, filed, monkeypatch):
    """Between the rotation's read of a batch and its write, a handler corrects the complainant's
    e-mail (written under the current key): the rotation's UPDATE matches the value it read, finds
    it changed and leaves the correction; nothing of the old value comes back."""
    during = services_of(envs["during"])
    case_id = filed["complaint"][0]
    real = rotation._Run._update

    def a_request_first(self, table, pk, updates):
        if table.name == "case":
            with db.session_scope() as s:
                s.execute(sa.update(Case.__table__).where(Case.__table__.c.id == case_id).values(
                    complainant_email_enc=during.cipher.encrypt_text("new@example.cn", "case.complainant.email")))
        return real(self, table, pk, updates)

    monkeypatch.setattr(rotation._Run, "_update", a_request_first)
    tally = rotation.rotate(db, during, actor=_cli())
    assert tally.changed_meanwhile["case"] == 1
    with db.session_scope(write=False) as s:
        case = s.get(Case, case_id)
        assert during.cipher.decrypt_text(case.complainant_email_enc, "case.complainant.email") == "new@example.cn"
        assert during.cipher.key_index(case.complainant_name_enc, "case.complainant.name") == 1  # left for the next run
    monkeypatch.undo()
    rotation.rotate(db, during, actor=_cli())
    assert rotation.check(db, during).blocking() == 4  # the codes alone
