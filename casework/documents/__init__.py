"""Written notices (书面告知): the PDFs a move gives the complainant.

受理告知书, 不予受理告知书, 转送告知书, 信访处理意见书, 复查意见书 and 复核意见书. The workflow
table says which move makes which (``Move.document``); the machine makes it in the move's
transaction (casework.documents.operations.produce), stores it encrypted in the file store and
records it in ``case_document``. The texts are templates per language an administrator may
edit, with the parts the law requires checked (casework.documents.texts).
"""
