"""Moving stored data off retired keys: `changtong keys rotate` and `changtong keys check`.

One pass over everything a key or the query pepper protects, in batches ordered by primary key:

- every ciphertext column (the case's parties, ``casework.privacy.masking.PARTY_FIELDS``: the
  complainant's and agent's under the identity ring on a report, the rest under the PII ring;
  the receipt's query code; a filing form's draft; the outbox's recipient and payload; the
  mediation's particulars). A test checks that this covers every binary column of the models;
- the keyed hashes that can be made again from what we decrypt (the case's phone hash for
  我的诉求 and duplicates, the outbox's recipient hash for the daily cap);
- the stored hashes of query codes and respondent codes, which cannot (the code is not kept):
  they are counted per pepper (casework.privacy.codes: a hash names its pepper's id), renewed
  at their next use, and a legacy hash is stamped with the pepper's id while only one pepper is
  configured (under any other it opened nothing anyway);
- every file the database names (casework.backup.dump.FILE_COLUMNS) and the development notice
  files.

``check`` only counts. ``rotate`` reads a batch in one short read transaction, re-encrypts
outside any transaction, and writes in one short write transaction each UPDATE of which
matches the values it read (a value a request changed meanwhile is left alone: it was written
under the current key anyway). A value already under the current key is not rewritten, so a run
can stop anywhere and be run again (it resumes by skipping what is done). A file is re-encrypted
into a temporary file beside it and moved over it inside a write transaction that finds its row
still naming it and not erased (retention and the staged-file sweep delete a file only after
the transaction that lets go of its row commits): an erased file is never brought back.

Nothing here prints, logs or returns a value: only counts, table and column names, and the
names of the settings a key comes from.
"""
from __future__ import annotations

import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import sqlalchemy as sa

from casework.cases.models import Case, CaseType, IntakeReceipt
from casework.context import Services
from casework.db import Base, Database
from casework.privacy import codes
from casework.privacy.crypto import Cipher, DecryptionError
from casework.privacy.masking import PARTY_FIELDS

BATCH = 200
FILE_BATCH = 20
CURRENT = "current"
NO_KEY = "no configured key"  # a value none of the ring's keys opens
LEGACY = "pepper unknown (hashed before peppers were named)"
UNKNOWN_PEPPER = "a pepper not configured"
STALE = "not under the current pepper"
MISSING = "missing on disk"  # a file the database names that is not there (backup create says so too)
CODE_LINES = ("case.query_code_hash", "mediation.respondent_code_hash")


@dataclass
class Tally:
    """What one run found, per line ("table.column [ring]") and what the value is under (a key's or
    pepper's setting name, CURRENT, NO_KEY …), and what it rewrote. Counts and names only."""

    found: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    rewritten: Counter = field(default_factory=Counter)  # per table: values, hashes and files
    changed_meanwhile: Counter = field(default_factory=Counter)
    # query and respondent codes under a retired (or unknown) pepper, on cases not finished yet
    open_codes: Counter = field(default_factory=Counter)

    def not_current(self) -> dict[str, Counter]:
        """The lines with values not under the current key or pepper, by what they are under."""
        return {line: Counter({k: n for k, n in c.items() if k != CURRENT and n})
                for line, c in sorted(self.found.items()) if any(k != CURRENT and n for k, n in c.items())}

    def blocking(self) -> int:
        """How many values still keep an _OLD setting needed (or open with no key at all): every
        ciphertext and re-makeable hash not under the current key or pepper; of the codes, those
        of cases not finished (a finished case's code under a retired pepper is counted, but
        dropping the pepper only stops that code opening a finished case)."""
        return sum(n for line, c in self.found.items() if line not in CODE_LINES
                   for k, n in c.items() if k not in (CURRENT, MISSING)) + sum(self.open_codes.values())


class _Run:
    def __init__(self, db: Database, services: Services, *, write: bool, batch: int = BATCH,
                 say: Callable[[str], None] | None = None):
        self.db, self.services, self.write, self.batch = db, services, write, batch
        self.say = say or (lambda _msg: None)
        s = services.settings
        rings = s.keyrings()
        self.rings = {"pii": (services.cipher, [n for n, _k in rings["pii"]]),
                      "identity": (services.identity_cipher, [n for n, _k in rings["identity"]])}
        self.peppers = {codes.pepper_id(p): name for name, p in s.query_peppers}
        self.current_pepper = codes.peppers(s.query_pepper)[0]
        self.tally = Tally()

    # -- one value -------------------------------------------------------------------------
    def value(self, line: str, ring: str, blob: bytes | None, purpose: str, changes: dict, column: str) -> None:
        if blob is None:
            return
        cipher, names = self.rings[ring]
        index, fresh = cipher.reencrypt(blob, purpose)
        self.tally.found[f"{line} [{ring}]"][NO_KEY if index is None else names[index] if index else CURRENT] += 1
        if fresh is not None:
            changes[column] = (blob, fresh)

    def opened(self, ring: str, blob: bytes | None, purpose: str) -> str | None:
        """The text of a value, to make its keyed hash again; None when nothing opens it."""
        try:
            return self.rings[ring][0].decrypt_text(blob, purpose)
        except DecryptionError:
            return None

    def keyed_hash(self, line: str, stored: str | None, fresh: str | None, changes: dict, column: str) -> None:
        """A keyed hash we can make again (``fresh``, None when its value does not open)."""
        if stored is None or fresh is None:
            return
        self.tally.found[line][CURRENT if fresh == stored else STALE] += 1
        if fresh != stored:
            changes[column] = (stored, fresh)

    def code_hash(self, line: str, stored: str | None, finished: bool, changes: dict, column: str) -> None:
        """A code's stored hash: counted by the pepper it names (renewed at the code's use)."""
        if stored is None:
            return
        pid = codes.stored_pepper_id(stored)
        if pid is None and len(self.peppers) == 1:  # legacy, and only one pepper could have made it
            changes[column] = (stored, codes.stamp_legacy(self.current_pepper, stored))
            pid = codes.pepper_id(self.current_pepper)
        under = (CURRENT if pid == codes.pepper_id(self.current_pepper) else LEGACY if pid is None
                 else self.peppers.get(pid, UNKNOWN_PEPPER))
        self.tally.found[line][under] += 1
        if under != CURRENT and not finished:
            self.tally.open_codes[line] += 1

    # -- the tables ------------------------------------------------------------------------
    def batches(self, query: sa.Select, pk: sa.Column, size: int):
        """The rows of ``query`` (its first column ``pk``) in batches ordered by it, each read in a
        short transaction of its own; a row added meanwhile is met when its key comes."""
        after = None
        while True:
            q = query.order_by(pk).limit(size)
            if after is not None:
                q = q.where(pk > after)
            with self.db.session_scope(write=False) as s:
                batch = s.execute(q).all()
            if not batch:
                return
            after = batch[-1][0]
            yield batch

    def rows(self, table: sa.Table, pk: sa.Column, query: sa.Select, examine) -> None:
        looked = 0
        for batch in self.batches(query, pk, self.batch):
            looked += len(batch)
            updates = []
            for row in batch:
                changes: dict = {}
                examine(row, changes)
                if changes:
                    updates.append((row[0], changes))
            if self.write and updates:
                self._update(table, pk, updates)
        self.say(f"{table.name}: {looked} rows looked at"
                 + (f", {self.tally.rewritten[table.name]} values and hashes rewritten" if self.write else ""))

    def _update(self, table: sa.Table, pk: sa.Column, updates) -> None:
        keep = {c.name: c for c in table.c if c.onupdate is not None}  # updated_at: nothing changed
        with self.db.session_scope() as s:
            for key, changes in updates:
                stmt = (sa.update(table).where(pk == key, *(table.c[c] == old for c, (old, _new) in changes.items()))
                        .values({c: new for c, (_old, new) in changes.items()} | keep))
                if s.execute(stmt).rowcount:
                    self.tally.rewritten[table.name] += len(changes)
                else:
                    self.tally.changed_meanwhile[table.name] += 1

    def cases(self) -> None:
        from casework.verify.service import phone_hash
        from casework.workflow.states import FINISHED

        t = Case.__table__
        party_cols = [(party, f"{party}_{key}_enc", purpose)
                      for party, fields in PARTY_FIELDS.items() for key, purpose, _mask in fields]
        cols = [t.c.id, t.c.type, t.c.state, t.c.query_code_hash, t.c.complainant_phone_hash,
                *(t.c[c] for _p, c, _pu in party_cols)]

        def examine(row, changes):
            m = row._mapping
            report = m["type"] in (CaseType.report, CaseType.report.value)
            for party, col, purpose in party_cols:
                ring = "identity" if report and party in ("complainant", "agent") else "pii"
                self.value(f"case.{col}", ring, m[col], purpose, changes, col)
            if m["complainant_phone_hash"] is not None:
                phone = self.opened("identity" if report else "pii", m["complainant_phone_enc"], "case.complainant.phone")
                self.keyed_hash("case.complainant_phone_hash", m["complainant_phone_hash"],
                                phone_hash(self.services, phone) if phone else None, changes, "complainant_phone_hash")
            self.code_hash("case.query_code_hash", m["query_code_hash"], m["state"] in FINISHED, changes,
                           "query_code_hash")

        self.rows(t, t.c.id, sa.select(*cols), examine)

    def receipts(self) -> None:
        t = IntakeReceipt.__table__
        q = (sa.select(t.c.idempotency_key, Case.number, t.c.query_code_enc)
             .join(Case, Case.id == t.c.case_id).where(t.c.query_code_enc.is_not(None)))
        self.rows(t, t.c.idempotency_key, q, lambda row, ch: self.value(
            "intake_receipt.query_code_enc", "pii", row[2], f"receipt:{row[1]}", ch, "query_code_enc"))

    def drafts(self) -> None:
        """A filing form's draft lives the SMS code's minutes (casework.intake.drafts); one met
        here is re-encrypted like any value, so no _OLD key waits on it."""
        from casework.intake.drafts import IntakeDraft, purpose

        t = IntakeDraft.__table__
        self.rows(t, t.c.token, sa.select(t.c.token, t.c.draft_enc), lambda row, ch: self.value(
            "intake_draft.draft_enc", "pii", row[1], purpose(row[0]), ch, "draft_enc"))

    def outbox(self) -> None:
        from casework.notify.models import OutboxChannel, OutboxMessage
        from casework.notify.queue import recipient_hash

        t = OutboxMessage.__table__

        def examine(row, changes):
            _id, channel, recipient, payload, stored = row
            self.value("outbox_message.recipient_enc", "pii", recipient, "outbox.recipient", changes, "recipient_enc")
            self.value("outbox_message.payload_enc", "pii", payload, "outbox.payload", changes, "payload_enc")
            if stored is not None:
                value = self.opened("pii", recipient, "outbox.recipient")
                self.keyed_hash("outbox_message.recipient_hash", stored,
                                recipient_hash(self.services, OutboxChannel(channel), value) if value else None,
                                changes, "recipient_hash")

        q = sa.select(t.c.id, t.c.channel, t.c.recipient_enc, t.c.payload_enc, t.c.recipient_hash).where(
            t.c.recipient_enc.is_not(None) | t.c.payload_enc.is_not(None))
        self.rows(t, t.c.id, q, examine)

    def mediations(self) -> None:
        from casework.mediation.models import Mediation
        from casework.mediation.moves import PARTICULARS_PURPOSE
        from casework.workflow.states import FINISHED

        t = Mediation.__table__

        def examine(row, changes):
            _id, particulars, code_hash, state = row
            self.value("mediation.particulars_enc", "pii", particulars, PARTICULARS_PURPOSE, changes, "particulars_enc")
            self.code_hash("mediation.respondent_code_hash", code_hash, state in FINISHED, changes,
                           "respondent_code_hash")

        q = (sa.select(t.c.case_id, t.c.particulars_enc, t.c.respondent_code_hash, Case.state)
             .join(Case, Case.id == t.c.case_id))
        self.rows(t, t.c.case_id, q, examine)

    # -- files -----------------------------------------------------------------------------
    def files(self) -> None:
        import casework.models  # noqa: F401  (every table FILE_COLUMNS names is in the metadata)
        from casework.backup.archive import upload_path
        from casework.backup.dump import FILE_COLUMNS

        cipher, names = self.rings["pii"]
        root = self.services.settings.upload_dir
        for name, (key_col, variants) in FILE_COLUMNS.items():
            t = Base.metadata.tables[name]
            pk, key = t.primary_key.columns.values()[0], t.c[key_col]
            live = [key.is_not(None)] + ([t.c.erased_at.is_(None)] if "erased_at" in t.c else [])
            looked, what = 0, f"files of {name}.{key_col}"
            line = f"{what} [pii]"
            for batch in self.batches(sa.select(pk, key).where(*live), pk, FILE_BATCH):
                pending: list[tuple[object, str, Path, Path]] = []
                try:
                    for row_id, storage_key in batch:
                        for variant in variants:
                            looked += 1
                            path = upload_path(root, storage_key, variant)
                            fresh = self._file(line, cipher, names, path, f"file:{storage_key}.{variant}")
                            if fresh is not None:
                                pending.append((row_id, storage_key, path, fresh))
                    if pending:
                        self._swap(t, pk, key, live, pending)
                finally:
                    for *_rest, tmp in pending:
                        tmp.unlink(missing_ok=True)
            self.say(f"{what}: {looked} looked at"
                     + (f", {self.tally.rewritten[name + ' files']} re-encrypted" if self.write else ""))

    def _file(self, line: str, cipher: Cipher, names: list[str], path: Path, purpose: str) -> Path | None:
        """Count one file; in a rotation, its re-encryption written beside it (the temporary path)."""
        try:
            with open(path, "rb") as fh:
                head = fh.read(2)
                if cipher.current_by_header(head):
                    self.tally.found[line][CURRENT] += 1
                    return None
                blob = head + fh.read()
        except FileNotFoundError:
            self.tally.found[line][MISSING] += 1
            return None
        index, fresh = cipher.reencrypt(blob, purpose)
        self.tally.found[line][NO_KEY if index is None else names[index] if index else CURRENT] += 1
        if fresh is None or not self.write:
            return None
        tmp = path.with_name(path.name + ".rotate.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(fresh)
        return tmp

    def _swap(self, t: sa.Table, pk, key, live, pending) -> None:
        """Move each re-encrypted file over its original while its row is held (FOR SHARE on
        PostgreSQL; SQLite's write lock) and still names it, not erased."""
        with self.db.session_scope() as s:
            held = set(s.execute(sa.select(pk, key).where(pk.in_({p[0] for p in pending}), *live)
                                 .with_for_update(read=True)).all())
            for row_id, storage_key, path, tmp in pending:
                if (row_id, storage_key) in held and path.exists():
                    os.replace(tmp, path)
                    self.tally.rewritten[t.name + " files"] += 1
                else:
                    self.tally.changed_meanwhile[t.name + " files"] += 1

    def notice_files(self) -> None:
        """The development notice files (CHANGTONG_DEV_NOTICE_FILES), kept a week: their time is
        kept too, so the retention sweep deletes them when it would have."""
        from casework.notify.channels import FileSink

        cipher, names = self.rings["pii"]
        line, looked = "notice files [pii]", 0
        for path in sorted(self.services.settings.notice_dir.glob(f"*/*{FileSink.SUFFIX}")):
            looked += 1
            tmp = self._file(line, cipher, names, path, FileSink.PURPOSE)
            if tmp is None:
                continue
            try:
                st = path.stat()
                os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
                os.replace(tmp, path)
                self.tally.rewritten["notice files"] += 1
            except FileNotFoundError:  # deleted meanwhile (a week old): not brought back
                tmp.unlink(missing_ok=True)
        if looked:
            self.say(f"notice files: {looked} looked at"
                     + (f", {self.tally.rewritten['notice files']} re-encrypted" if self.write else ""))

    def run(self) -> Tally:
        for step in (self.cases, self.receipts, self.drafts, self.outbox, self.mediations, self.files, self.notice_files):
            step()
        return self.tally


def check(db: Database, services: Services, *, batch: int = BATCH, say=None) -> Tally:
    """Count, per column and key ring, what each value is under; nothing is written."""
    return _Run(db, services, write=False, batch=batch, say=say).run()


def rotate(db: Database, services: Services, *, actor, batch: int = BATCH, say=None) -> Tally:
    """Re-encrypt under the current keys and re-hash under the current pepper what can be, then
    write one audit entry (counts only; also when interrupted, for what was done)."""
    from casework.audit.operations import Change, record

    run = _Run(db, services, write=True, batch=batch, say=say)
    try:
        run.run()
    finally:
        if run.tally.rewritten or run.tally.changed_meanwhile:
            with db.session_scope() as s:
                names = services.settings.keyrings()
                record(s, actor, Change("keys", "updated", "rotate", None, {
                    "rewritten": dict(run.tally.rewritten), "changed_meanwhile": dict(run.tally.changed_meanwhile),
                    "current": {"pii": names["pii"][0][0], "identity": names["identity"][0][0],
                                "pepper": services.settings.query_peppers[0][0]}}))
    return run.tally
