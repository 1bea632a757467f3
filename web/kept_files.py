"""Files kept across a refused send of a move that takes files (the status page's material and
evidence, the desk's moves with documents).

A move sent back with errors (a text too short, one file that is no image) kept no file: a
browser cannot send them again. The files that passed the checks are staged, as the filing
form's are (casework.intake.operations.stage_file, swept when abandoned), under a token per
case and move in this browser's signed session; the form lists them ticked, and the next send
takes those still ticked with any new ones. Nothing is deleted before the move's outcome is
known: the unticked ones go with the refusal or the move, the ticked ones with the move (the
move stores them again, cleaned, as its own).
"""
from __future__ import annotations

import secrets

from flask import request, session

from casework.intake import operations as intake_ops
from casework.intake.files import Upload, UploadBudget, UploadRejected, inspect_upload
from casework.workflow.spec import Kind, Move
from web.requestdb import db_session, keep_on_error, services

KEPT = "kept_files"  # the signed session's key: {"<scope>:<move>": token}, one case's at a time


def has_files(move: Move) -> bool:
    return any(f.kind is Kind.files for f in move.fields)


def _files_field(move: Move) -> str:
    return next(f.name for f in move.fields if f.kind is Kind.files)


def _token(scope: str, move: str, *, create: bool = False) -> str | None:
    tokens = dict(session.get(KEPT) or {})
    key = f"{scope}:{move}"
    if key not in tokens and create:
        tokens = {k: v for k, v in tokens.items() if k.startswith(scope + ":")}
        tokens[key] = secrets.token_urlsafe(24)
        session[KEPT] = tokens
    return tokens.get(key)


def kept(scope: str, moves) -> dict[str, list]:
    """The staged files of these moves (``Move`` rows) under ``scope`` (a case, as one page sees
    it), by move name, for the forms' file fields. No query without a token."""
    out = {}
    for move in moves:
        token = _token(scope, move.name) if has_files(move) else None
        if token:
            out[move.name] = intake_ops.staged_files(db_session(), token)
    return out


class Send:
    """One send of a move with files: the kept files still ticked go first into ``values``;
    ``refused()`` keeps the new ones that pass the checks for the next try, ``done()`` lets the
    staged copies go once the move stored its own."""

    def __init__(self, scope: str, move: Move, values: dict):
        self.scope, self.move = scope, move
        self.active = has_files(move)
        self.new: list[Upload] = []
        self.taken: list[int] = []
        self.unticked: list[int] = []
        if not self.active:
            return
        name = _files_field(move)
        self.new = list(values.get(name) or [])
        token = _token(scope, move.name)
        if token:
            ticked = set(request.form.getlist("keep_file"))
            staged = intake_ops.staged_files(db_session(), token)
            taken = [a for a in staged if str(a.id) in ticked]
            values[name] = [Upload(a.filename, services().files.get(a.storage_key, "orig")) for a in taken] + self.new
            self.taken = [a.id for a in taken]
            self.unticked = [a.id for a in staged if str(a.id) not in ticked]

    def _unstage(self, ids: list[int]) -> None:
        token = _token(self.scope, self.move.name)
        for att_id in ids:
            intake_ops.unstage_file(db_session(), services(), token, att_id)

    def refused(self) -> None:
        """Call after the refusal's changes were discarded, right before answering it."""
        if not (self.unticked or self.new):
            return
        keep_on_error()  # the refusal commits what it stages (or unticks) for the next try
        self._unstage(self.unticked)
        svc = services()
        budget, count = UploadBudget(), len(self.taken)
        for upload in self.new:
            if count >= svc.settings.max_files:
                break
            try:
                clean = inspect_upload(upload.filename, upload.data, max_bytes=svc.settings.max_file_bytes,
                                       budget=budget)
            except UploadRejected:
                continue  # the error beside the field names it
            intake_ops.stage_file(db_session(), svc, _token(self.scope, self.move.name, create=True), clean)
            count += 1

    def done(self) -> None:
        """The move stored the ticked files as its own: the staged copies go, the unticked too."""
        self._unstage(self.taken + self.unticked)
